// Semantic anomaly detection protocol of UniAD's CIFAR-10 experiment (paper Sec. 4.3): some classes are
// "normal" (e.g. {0,1,2,3,4}, {5..9}, {0,2,4,6,8}, {1,3,5,7,9}), one unified model learns all of them.
// train = training images of the normal classes; test = every test image, label 1 when its class is not
// normal; no masks. All samples have className 'normal' (one unified class); the source class index is
// kept in `sourceClass` and, for anomalies, its name in defectType.
//
// Readers for the original binary formats (data is not shipped):
// - CIFAR-10 binary: data_batch_1..5.bin, test_batch.bin; records of 1 label byte + 3072 bytes
//   (R, G, B planes, 32×32 row-major).
// - IDX (MNIST, Fashion-MNIST): {train,t10k}-{images-idx3,labels-idx1}-ubyte, optionally .gz;
//   big-endian header: magic (0x00000803 images / 0x00000801 labels), dimension sizes, then uint8 data.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Rng, UserError, type Dataset, type Sample, type Split } from '@unified-ad/core';
import { assertSize } from './file-dataset';
import { resizeBilinear } from './image-io';

export type SemanticKind = 'cifar10' | 'mnist' | 'fashion-mnist';

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** The four normal-class splits of the paper's CIFAR-10 table. */
export const PAPER_NORMAL_SETS: number[][] = [
  [0, 1, 2, 3, 4],
  [5, 6, 7, 8, 9],
  [0, 2, 4, 6, 8],
  [1, 3, 5, 7, 9],
];

/** A sample of a semantic dataset: imagePath is "<file>#<record index>". */
export interface SemanticSample extends Sample {
  /** original class index (0..9) */
  sourceClass: number;
}

export interface SemanticOptions {
  /** normal class indices (0..9), at least one, not all ten */
  normalClasses: number[];
  /** keep at most this many training images per normal source class (first in file order; default all) */
  maxTrainPerClass?: number;
  /** keep at most this many test images per source class (default all) */
  maxTestPerClass?: number;
  /** with a max*: pick a seeded random subset instead of the first images */
  seed?: number;
}

/** Images held in memory as uint8, N × H × W × C. */
interface ImageArray {
  file: string;
  data: Uint8Array;
  offset: number;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** 'planar' = CHW per record (CIFAR), 'hwc' = interleaved */
  layout: 'planar' | 'hwc';
  recordBytes: number;
  labels: Uint8Array;
}

const CIFAR_RECORD = 1 + 3072;

/** Reads one CIFAR-10 binary batch file (labels and pixels). */
export function readCifarBatch(file: string): ImageArray {
  if (!fs.existsSync(file)) throw new UserError(`CIFAR-10 batch file not found: ${file}`);
  const data = fs.readFileSync(file);
  if (data.length === 0 || data.length % CIFAR_RECORD !== 0) {
    throw new UserError(`not a CIFAR-10 binary batch (size ${data.length} is not a multiple of ${CIFAR_RECORD}): ${file}`);
  }
  const count = data.length / CIFAR_RECORD;
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const l = data[i * CIFAR_RECORD];
    if (l > 9) throw new UserError(`CIFAR-10 label ${l} out of range 0..9 at record ${i}: ${file}`);
    labels[i] = l;
  }
  return { file, data, offset: 1, count, height: 32, width: 32, channels: 3, layout: 'planar', recordBytes: CIFAR_RECORD, labels };
}

function readMaybeGz(file: string): Buffer {
  const buf = fs.readFileSync(file);
  if (file.endsWith('.gz') || (buf[0] === 0x1f && buf[1] === 0x8b)) {
    try {
      return zlib.gunzipSync(buf);
    } catch (e) {
      throw new UserError(`cannot decompress ${file}: ${(e as Error).message}`);
    }
  }
  return buf;
}

/** Parses an IDX file: returns dims and the uint8 payload. Only unsigned-byte data (type 0x08) is supported. */
export function readIdx(file: string): { dims: number[]; data: Uint8Array } {
  if (!fs.existsSync(file)) throw new UserError(`IDX file not found: ${file}`);
  const buf = readMaybeGz(file);
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new UserError(`not an IDX file (bad magic): ${file}`);
  if (buf[2] !== 0x08) throw new UserError(`IDX data type 0x${buf[2].toString(16)} is not unsigned byte (0x08): ${file}`);
  const nd = buf[3];
  if (nd < 1 || buf.length < 4 + 4 * nd) throw new UserError(`truncated IDX header: ${file}`);
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const n = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * nd;
  if (buf.length !== start + n) throw new UserError(`IDX file has ${buf.length - start} data bytes, header says ${n} (${dims.join('x')}): ${file}`);
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + start, n) };
}

