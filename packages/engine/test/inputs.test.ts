// Image inputs: decoded once into a uint8 store through the on-disk decoded-image cache; a changed file is
// decoded again; batches are float32 0..255 aligned with the samples.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tensorFitData, type Dataset, type Sample } from '@unified-ad/core';
import { loadImageStore } from '../src';
import { selectRows } from '../src/inputs';

describe('loadImageStore', () => {
  let dir: string;
  const prevCache = process.env.UNIFIED_AD_CACHE;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uniad-img-'));
    process.env.UNIFIED_AD_CACHE = path.join(dir, 'cache');
  });
  afterAll(() => {
    if (prevCache === undefined) delete process.env.UNIFIED_AD_CACHE;
    else process.env.UNIFIED_AD_CACHE = prevCache;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const fake = (files: string[]) => {
    let decodes = 0;
    const samples: Sample[] = files.map((f, i) => ({ id: `x/${i}`, className: 'x', split: 'train', label: 0, defectType: 'good', imagePath: f }));
    const ds: Dataset = {
      name: 'fake', samples, classes: ['x'],
      loadImage: async (s, size) => {
        decodes++;
        const seedByte = fs.readFileSync(s.imagePath)[0]!;
        return Float32Array.from({ length: size * size * 3 }, (_, j) => (seedByte + j) % 256 + 0.4);
      },
      loadMask: async (_s, size) => new Float32Array(size * size),
    };
    return { ds, samples, decodes: () => decodes };
  };

  it('decodes each image once, then reads the cache; a changed file is decoded again', async () => {
    const files = [0, 1, 2].map((i) => { const f = path.join(dir, `${i}.img`); fs.writeFileSync(f, Buffer.from([10 * i + 1])); return f; });
    const a = fake(files);
    const s1 = await loadImageStore(a.ds, a.samples, 8);
    expect(a.decodes()).toBe(3);
    expect(s1.data.length).toBe(3 * 8 * 8 * 3);
    expect(s1.data[0]).toBe(1); // rounded from 1.4
    const b = fake(files);
    const s2 = await loadImageStore(b.ds, b.samples, 8);
    expect(b.decodes()).toBe(0);
    expect(Buffer.from(s2.data).equals(Buffer.from(s1.data))).toBe(true);
    fs.writeFileSync(files[1]!, Buffer.from([99, 0]));
    const c = fake(files);
    const s3 = await loadImageStore(c.ds, c.samples, 8);
    expect(c.decodes()).toBe(1);
    expect(s3.data[8 * 8 * 3]).toBe(99);
    // another size is another cache entry
    const d = fake(files);
    await loadImageStore(d.ds, d.samples, 4);
    expect(d.decodes()).toBe(3);
  });

  it('FitData batches images as float32 [k, S, S, 3] in the order asked for', async () => {
    const files = [0, 1].map((i) => { const f = path.join(dir, `b${i}.img`); fs.writeFileSync(f, Buffer.from([50 * i])); return f; });
    const a = fake(files);
    const store = await loadImageStore(a.ds, a.samples, 4);
    const data = tensorFitData(a.samples, { images: store });
    const t = data.batch([1, 0]).images!;
    expect(t.shape).toEqual([2, 4, 4, 3]);
    expect(t.dtype).toBe('float32');
    const v = t.dataSync();
    expect(v[0]).toBe(50);
    expect(v[48]).toBe(0);
    t.dispose();
    expect(data.image(1)[0]).toBe(50);
  });
});

describe('selectRows', () => {
  it('images: a contiguous run of rows is a view of the store (no copy); other rows are copied; both give the same bytes', () => {
    const size = 2, b = size * size * 3;
    const data = Uint8Array.from({ length: 5 * b }, (_, i) => i % 251);
    const set = { images: { size, data } };
    const run = selectRows(set, [1, 2, 3]).images!;
    expect(run.data.buffer).toBe(data.buffer); // a view
    expect(Array.from(run.data)).toEqual(Array.from(data.subarray(b, 4 * b)));
    const picked = selectRows(set, [4, 0]).images!;
    expect(picked.data.buffer).not.toBe(data.buffer); // a copy
    expect(Array.from(picked.data)).toEqual([...data.subarray(4 * b, 5 * b), ...data.subarray(0, b)]);
    expect(selectRows(set, []).images!.data.length).toBe(0);
  });
});
