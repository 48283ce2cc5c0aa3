// Synthetic images for the method tests: smooth normal images and the same kind of image with a defect patch.
import { Rng, tensorFitData, TrainConfigSchema, type FitData, type Sample, type TrainConfig } from '@unified-ad/core';

export const sample = (i: number, label: 0 | 1 = 0): Sample => ({
  id: `s${i}`, className: 'synthetic', split: label ? 'test' : 'train', label, defectType: label ? 'patch' : 'good', imagePath: `#${i}`,
});

/** n images of side s: a diagonal colour gradient with a random brightness shift and noise; defects get a 6–9 px square of a contrasting colour. */
export function syntheticImages(n: number, s: number, seed: number, defect: boolean): Uint8Array {
  const rng = new Rng(seed);
  const out = new Uint8Array(n * s * s * 3);
  for (let k = 0; k < n; k++) {
    const shift = rng.uniform(-15, 15);
    const base = k * s * s * 3;
    for (let i = 0; i < s; i++)
      for (let j = 0; j < s; j++)
        for (let c = 0; c < 3; c++) {
          const v = 60 + 40 * c + (100 * (i + j)) / (2 * s) + shift + rng.uniform(-4, 4);
          out[base + (i * s + j) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
        }
    if (defect) {
      const d = 6 + rng.int(4);
      const y = rng.int(s - d), x = rng.int(s - d);
      const col = [230, 30 + rng.int(40), 200 * rng.int(2)];
      for (let i = y; i < y + d; i++) for (let j = x; j < x + d; j++) for (let c = 0; c < 3; c++) out[base + (i * s + j) * 3 + c] = col[c]!;
    }
  }
  return out;
}

export function trainData(n: number, s: number, seed = 1): FitData {
  return tensorFitData(Array.from({ length: n }, (_, i) => sample(i)), { images: { size: s, data: syntheticImages(n, s, seed, false) } });
}

/** Test data: `n` normals then `n` defects (labels 0 … 0, 1 … 1). */
export function testData(n: number, s: number, seed = 7): { data: FitData; labels: number[] } {
  const a = syntheticImages(n, s, seed, false), b = syntheticImages(n, s, seed + 1, true);
  const all = new Uint8Array(a.length + b.length);
  all.set(a);
  all.set(b, a.length);
  const samples = [...Array.from({ length: n }, (_, i) => sample(i)), ...Array.from({ length: n }, (_, i) => sample(n + i, 1))];
  return { data: tensorFitData(samples, { images: { size: s, data: all } }), labels: [...Array(n).fill(0), ...Array(n).fill(1)] };
}

/** AUROC of scores against 0/1 labels (ties count half). */
export function auroc(scores: ArrayLike<number>, labels: number[]): number {
  let wins = 0, pairs = 0;
  labels.forEach((li, i) => {
    if (li !== 1) return;
    labels.forEach((lj, j) => {
      if (lj !== 0) return;
      pairs++;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

export const trainConfig = (over: Record<string, unknown>): TrainConfig => TrainConfigSchema.parse({ evalEvery: 0, seed: 0, ...over });