function findFile(root: string, names: string[]): string | null {
  for (const n of names) for (const ext of ['', '.gz']) {
    const p = path.join(root, n + ext);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** Reads an IDX image file and its label file into one array. */
export function readIdxPair(imagesFile: string, labelsFile: string): ImageArray {
  const im = readIdx(imagesFile);
  const lb = readIdx(labelsFile);
  if (im.dims.length !== 3) throw new UserError(`IDX images must have 3 dimensions (N, H, W), got ${im.dims.join('x')}: ${imagesFile}`);
  if (lb.dims.length !== 1) throw new UserError(`IDX labels must have 1 dimension, got ${lb.dims.join('x')}: ${labelsFile}`);
  if (lb.dims[0] !== im.dims[0]) throw new UserError(`${labelsFile} has ${lb.dims[0]} labels for ${im.dims[0]} images in ${imagesFile}`);
  for (let i = 0; i < lb.data.length; i++) if (lb.data[i] > 9) throw new UserError(`label ${lb.data[i]} out of range 0..9 at index ${i}: ${labelsFile}`);
  const [count, height, width] = im.dims;
  return { file: imagesFile, data: im.data, offset: 0, count, height, width, channels: 1, layout: 'hwc', recordBytes: height * width, labels: lb.data };
}

function cifarSplits(root: string): Record<Split, ImageArray[]> {
  let dir = root;
  if (!fs.existsSync(path.join(dir, 'test_batch.bin')) && fs.existsSync(path.join(root, 'cifar-10-batches-bin'))) dir = path.join(root, 'cifar-10-batches-bin');
  if (!fs.existsSync(dir)) throw new UserError(`CIFAR-10 folder not found: ${root}`);
  const train = [1, 2, 3, 4, 5].map((i) => readCifarBatch(path.join(dir, `data_batch_${i}.bin`)));
  const test = [readCifarBatch(path.join(dir, 'test_batch.bin'))];
  return { train, test };
}

function idxSplits(root: string): Record<Split, ImageArray[]> {
  if (!fs.existsSync(root)) throw new UserError(`IDX dataset folder not found: ${root}`);
  const get = (prefix: string, kind: string) => {
    const f = findFile(root, [`${prefix}-${kind}`, `${prefix}-${kind.replace('-idx', '.idx')}`]);
    if (!f) throw new UserError(`missing ${prefix}-${kind}[.gz] in ${root}`);
    return f;
  };
  return {
    train: [readIdxPair(get('train', 'images-idx3-ubyte'), get('train', 'labels-idx1-ubyte'))],
    test: [readIdxPair(get('t10k', 'images-idx3-ubyte'), get('t10k', 'labels-idx1-ubyte'))],
  };
}

/** Array-backed dataset of the semantic protocol. */
export class SemanticDataset implements Dataset {
  readonly classes = ['normal'];
  private readonly arrays = new Map<string, ImageArray>();

  constructor(
    readonly name: string,
    readonly samples: SemanticSample[],
    arrays: ImageArray[],
    /** names of the source classes, by index */
    readonly sourceClassNames: string[],
    readonly normalClasses: number[],
  ) {
    for (const a of arrays) this.arrays.set(a.file, a);
  }

  /** Native-resolution pixels of a sample, HWC float32 RGB in [0, 255]. */
  private pixels(sample: Sample): { rgb: Float32Array; h: number; w: number } {
    const hash = sample.imagePath.lastIndexOf('#');
    const arr = hash >= 0 ? this.arrays.get(sample.imagePath.slice(0, hash)) : undefined;
    const index = hash >= 0 ? Number(sample.imagePath.slice(hash + 1)) : NaN;
    if (!arr || !Number.isInteger(index) || index < 0 || index >= arr.count) {
      throw new UserError(`sample ${sample.id} does not belong to dataset ${this.name}: ${sample.imagePath}`);
    }
    const { height: h, width: w, channels: c } = arr;
    const base = index * arr.recordBytes + arr.offset;
    const n = h * w;
    const rgb = new Float32Array(n * 3);
    if (arr.layout === 'planar') {
      for (let ch = 0; ch < 3; ch++) for (let i = 0; i < n; i++) rgb[3 * i + ch] = arr.data[base + ch * n + i];
    } else {
      for (let i = 0; i < n; i++) {
        for (let ch = 0; ch < 3; ch++) rgb[3 * i + ch] = arr.data[base + i * c + (c === 1 ? 0 : ch)];
      }
    }
    return { rgb, h, w };
  }

  async loadImage(sample: Sample, size: number): Promise<Float32Array> {
    assertSize(size);
    const { rgb, h, w } = this.pixels(sample);
    return resizeBilinear(rgb, w, h, 3, size, size);
  }

  async loadMask(sample: Sample, size: number): Promise<Float32Array> {
    assertSize(size);
    if (sample.label === 0) return new Float32Array(size * size);
    throw new UserError(`${this.name} has no pixel labels (semantic anomaly detection): ${sample.id}`);
  }
}

function pickIndices(indices: number[], max: number | undefined, rng: Rng | null): number[] {
  if (max === undefined || indices.length <= max) return indices;
  if (!rng) return indices.slice(0, max);
  return rng.shuffle(indices.slice()).slice(0, max).sort((a, b) => a - b);
}

/** Builds the semantic protocol from CIFAR-10 (binary) or MNIST / Fashion-MNIST (IDX) files under root. */
export function loadSemantic(kind: SemanticKind, root: string, opts: SemanticOptions): SemanticDataset {
  const normal = [...new Set(opts.normalClasses)].sort((a, b) => a - b);
  if (normal.length === 0 || normal.length >= 10 || normal.some((c) => !Number.isInteger(c) || c < 0 || c > 9)) {
    throw new UserError(`normalClasses must be 1 to 9 distinct class indices in 0..9, got [${opts.normalClasses.join(', ')}]`);
  }
  const names = kind === 'cifar10' ? CIFAR10_CLASSES : kind === 'mnist' ? MNIST_CLASSES : FASHION_MNIST_CLASSES;
  const splits = kind === 'cifar10' ? cifarSplits(root) : idxSplits(root);
  const isNormal = new Set(normal);
  const rng = opts.seed !== undefined ? new Rng(opts.seed) : null;
  const samples: SemanticSample[] = [];
  for (const split of ['train', 'test'] as Split[]) {
    const byClass: { arr: ImageArray; idx: number }[][] = Array.from({ length: 10 }, () => []);
    for (const arr of splits[split]) for (let i = 0; i < arr.count; i++) byClass[arr.labels[i]].push({ arr, idx: i });
    const max = split === 'train' ? opts.maxTrainPerClass : opts.maxTestPerClass;
    for (let c = 0; c < 10; c++) {
      if (split === 'train' && !isNormal.has(c)) continue;
      if (split === 'train' && byClass[c].length === 0) {
        throw new UserError(`normal class ${c} (${names[c]}) has no training images in ${root}`);
      }
      const keep = pickIndices(byClass[c].map((_, k) => k), max, rng);
      for (const k of keep) {
        const { arr, idx } = byClass[c][k];
        const label = isNormal.has(c) ? 0 : 1;
        samples.push({
          id: `${kind}/${split}/${path.basename(arr.file)}/${idx}`,
          className: 'normal',
          split,
          label,
          defectType: label === 0 ? 'good' : names[c],
          imagePath: `${arr.file}#${idx}`,
          sourceClass: c,
        });
      }
    }
  }
  // file order within each split (class grouping above is only for the per-class caps)
  const order = (s: SemanticSample) => s.imagePath;
  samples.sort((a, b) => (a.split !== b.split ? (a.split === 'train' ? -1 : 1) : 0) || cmpPath(order(a), order(b)));
  return new SemanticDataset(kind, samples, [...splits.train, ...splits.test], names, normal);
}

function cmpPath(a: string, b: string): number {
  const ha = a.lastIndexOf('#'), hb = b.lastIndexOf('#');
  const fa = a.slice(0, ha), fb = b.slice(0, hb);
  if (fa !== fb) return fa < fb ? -1 : 1;
  return Number(a.slice(ha + 1)) - Number(b.slice(hb + 1));
}
