// Grid of the synthetic training anomalies the three methods generate (their own training-batch functions):
// packages/models-selfsup/docs/training-anomalies.png. Rows: MVTec AD bottle and Magnetic Tile training images
// from ../shared (synthetic images when absent). Columns: original | DRAEM (texture source) + mask | DRAEM (image
// source) + mask | CutPaste normal | CutPaste scar | FCDD confetti + mask. DRAEM and FCDD are drawn with
// cleanProbability 0 so that every tile shows an anomaly.
// Usage (repository root): npx ts-node -T packages/models-selfsup/scripts/training-anomalies.ts [seed]
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, sharedDir } from '@unified-ad/core';
import { draemTrainingBatch, cutPasteViews, fcddTrainingBatch } from '../src';
import { syntheticImages } from '../test/helpers';

const S = 128, GAP = 4;

async function load(file: string): Promise<Float32Array> {
  const { data } = await sharp(file).removeAlpha().toColourspace('srgb').resize(S, S).raw().toBuffer({ resolveWithObject: true });
  return Float32Array.from(data);
}

async function main() {
  const seed = Number(process.argv[2] ?? 0);
  const shared = sharedDir();
  const files: string[] = [];
  const bottle = shared ? path.join(shared, 'data/mvtec-ad/bottle/train/good') : '';
  const tile = shared ? path.join(shared, 'data/magnetic-tile/MT_Free/Imgs') : '';
  if (bottle && fs.existsSync(bottle)) files.push(...fs.readdirSync(bottle).sort().slice(0, 3).map((f) => path.join(bottle, f)));
  if (tile && fs.existsSync(tile)) files.push(...fs.readdirSync(tile).filter((f) => f.endsWith('.jpg')).sort().slice(0, 3).map((f) => path.join(tile, f)));
  const n = files.length || 4;
  const pixels = new Float32Array(n * S * S * 3);
  if (files.length) for (let i = 0; i < n; i++) pixels.set(await load(files[i]!), i * S * S * 3);
  else pixels.set(Float32Array.from(syntheticImages(n, S, seed, false)));
  const x = tf.tensor4d(pixels, [n, S, S, 3]) as Tensor4D;
  const rng = new Rng(seed);
  const dt = draemTrainingBatch(x, rng, { source: 'texture', cleanProbability: 0, betaMax: 0.8 });
  const di = draemTrainingBatch(x, rng, { source: 'image', cleanProbability: 0, betaMax: 0.8 });
  const cp = cutPasteViews(x, rng, { variant: '3way', jitter: 0.1 });
  const fc = fcddTrainingBatch(x, rng, 0);
  const rgb = (t: Tensor4D, scale: number) => Float32Array.from(t.dataSync(), (v) => v * scale);
  const dtImg = rgb(dt.augmented, 255), diImg = rgb(di.augmented, 255), fcImg = rgb(fc.images, 1);
  const dtMask = dt.mask.dataSync(), diMask = di.mask.dataSync();
  const cols = 9;
  const W = cols * S + (cols - 1) * GAP, H = n * S + (n - 1) * GAP;
  const out = Buffer.alloc(W * H * 3, 255);
  const put = (r: number, c: number, get: (p: number, ch: number) => number) => {
    for (let i = 0; i < S; i++) for (let j = 0; j < S; j++) for (let ch = 0; ch < 3; ch++) {
      out[((r * (S + GAP) + i) * W + c * (S + GAP) + j) * 3 + ch] = Math.max(0, Math.min(255, Math.round(get(i * S + j, ch))));
    }
  };
  const b = S * S;
  for (let r = 0; r < n; r++) {
    put(r, 0, (p, ch) => pixels[(r * b + p) * 3 + ch]!);
    put(r, 1, (p, ch) => dtImg[(r * b + p) * 3 + ch]!);
    put(r, 2, (p) => 255 * dtMask[r * b + p]!);
    put(r, 3, (p, ch) => diImg[(r * b + p) * 3 + ch]!);
    put(r, 4, (p) => 255 * diMask[r * b + p]!);
    put(r, 5, (p, ch) => cp.images[n + r]!.data[p * 3 + ch]!);
    put(r, 6, (p, ch) => cp.images[2 * n + r]!.data[p * 3 + ch]!);
    put(r, 7, (p, ch) => fcImg[(r * b + p) * 3 + ch]!);
    put(r, 8, (p) => 255 * fc.masks[r]![p]!);
  }
  const file = path.join(__dirname, '../docs/training-anomalies.png');
  await sharp(out, { raw: { width: W, height: H, channels: 3 } }).png().toFile(file);
  console.log(`wrote ${file} (${n} rows: ${files.length ? files.map((f) => path.basename(f)).join(', ') : 'synthetic'})`);
  tf.dispose([x, dt.augmented, dt.mask, dt.clean, di.augmented, di.mask, di.clean, fc.images]);
}
main();
