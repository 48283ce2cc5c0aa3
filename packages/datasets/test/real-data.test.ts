// Real data from ../shared/data: MVTec AD bottle and Magnetic Tile, against Pillow/numpy reference values
// (golden/make_real_golden.py). Skipped, with a note, where ../shared is absent.
import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sharedPath, type Dataset, type Sample } from '@unified-ad/core';
import { combineDatasets, loadDataset, loadMagneticTile, loadMvtec, hasPixelLabels, loadImageBatch } from '../src';

const data = sharedPath('data');
if (!data) console.warn('real-data.test.ts: skipped — ../shared/data (MVTec AD bottle, Magnetic Tile) is not present on this machine');

interface Golden {
  size: number;
  images: { dataset: string; rel: string; means: number[]; grid: string }[];
  masks: { dataset: string; id: string; positives224: number; positivesNative: number; bits: string }[];
  magneticTile: {
    free: number;
    trainFirst: string[];
    testNormal: string[];
    testNormalLast: string;
    defects: Record<string, number>;
    emptyMasksNative: string[];
  };
}
const golden: Golden = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden', 'real_golden.json'), 'utf8'));

function counts(samples: Sample[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const s of samples) c[`${s.split}/${s.defectType}/${s.label}`] = (c[`${s.split}/${s.defectType}/${s.label}`] ?? 0) + 1;
  return c;
}

function unpackBits(b64: string, n: number): number[] {
  const bytes = Buffer.from(b64, 'base64');
  return Array.from({ length: n }, (_, i) => (bytes[i >> 3] >> (7 - (i & 7))) & 1);
}

/** Compares a loaded 224 image with the golden channel means and every-7th-pixel grid. */
function compareImage(img: Float32Array, g: Golden['images'][number], tol: { max: number; mean: number }) {
  const S = golden.size;
  const grid = Buffer.from(g.grid, 'base64');
  let maxD = 0, sumD = 0, k = 0;
  for (let y = 3; y < S; y += 7)
    for (let x = 3; x < S; x += 7)
      for (let c = 0; c < 3; c++, k++) {
        const d = Math.abs(img[(y * S + x) * 3 + c] - grid[k]);
        maxD = Math.max(maxD, d);
        sumD += d;
      }
  expect(k).toBe(grid.length);
  expect(maxD).toBeLessThanOrEqual(tol.max);
  expect(sumD / k).toBeLessThan(tol.mean);
  for (let c = 0; c < 3; c++) {
    let m = 0;
    for (let i = c; i < img.length; i += 3) m += img[i];
    expect(Math.abs(m / (S * S) - g.means[c])).toBeLessThan(tol.mean);
  }
}

describe.skipIf(!data)('MVTec AD bottle (real)', () => {
  let ds: Dataset;
  beforeAll(async () => {
    ds = await loadMvtec(path.join(data!, 'mvtec-ad'), { categories: ['bottle'] });
  });

  it('has the published counts, labels and mask paths', () => {
    expect(ds.name).toBe('mvtec-ad');
    expect(ds.classes).toEqual(['bottle']);
    expect(counts(ds.samples)).toEqual({
      'train/good/0': 209,
      'test/good/0': 20,
      'test/broken_large/1': 20,
      'test/broken_small/1': 22,
      'test/contamination/1': 21,
    });
    expect(new Set(ds.samples.map((s) => s.id)).size).toBe(ds.samples.length);
    for (const s of ds.samples) {
      expect(s.maskPath !== undefined).toBe(s.label === 1);
      if (s.maskPath) expect(fs.existsSync(s.maskPath)).toBe(true);
    }
    expect(hasPixelLabels(ds)).toBe(true);
    expect(ds.samples[0].id).toBe('bottle/train/good/000');
  });

  it('pointing at the category folder or the root gives the same samples; loadDataset agrees', async () => {
    const direct = await loadMvtec(path.join(data!, 'mvtec-ad', 'bottle'), { check: 'none' });
    expect(direct.samples.map((s) => s.id)).toEqual(ds.samples.map((s) => s.id));
    const viaSpec = await loadDataset({ type: 'mvtec', root: path.join(data!, 'mvtec-ad'), check: 'none' });
    expect(viaSpec.classes).toEqual(['bottle']);
    expect(viaSpec.samples.length).toBe(292);
  });

  it('images at 224 match Pillow bilinear; masks match nearest + binarise exactly', async () => {
    for (const g of golden.images.filter((x) => x.dataset === 'mvtec')) {
      const s = ds.samples.find((x) => x.imagePath === path.join(data!, 'mvtec-ad', 'bottle', g.rel))!;
      const img = await ds.loadImage(s, 224);
      expect(img.length).toBe(224 * 224 * 3);
      compareImage(img, g, { max: 1.01, mean: 0.35 });
    }
    for (const g of golden.masks.filter((x) => x.dataset === 'mvtec')) {
      const s = ds.samples.find((x) => x.id === g.id)!;
      const m = await ds.loadMask(s, 224);
      expect(m.reduce((a, b) => a + b, 0)).toBe(g.positives224);
      expect(Array.from(m)).toEqual(unpackBits(g.bits, 224 * 224));
    }
    const good = ds.samples.find((x) => x.split === 'test' && x.label === 0)!;
    expect((await ds.loadMask(good, 224)).every((v) => v === 0)).toBe(true);
  });

  it('loads at a reasonable speed (ms per image at 224 reported)', async () => {
    const test = ds.samples.filter((s) => s.split === 'test');
    const t0 = performance.now();
    for (const s of test.slice(0, 40)) await ds.loadImage(s, 224);
    const seq = (performance.now() - t0) / 40;
    const t1 = performance.now();
    const batch = await loadImageBatch(ds, test, 224, 4);
    const par = (performance.now() - t1) / test.length;
    console.log(`bottle 320px -> 224: ${seq.toFixed(1)} ms/image sequential, ${par.toFixed(1)} ms/image with 4 in flight`);
    expect(batch.length).toBe(test.length * 224 * 224 * 3);
    expect(seq).toBeLessThan(250); // generous: the machine is shared
  });
});

