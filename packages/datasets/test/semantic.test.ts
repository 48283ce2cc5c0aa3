// Semantic protocol (UniAD Sec. 4.3, CIFAR-10): readers of the real CIFAR-10 binary and IDX formats,
// checked on tiny files written here in those formats.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { loadSemantic, loadDataset, readIdx, PAPER_NORMAL_SETS, CIFAR10_CLASSES, type SemanticSample } from '../src';
import { expectUserError, tempDir } from './helpers';

let root: string;
const cifarDir = () => path.join(root, 'cifar', 'cifar-10-batches-bin');
const mnistDir = () => path.join(root, 'mnist');

/** CIFAR record k of a file: label = (k * 3 + fileNo) % 10; R plane = label * 20 + 7, G = k, B = x + y. */
function cifarFile(fileNo: number, n: number): Buffer {
  const b = Buffer.alloc(n * 3073);
  for (let k = 0; k < n; k++) {
    const o = k * 3073;
    const label = (k * 3 + fileNo) % 10;
    b[o] = label;
    for (let y = 0; y < 32; y++)
      for (let x = 0; x < 32; x++) {
        b[o + 1 + y * 32 + x] = label * 20 + 7;
        b[o + 1 + 1024 + y * 32 + x] = k;
        b[o + 1 + 2048 + y * 32 + x] = x + y;
      }
  }
  return b;
}

function idx(dims: number[], data: Uint8Array): Buffer {
  const h = Buffer.alloc(4 + 4 * dims.length);
  h[2] = 0x08;
  h[3] = dims.length;
  dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([h, Buffer.from(data)]);
}

/** MNIST-like: image k of a split has label k % 10 and pixel (y, x) = (k + 3 * x + y) % 256. */
function mnistImages(n: number): { images: Buffer; labels: Buffer } {
  const px = new Uint8Array(n * 28 * 28);
  const lb = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    lb[k] = k % 10;
    for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) px[k * 784 + y * 28 + x] = (k + 3 * x + y) % 256;
  }
  return { images: idx([n, 28, 28], px), labels: idx([n], lb) };
}

