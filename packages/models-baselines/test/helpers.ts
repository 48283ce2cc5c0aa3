// Synthetic features for the method tests: "normal" = a fixed per-position pattern + small Gaussian noise;
// an anomaly = a square patch of positions shifted far along a fixed random direction.
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng } from '@unified-ad/core';

export interface Defect {
  top: number;
  left: number;
  size: number;
}

export function normalFeatures(n: number, grid: number, c: number, seed: number, noise = 0.1): Tensor4D {
  return tf.tidy(() => {
    const base = new Rng(1234).normalTensor([1, grid, grid, c]);
    return tf.add(base, new Rng(seed).normalTensor([n, grid, grid, c], 0, noise)) as Tensor4D;
  });
}

/** Adds `shift` (along a unit random direction, scaled) to the positions of `defect` in every sample. */
export function withDefect(x: Tensor4D, defect: Defect, shift = 3): Tensor4D {
  return tf.tidy(() => {
    const [, h, w, c] = x.shape;
    const mask = tf.buffer([1, h, w, 1]);
    for (let i = defect.top; i < defect.top + defect.size; i++) for (let j = defect.left; j < defect.left + defect.size; j++) mask.set(1, 0, i, j, 0);
    const dir = new Rng(99).normalTensor([1, 1, 1, c]);
    const unit = tf.div(dir, tf.norm(dir));
    return tf.add(x, tf.mul(mask.toTensor(), tf.mul(unit, shift * Math.sqrt(c)))) as Tensor4D;
  });
}

/** Mean of a map inside / outside the defect square, and where its maximum is. */
export function mapStats(map: ArrayLike<number>, grid: number, d: Defect): { inside: number; outside: number; argmaxInside: boolean } {
  let si = 0;
  let ni = 0;
  let so = 0;
  let no = 0;
  let best = -Infinity;
  let bestIn = false;
  for (let i = 0; i < grid; i++)
    for (let j = 0; j < grid; j++) {
      const v = map[i * grid + j];
      const inside = i >= d.top && i < d.top + d.size && j >= d.left && j < d.left + d.size;
      if (inside) {
        si += v;
        ni++;
      } else {
        so += v;
        no++;
      }
      if (v > best) {
        best = v;
        bestIn = inside;
      }
    }
  return { inside: si / ni, outside: so / no, argmaxInside: bestIn };
}
