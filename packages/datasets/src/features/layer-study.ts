// Which backbone layers should feed the neck by default? A short study on MVTec AD bottle (train
// good vs test), at the 14×14 grid of UniAD's neck: for each candidate layer set, features are
// concatenated after the MFCN neck and scored with a 1-nearest-neighbour patch distance to the
// training patches (PatchCore without coreset). Image score = map maximum; pixel AUROC compares the
// maps (bilinearly upsampled to 224) with the masks at 224.
//
// Run: npx ts-node packages/datasets/src/features/layer-study.ts   (about 2 minutes; needs ../shared)
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Tensor2D, Tensor4D } from '@tensorflow/tfjs-node';
import { sharedPath, tf } from '@unified-ad/core';
import { createBackbone, mfcnNeck, type Backbone } from '@unified-ad/backbones';

const SIZE = 224;
const GRID = 14;

async function loadRgb(file: string): Promise<Float32Array> {
  const { data } = await sharp(file).removeAlpha().toColourspace('srgb').resize(SIZE, SIZE, { kernel: 'linear', fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  return Float32Array.from(data);
}

async function loadMask(file: string | null): Promise<Uint8Array> {
  if (!file) return new Uint8Array(SIZE * SIZE);
  const { data } = await sharp(file).greyscale().resize(SIZE, SIZE, { kernel: 'nearest', fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  return Uint8Array.from(data, (v) => (v > 127 ? 1 : 0));
}

/** AUROC by the rank-sum formula with tie correction (average ranks). */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  const idx = Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[idx[k]]) {
      rankSum += r;
      pos++;
    }
    i = j + 1;
  }
  const neg = n - pos;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

async function features(b: Backbone, images: Float32Array[], layers: string[]): Promise<Tensor4D> {
  const out: Tensor4D[] = [];
  for (let i = 0; i < images.length; i += 8) {
    const batch = images.slice(i, i + 8);
    out.push(
      tf.tidy(() => {
        const x = tf.tensor4d(concat(batch), [batch.length, SIZE, SIZE, 3]);
        return mfcnNeck(b.extract(x, layers), GRID);
      }),
    );
  }
  const all = tf.concat(out, 0);
  tf.dispose(out);
  return all;
}

function concat(xs: Float32Array[]): Float32Array {
  const o = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
  let k = 0;
  for (const x of xs) {
    o.set(x, k);
    k += x.length;
  }
  return o;
}

/** 1-NN distance of every test patch to the bank of training patches: [Ntest, GRID, GRID]. */
function knnMaps(train: Tensor4D, test: Tensor4D): Float32Array {
  const c = train.shape[3];
  const bank = tf.reshape(train, [-1, c]) as Tensor2D;
  const bankSq = tf.sum(tf.square(bank), 1);
  const q = tf.reshape(test, [-1, c]) as Tensor2D;
  const out = new Float32Array(q.shape[0]);
  for (let i = 0; i < q.shape[0]; i += 512) {
    const d = tf.tidy(() => {
      const qi = q.slice([i, 0], [Math.min(512, q.shape[0] - i), c]);
      const d2 = tf.add(tf.sub(tf.sum(tf.square(qi), 1, true), tf.mul(2, tf.matMul(qi, bank, false, true))), bankSq);
      return tf.sqrt(tf.relu(tf.min(d2, 1)));
    });
    out.set(d.dataSync(), i);
    d.dispose();
  }
  tf.dispose([bank, bankSq, q]);
  return out;
}

function evaluate(maps: Float32Array, n: number, labels: number[], masks: Uint8Array[]) {
  const img = Array.from({ length: n }, (_, i) => Math.max(...maps.subarray(i * GRID * GRID, (i + 1) * GRID * GRID)));
  const upT = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(maps, [n, GRID, GRID, 1]), [SIZE, SIZE], true));
  const up = upT.dataSync() as Float32Array;
  upT.dispose();
  return { image: auroc(img, labels), pixel: auroc(up, concat(masks.map((m) => Float32Array.from(m)))) };
}