beforeAll(() => {
  root = tempDir('semantic');
  fs.mkdirSync(cifarDir(), { recursive: true });
  for (let i = 1; i <= 5; i++) fs.writeFileSync(path.join(cifarDir(), `data_batch_${i}.bin`), cifarFile(i, 20));
  fs.writeFileSync(path.join(cifarDir(), 'test_batch.bin'), cifarFile(0, 30));
  fs.mkdirSync(mnistDir(), { recursive: true });
  const tr = mnistImages(40), te = mnistImages(20);
  fs.writeFileSync(path.join(mnistDir(), 'train-images-idx3-ubyte.gz'), zlib.gzipSync(tr.images));
  fs.writeFileSync(path.join(mnistDir(), 'train-labels-idx1-ubyte.gz'), zlib.gzipSync(tr.labels));
  fs.writeFileSync(path.join(mnistDir(), 't10k-images-idx3-ubyte'), te.images);
  fs.writeFileSync(path.join(mnistDir(), 't10k-labels-idx1-ubyte'), te.labels);
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('CIFAR-10 binary', () => {
  it('train = normal classes only, test = everything; labels, names, sourceClass, file#index paths', () => {
    const ds = loadSemantic('cifar10', path.join(root, 'cifar'), { normalClasses: PAPER_NORMAL_SETS[0] });
    expect(ds.classes).toEqual(['normal']);
    const train = ds.samples.filter((s) => s.split === 'train') as SemanticSample[];
    const test = ds.samples.filter((s) => s.split === 'test') as SemanticSample[];
    // expected from the generating rule
    let nTrain = 0;
    for (let f = 1; f <= 5; f++) for (let k = 0; k < 20; k++) if ((k * 3 + f) % 10 < 5) nTrain++;
    expect(train).toHaveLength(nTrain);
    expect(test).toHaveLength(30);
    expect(train.every((s) => s.label === 0 && s.sourceClass < 5 && s.className === 'normal')).toBe(true);
    for (const s of test) {
      const k = Number(s.imagePath.split('#')[1]);
      expect(s.sourceClass).toBe((k * 3) % 10);
      expect(s.label).toBe(s.sourceClass >= 5 ? 1 : 0);
      expect(s.defectType).toBe(s.label ? CIFAR10_CLASSES[s.sourceClass] : 'good');
    }
    expect(test[0].imagePath).toBe(path.join(cifarDir(), 'test_batch.bin') + '#0');
    expect(train[0].imagePath.startsWith(path.join(cifarDir(), 'data_batch_1.bin#'))).toBe(true);
    expect(new Set(ds.samples.map((s) => s.id)).size).toBe(ds.samples.length);
  });

  it('decodes the R, G, B planes into HWC pixels; resizes bilinearly; no masks', async () => {
    const ds = loadSemantic('cifar10', path.join(root, 'cifar'), { normalClasses: [1, 3, 5, 7, 9] });
    const s = ds.samples.find((x) => x.imagePath.endsWith('test_batch.bin#4'))! as SemanticSample;
    const img = await ds.loadImage(s, 32);
    const label = (4 * 3) % 10;
    for (const [y, x] of [[0, 0], [5, 9], [31, 31]]) {
      expect(Array.from(img.slice((y * 32 + x) * 3, (y * 32 + x) * 3 + 3))).toEqual([label * 20 + 7, 4, x + y]);
    }
    const big = await ds.loadImage(s, 64);
    expect(big.length).toBe(64 * 64 * 3);
    expect(big[0]).toBeCloseTo(label * 20 + 7, 4); // a constant plane stays constant
    // blue plane is x + y: bilinear upsampling of a linear ramp is the ramp at the sample centres (interior)
    const xs = ((10 + 0.5) / 2) - 0.5, ys = ((20 + 0.5) / 2) - 0.5;
    expect(big[(20 * 64 + 10) * 3 + 2]).toBeCloseTo(xs + ys, 4);
    expect(s.label).toBe(1);
    await expectUserError(ds.loadMask(s, 8), 'no pixel labels');
    const normal = ds.samples.find((x) => x.label === 0)!;
    expect((await ds.loadMask(normal, 8)).every((v) => v === 0)).toBe(true);
  });

  it('per-class caps: first N, or a seeded subset', () => {
    const first = loadSemantic('cifar10', path.join(root, 'cifar'), { normalClasses: [0, 2, 4, 6, 8], maxTrainPerClass: 2, maxTestPerClass: 1 });
    const per = new Map<number, number>();
    for (const s of first.samples as SemanticSample[]) if (s.split === 'train') per.set(s.sourceClass, (per.get(s.sourceClass) ?? 0) + 1);
    expect([...per.values()].every((n) => n <= 2)).toBe(true);
    expect(first.samples.filter((s) => s.split === 'test')).toHaveLength(10);
    const a = loadSemantic('cifar10', path.join(root, 'cifar'), { normalClasses: [0, 2, 4, 6, 8], maxTrainPerClass: 2, seed: 5 });
    const b = loadSemantic('cifar10', path.join(root, 'cifar'), { normalClasses: [0, 2, 4, 6, 8], maxTrainPerClass: 2, seed: 5 });
    expect(a.samples.map((s) => s.id)).toEqual(b.samples.map((s) => s.id));
  });

  it('bad files: wrong size, missing batch, invalid normal classes', async () => {
    const bad = path.join(root, 'cifar-bad');
    fs.mkdirSync(bad, { recursive: true });
    for (let i = 1; i <= 5; i++) fs.writeFileSync(path.join(bad, `data_batch_${i}.bin`), cifarFile(i, 2));
    await expectUserError(() => loadSemantic('cifar10', bad, { normalClasses: [0] }), 'test_batch.bin', 'not found');
    fs.writeFileSync(path.join(bad, 'test_batch.bin'), Buffer.alloc(3073 + 100));
    await expectUserError(() => loadSemantic('cifar10', bad, { normalClasses: [0] }), 'not a CIFAR-10 binary batch', path.join(bad, 'test_batch.bin'));
    await expectUserError(() => loadSemantic('cifar10', path.join(root, 'cifar'), { normalClasses: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }), 'normalClasses');
  });
});

describe('IDX (MNIST / Fashion-MNIST)', () => {
  it('reads gzipped and plain files; grey replicated to RGB', async () => {
    const ds = loadSemantic('mnist', mnistDir(), { normalClasses: [0, 2, 4, 6, 8] });
    expect(ds.samples.filter((s) => s.split === 'train')).toHaveLength(20);
    expect(ds.samples.filter((s) => s.split === 'test')).toHaveLength(20);
    const s = ds.samples.find((x) => x.split === 'test' && x.imagePath.endsWith('#7'))! as SemanticSample;
    expect(s.sourceClass).toBe(7);
    expect(s.label).toBe(1);
    expect(s.defectType).toBe('7');
    const img = await ds.loadImage(s, 28);
    const y = 3, x = 11;
    expect(Array.from(img.slice((y * 28 + x) * 3, (y * 28 + x) * 3 + 3))).toEqual([7 + 33 + 3, 7 + 33 + 3, 7 + 33 + 3]);
    const fm = await loadDataset({ type: 'fashion-mnist', root: mnistDir(), normalClasses: [1] });
    expect(fm.samples.filter((x) => x.label === 1)[0].defectType).toBe('T-shirt/top');
  });

  it('bad IDX: magic, dimension mismatch, label count mismatch, missing file', async () => {
    const bad = path.join(root, 'idx-bad');
    fs.mkdirSync(bad, { recursive: true });
    const f = path.join(bad, 'x');
    fs.writeFileSync(f, Buffer.from([1, 2, 3, 4, 5]));
    await expectUserError(() => readIdx(f), 'bad magic', f);
    fs.writeFileSync(f, Buffer.concat([idx([3, 2, 2], new Uint8Array(12)).subarray(0, 20)]));
    await expectUserError(() => readIdx(f), 'data bytes', f);
    const tr = mnistImages(10);
    fs.writeFileSync(path.join(bad, 'train-images-idx3-ubyte'), tr.images);
    fs.writeFileSync(path.join(bad, 'train-labels-idx1-ubyte'), idx([9], new Uint8Array(9)));
    fs.writeFileSync(path.join(bad, 't10k-images-idx3-ubyte'), tr.images);
    fs.writeFileSync(path.join(bad, 't10k-labels-idx1-ubyte'), tr.labels);
    await expectUserError(() => loadSemantic('mnist', bad, { normalClasses: [0] }), 'has 9 labels for 10 images');
    fs.rmSync(path.join(bad, 't10k-labels-idx1-ubyte'));
    fs.writeFileSync(path.join(bad, 'train-labels-idx1-ubyte'), tr.labels);
    await expectUserError(() => loadSemantic('mnist', bad, { normalClasses: [0] }), 'missing t10k-labels-idx1-ubyte', bad);
  });
});
