// Synthetic data for the distillation tests: noisy grey images with a horizontal ramp (normal) and the same with a
// saturated square (defect); a fixed "teacher" (average pooling to the grid + a fixed random 1×1 mixing + tanh)
// computed once, as the engine's feature cache would hand it over.
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, tensorFitData, TrainConfigSchema, type FitContext, type Sample } from '@unified-ad/core';

export const sample = (i: number, label: 0 | 1 = 0): Sample => ({
  id: `s${i}`, className: 'syn', split: label ? 'test' : 'train', label, defectType: label ? 'square' : 'good', imagePath: `#${i}`,
});

/** n images of size s (uint8 HWC); defect images get a (s/4)-square of 255 at a random place. */
export function syntheticImages(n: number, s: number, seed: number, defect = false): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n * s * s * 3);
  for (let i = 0; i < n; i++) {
    const q = Math.max(4, s >> 2);
    const y0 = rng.int(s - q), x0 = rng.int(s - q);
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++)
        for (let c = 0; c < 3; c++) {
          let v = 90 + (60 * x) / s + 10 * c + rng.normal() * 6;
          if (defect && y >= y0 && y < y0 + q && x >= x0 && x < x0 + q) v = c === 0 ? 255 : 20;
          out[((i * s + y) * s + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
  }
  return out;
}

/** The fixed teacher: [N, S, S, 3] uint8 → [N, grid, grid, C]. */
export function teacherFeatures(images: Uint8Array, n: number, s: number, grid: number, channels: number): Tensor4D {
  return tf.tidy(() => {
    const x = tf.div(tf.tensor4d(Float32Array.from(images), [n, s, s, 3]), 255) as Tensor4D;
    const pooled = tf.avgPool(x, s / grid, s / grid, 'valid') as Tensor4D;
    const w = new Rng(7).normalTensor([1, 1, 3, channels], 0, 2) as Tensor4D;
    return tf.tanh(tf.conv2d(tf.sub(pooled, 0.5) as Tensor4D, w, 1, 'same')) as Tensor4D;
  });
}

export function fitData(n: number, s: number, seed: number, grid: number, channels: number, defect = false, withFeatures = true) {
  const images = syntheticImages(n, s, seed, defect);
  const features = withFeatures ? teacherFeatures(images, n, s, grid, channels) : undefined;
  const data = tensorFitData(Array.from({ length: n }, (_, i) => sample(i, defect ? 1 : 0)), { features, images: { size: s, data: images } });
  return { data, features, images };
}

export const ctxOf = (train: Record<string, unknown>, extra: Partial<FitContext> = {}): FitContext => ({
  train: TrainConfigSchema.parse({ evalEvery: 0, seed: 0, clipNorm: null, ...train }), seed: 0, label: 'test', log: () => {}, ...extra,
});

/** AUROC of scores of normals (label 0) vs anomalies (label 1). */
export function auroc(normal: number[], anomalous: number[]): number {
  let s = 0;
  for (const a of anomalous) for (const b of normal) s += a > b ? 1 : a === b ? 0.5 : 0;
  return s / (normal.length * anomalous.length);
}