async function main() {
  const root = sharedPath('data', 'mvtec-ad', 'bottle');
  if (!root) {
    console.log('../shared/data/mvtec-ad/bottle not found: nothing to study');
    return;
  }
  const list = (d: string) => fs.readdirSync(d).filter((f) => f.endsWith('.png')).sort().map((f) => path.join(d, f));
  const trainFiles = list(path.join(root, 'train', 'good'));
  const test: { file: string; label: number; mask: string | null }[] = [];
  for (const t of fs.readdirSync(path.join(root, 'test')).sort()) {
    for (const f of list(path.join(root, 'test', t))) test.push({ file: f, label: t === 'good' ? 0 : 1, mask: t === 'good' ? null : path.join(root, 'ground_truth', t, path.basename(f, '.png') + '_mask.png') });
  }
  const trainImgs = await Promise.all(trainFiles.map(loadRgb));
  const testImgs = await Promise.all(test.map((t) => loadRgb(t.file)));
  const masks = await Promise.all(test.map((t) => loadMask(t.mask)));
  const labels = test.map((t) => t.label);

  const studies: { backbone: string; normalize?: 'unit' | 'symmetric'; sets: Record<string, string[]> }[] = [
    {
      backbone: 'mobilenet_v2',
      sets: {
        's4+s8+s16 (3/add, 6/add, 13/add)': ['expanded_conv_3/add', 'expanded_conv_6/add', 'expanded_conv_13/add'],
        's2+s4+s8+s16 (1/project, 3/add, 6/add, 13/add)': ['expanded_conv_1/project', 'expanded_conv_3/add', 'expanded_conv_6/add', 'expanded_conv_13/add'],
        's8+s16 (6/add, 13/add)': ['expanded_conv_6/add', 'expanded_conv_13/add'],
        's4+s8+s16+s16 (3/add, 6/add, 10/add, 13/add)': ['expanded_conv_3/add', 'expanded_conv_6/add', 'expanded_conv_10/add', 'expanded_conv_13/add'],
        's4+s8+s16+s32 (3/add, 6/add, 13/add, 16/add)': ['expanded_conv_3/add', 'expanded_conv_6/add', 'expanded_conv_13/add', 'expanded_conv_16/add'],
        's16 only (13/add)': ['expanded_conv_13/add'],
        's8+s16 expansions (7/expand, 14/expand)': ['expanded_conv_7/expand/relu6', 'expanded_conv_14/expand/relu6'],
      },
    },
    { backbone: 'mobilenet_v2_embedded', normalize: 'unit', sets: { 'embedded x/255: block_2_add, block_5_add, block_12_add': ['block_2_add', 'block_5_add', 'block_12_add'] } },
  ];
  const rows: string[] = ['| backbone | layers | C | image AUROC | pixel AUROC |', '|---|---|---|---|---|'];
  for (const s of studies) {
    const b = await createBackbone({ id: s.backbone });
    const info = new Map(b.layerInfo().map((l) => [l.name, l]));
    for (const [label, layers] of Object.entries(s.sets)) {
      const t0 = Date.now();
      const tr = await features(b, trainImgs, layers);
      const te = await features(b, testImgs, layers);
      const maps = knnMaps(tr, te);
      const r = evaluate(maps, test.length, labels, masks);
      const c = layers.reduce((a, l) => a + (info.get(l)?.channels ?? 0), 0);
      rows.push(`| ${s.backbone} | ${label} | ${c} | ${(100 * r.image).toFixed(2)} | ${(100 * r.pixel).toFixed(2)} |`);
      console.error(rows[rows.length - 1], `${((Date.now() - t0) / 1000).toFixed(1)} s`);
      tf.dispose([tr, te]);
    }
    b.dispose();
  }
  console.log(rows.join('\n'));
}

if (require.main === module) void main();