describe.skipIf(!data)('Magnetic Tile (real)', () => {
  let ds: Dataset;
  beforeAll(async () => {
    ds = await loadMagneticTile(path.join(data!, 'magnetic-tile'));
  });

  it('splits MT_Free 762/190 by sorted index and puts all 392 defect images in test', () => {
    const mt = golden.magneticTile;
    expect(mt.free).toBe(952);
    expect(ds.classes).toEqual(['magnetic_tile']);
    const c = counts(ds.samples);
    expect(c).toEqual({
      'train/good/0': 762,
      'test/good/0': 190,
      'test/Blowhole/1': 115,
      'test/Break/1': 85,
      'test/Crack/1': 57,
      'test/Fray/1': 32,
      'test/Uneven/1': 103,
    });
    for (const [d, n] of Object.entries(mt.defects)) expect(c[`test/${d}/1`]).toBe(n);
    const train = ds.samples.filter((s) => s.split === 'train');
    const testN = ds.samples.filter((s) => s.split === 'test' && s.label === 0);
    expect(train.slice(0, 3).map((s) => path.basename(s.imagePath, '.jpg'))).toEqual(mt.trainFirst);
    expect(testN.slice(0, 3).map((s) => path.basename(s.imagePath, '.jpg'))).toEqual(mt.testNormal);
    expect(path.basename(testN[testN.length - 1].imagePath, '.jpg')).toBe(mt.testNormalLast);
    expect(ds.samples.every((s) => s.className === 'magnetic_tile')).toBe(true);
    expect(hasPixelLabels(ds)).toBe(true);
  });

  it('grey JPEGs become 3 equal channels matching Pillow; masks binarised at >127', async () => {
    for (const g of golden.images.filter((x) => x.dataset === 'magnetic-tile')) {
      const s = ds.samples.find((x) => x.imagePath === path.join(data!, 'magnetic-tile', g.rel))!;
      const img = await ds.loadImage(s, 224);
      let unequal = 0;
      for (let i = 0; i < img.length; i += 3) if (img[i + 1] !== img[i] || img[i + 2] !== img[i]) unequal++;
      expect(unequal).toBe(0);
      compareImage(img, g, { max: 2.01, mean: 0.5 }); // two JPEG decoders: ±1 allowed on top of resizing
    }
    for (const g of golden.masks.filter((x) => x.dataset === 'magnetic-tile')) {
      const s = ds.samples.find((x) => x.id === g.id)!;
      const m = await ds.loadMask(s, 224);
      expect(Array.from(m)).toEqual(unpackBits(g.bits, 224 * 224));
    }
  });

  it('the 4 empty Uneven masks stay anomalous by folder, with all-zero masks', async () => {
    expect(golden.magneticTile.emptyMasksNative).toHaveLength(4);
    for (const e of golden.magneticTile.emptyMasksNative) {
      const [type, name] = e.split('/');
      const s = ds.samples.find((x) => x.id === `magnetic_tile/test/${type}/${name}`)!;
      expect(s.label).toBe(1);
      const m = await ds.loadMask(s, 224);
      expect(m.every((v) => v === 0)).toBe(true);
    }
  });

  it('combines with bottle into one unified dataset', async () => {
    const bottle = await loadMvtec(path.join(data!, 'mvtec-ad'), { categories: ['bottle'], check: 'none' });
    const both = combineDatasets([bottle, ds]);
    expect(both.classes).toEqual(['bottle', 'magnetic_tile']);
    expect(both.samples.length).toBe(292 + 1344);
    const a = await both.loadImage(bottle.samples[0], 64);
    expect(Array.from(a)).toEqual(Array.from(await bottle.loadImage(bottle.samples[0], 64)));
    const tile = ds.samples.find((s) => s.label === 1)!;
    expect(Array.from(await both.loadMask(tile, 64))).toEqual(Array.from(await ds.loadMask(tile, 64)));
  });
});
