import { describe, it, expect } from 'vitest';
import type { Tensor2D } from '@tensorflow/tfjs-node';
import { tf, Rng } from '@unified-ad/core';
import { kCenterGreedy, greedyCoreset, nearestNeighbors } from '../src';

function randomPoints(n: number, dim: number, seed: number): Float32Array {
  const r = new Rng(seed);
  // a few clusters of different spread, so distances are far from uniform
  const centres = Array.from({ length: 5 }, () => Array.from({ length: dim }, () => r.normal() * 4));
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centres[r.int(5)];
    const s = 0.2 + r.next();
    for (let j = 0; j < dim; j++) out[i * dim + j] = c[j] + s * r.normal();
  }
  return out;
}

const dist = (p: Float32Array, dim: number, a: number, b: number) => {
  let s = 0;
  for (let j = 0; j < dim; j++) s += (p[a * dim + j] - p[b * dim + j]) ** 2;
  return Math.sqrt(s);
};

/** Brute force: the textbook greedy (farthest point first, lowest index on ties). */
function naiveGreedy(p: Float32Array, dim: number, k: number, start: number): number[] {
  const n = p.length / dim;
  const chosen = [start];
  const minD = Array.from({ length: n }, (_, x) => dist(p, dim, x, start));
  while (chosen.length < k) {
    let best = 0;
    for (let x = 1; x < n; x++) if (minD[x] > minD[best]) best = x;
    chosen.push(best);
    for (let x = 0; x < n; x++) minD[x] = Math.min(minD[x], dist(p, dim, x, best));
  }
  return chosen;
}

const coverRadius = (p: Float32Array, dim: number, centres: number[]) => {
  const n = p.length / dim;
  let r = 0;
  for (let x = 0; x < n; x++) r = Math.max(r, Math.min(...centres.map((c) => dist(p, dim, x, c))));
  return r;
};

function* subsets(n: number, k: number, from = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === k) {
    yield acc.slice();
    return;
  }
  for (let i = from; i < n; i++) {
    acc.push(i);
    yield* subsets(n, k, i + 1, acc);
    acc.pop();
  }
}

describe('k-center greedy coreset', () => {
  it('tiny case: every pick is the farthest point (brute force) and the radius is within 2× the optimum', () => {
    const dim = 3;
    for (const seed of [1, 2, 3]) {
      const p = randomPoints(14, dim, seed);
      for (const k of [1, 3, 4]) {
        const r = kCenterGreedy(p, dim, k, 5, { batch: 2, candidates: 3 });
        const got = Array.from(r.indices);
        expect(got).toEqual(naiveGreedy(p, dim, k, 5));
        // k-center property: each new centre maximises the distance to the previous ones
        for (let i = 1; i < k; i++) {
          const prev = got.slice(0, i);
          const dNew = Math.min(...prev.map((c) => dist(p, dim, got[i], c)));
          for (let x = 0; x < 14; x++) expect(Math.min(...prev.map((c) => dist(p, dim, x, c)))).toBeLessThanOrEqual(dNew + 1e-6);
        }
        // reported covering radius is the true one, and at most 2 × the optimal k-center radius
        const rad = coverRadius(p, dim, got);
        expect(r.radii[k - 1]).toBeCloseTo(rad, 4);
        let opt = Infinity;
        for (const s of subsets(14, k)) opt = Math.min(opt, coverRadius(p, dim, s));
        expect(rad).toBeLessThanOrEqual(2 * opt + 1e-9);
        for (let i = 1; i < k; i++) expect(r.radii[i]).toBeLessThanOrEqual(r.radii[i - 1]);
      }
    }
  });

  it('equals the naive greedy on a larger case, for any batch / candidate-list setting', () => {
    const dim = 8;
    const p = randomPoints(1500, dim, 7);
    const want = naiveGreedy(p, dim, 60, 11);
    for (const opts of [{}, { batch: 1, candidates: 1 }, { batch: 7, candidates: 16 }, { batch: 200, candidates: 5000 }]) {
      expect(Array.from(kCenterGreedy(p, dim, 60, 11, opts).indices)).toEqual(want);
    }
  });

  it('greedyCoreset: seeded projection + start; deterministic; bad input is a clear error', () => {
    const x = tf.tensor2d(randomPoints(500, 16, 3), [500, 16]) as Tensor2D;
    const a = greedyCoreset(x, { size: 20, projectionDim: 4, rng: new Rng(1) });
    const b = greedyCoreset(x, { size: 20, projectionDim: 4, rng: new Rng(1) });
    const c = greedyCoreset(x, { size: 20, projectionDim: 4, rng: new Rng(2) });
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.indices)).not.toEqual(Array.from(c.indices));
    expect(new Set(a.indices).size).toBe(20);
    // without projection (C ≤ projectionDim) the radius is the covering radius in feature space
    const d = greedyCoreset(x, { size: 20, projectionDim: 16, rng: new Rng(1) });
    expect(d.radii[19]).toBeCloseTo(coverRadius(x.dataSync() as Float32Array, 16, Array.from(d.indices)), 4);
    expect(() => kCenterGreedy(new Float32Array(10), 3, 1, 0)).toThrow(/do not form rows of 3/);
    expect(() => kCenterGreedy(new Float32Array(12), 3, 5, 0)).toThrow(/k must be an integer in \[1, 4\]/);
    x.dispose();
  });
});

describe('nearest neighbours', () => {
  it('matches brute force distances and indices (k = 1 and k = 4), across query chunks', () => {
    const dim = 5;
    const bankP = randomPoints(300, dim, 1);
    const qP = randomPoints(40, dim, 2);
    const bank = tf.tensor2d(bankP, [300, dim]) as Tensor2D;
    const q = tf.tensor2d(qP, [40, dim]) as Tensor2D;
    for (const k of [1, 4]) {
      const n0 = tf.memory().numTensors;
      const r = nearestNeighbors(q, bank, k);
      const d = r.distances.arraySync() as number[][];
      const idx = r.indices.arraySync() as number[][];
      for (let i = 0; i < 40; i++) {
        const all = Array.from({ length: 300 }, (_, j) => {
          let s = 0;
          for (let t = 0; t < dim; t++) s += (qP[i * dim + t] - bankP[j * dim + t]) ** 2;
          return [Math.sqrt(s), j];
        }).sort((a, b) => a[0] - b[0]);
        for (let t = 0; t < k; t++) {
          expect(d[i][t]).toBeCloseTo(all[t][0], 3);
          expect(idx[i][t]).toBe(all[t][1]);
        }
      }
      tf.dispose([r.distances, r.indices]);
      expect(tf.memory().numTensors).toBe(n0);
    }
    tf.dispose([bank, q]);
  });
});
