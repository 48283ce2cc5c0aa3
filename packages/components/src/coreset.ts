// Greedy k-center coreset subsampling (PatchCore, Roth et al. 2022, Sec. 3.2, Algorithm 1):
// start from one random point, then repeatedly add the point farthest from the chosen set.
// Distances are measured after a random linear projection to a lower dimension (Johnson–Lindenstrauss;
// the paper uses 128 dims).
//
// The greedy loop is exact, but it does not recompute all N distances for every new centre (that is
// a memory-bound matrix-vector product per centre: minutes for a 600k-patch bank on a CPU). Instead:
//  * each point keeps an upper bound of its distance to the chosen set (distances only shrink as
//    centres are added) and how many centres the bound includes;
//  * to pick the next centre we walk the `candidates` points with the largest bounds, bring each up to
//    date in JS, and stop as soon as the next bound cannot beat the best exact value found: that point
//    is the true farthest point;
//  * every `batch` picks, the centres a point has missed are applied with one matMul per group of points
//    (‖x‖² + ‖c‖² − 2x·c on the native engine) — but only to points whose bound is still at least
//    `dormancy` × the current squared covering radius. The others cannot be picked until the radius has
//    shrunk below their bound; they are brought up to date lazily when that happens, and most never are.
import { tf, UserError } from '@unified-ad/core';
import type { Rng } from '@unified-ad/core';
import type { Tensor2D } from '@tensorflow/tfjs-node';

export interface KCenterResult {
  /** indices of the chosen points, in the order they were chosen */
  indices: Int32Array;
  /** covering radius after each pick: radii[i] = max_x min_{j ≤ i} ‖x − c_j‖ (in the space searched) */
  radii: Float64Array;
}

export interface KCenterOptions {
  /** picks between batched updates (default 64) */
  batch?: number;
  /** points with the largest distance bounds examined per pick (default 4096) */
  candidates?: number;
  /** batched updates skip points whose squared-distance bound is below this fraction of the squared radius (default 0.5) */
  dormancy?: number;
}

/**
 * Greedy k-center selection on n points (row-major [n, dim] float32) starting at `start`: exact up to
 * float32 rounding of distances (ties go to the lowest point index where they are seen).
 */
export function kCenterGreedy(points: Float32Array, dim: number, k: number, start: number, opts: KCenterOptions = {}): KCenterResult {
  const n = Math.floor(points.length / dim);
  if (n * dim !== points.length || n === 0) throw new UserError(`k-center: ${points.length} values do not form rows of ${dim}`);
  if (!(Number.isInteger(k) && k >= 1 && k <= n)) throw new UserError(`k-center: k must be an integer in [1, ${n}], got ${k}`);
  if (!(Number.isInteger(start) && start >= 0 && start < n)) throw new UserError(`k-center: start index ${start} out of range [0, ${n})`);
  const batch = Math.max(1, opts.batch ?? 64);
  const dormancy = opts.dormancy ?? 0.5;
  let nCand = Math.min(n, Math.max(1, opts.candidates ?? 4096));
  const maxLag = 2 * batch; // a candidate missing more centres than this triggers a batched update

  // centre the data: smaller norms, less cancellation in ‖x‖² + ‖c‖² − 2x·c
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += points[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= n;
  const xs = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) xs[i * dim + j] = points[i * dim + j] - mean[j];

  const X = tf.tensor2d(xs, [n, dim]);
  const rowChunk = 16384;

  const minD2 = new Float64Array(n).fill(Infinity); // upper bound of the squared distance to the chosen set
  const upTo = new Int32Array(n); // centres [0, upTo[x]) are included in minD2[x]
  const centres = new Int32Array(k);
  const radii = new Float64Array(k);
  const flushCounts: number[] = [0]; // `count` at each batched update, ascending
  let count = 0; // centres chosen
  let radius2 = Infinity; // current squared covering radius (exact, from the last pick)
  let candIdx = new Int32Array(0);
  let candVal = new Float64Array(0);

  const d2 = (a: number, b: number): number => {
    let s = 0;
    const oa = a * dim;
    const ob = b * dim;
    for (let j = 0; j < dim; j++) {
      const t = xs[oa + j] - xs[ob + j];
      s += t * t;
    }
    return s;
  };

  /** squared distances of rows `rows` to their nearest centre among centres[from, count), via matMul */
  const minToCentres = (rows: Int32Array, from: number): Float32Array => {
    const out = new Float32Array(rows.length);
    const ids = centres.subarray(from, count);
    const cT = tf.tidy(() => tf.mul(tf.transpose(tf.gather(X, ids)), -2)); // [dim, b]
    const cNorm = tf.tidy(() => tf.sum(tf.square(tf.gather(X, ids)), 1)); // [b]
    try {
      for (let r0 = 0; r0 < rows.length; r0 += rowChunk) {
        const part = rows.subarray(r0, Math.min(rows.length, r0 + rowChunk));
        const v = tf.tidy(() => {
          const xr = tf.gather(X, part) as Tensor2D;
          // min_c (‖c‖² − 2x·c) + ‖x‖², the matMul fused with the bias
          const m = tf.min(tf.fused.matMul({ a: xr, b: cT as Tensor2D, bias: cNorm }), 1);
          return tf.relu(tf.add(m, tf.sum(tf.square(xr), 1)));
        });
        out.set(v.dataSync() as Float32Array, r0);
        v.dispose();
      }
    } finally {
      tf.dispose([cT, cNorm]);
    }
    return out;
  };

  /** brings every point with bound ≥ tau up to date (grouped by the update they last had), then refreshes the candidates */
  const flush = (tau: number): void => {
    if (flushCounts[flushCounts.length - 1] !== count || tau < Infinity) {
      const groups = new Map<number, number[]>();
      for (let x = 0; x < n; x++) {
        if (upTo[x] >= count || minD2[x] < tau) continue;
        // the last batched update at or before upTo[x] (binary search)
        let lo = 0;
        let hi = flushCounts.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (flushCounts[mid] <= upTo[x]) lo = mid;
          else hi = mid - 1;
        }
        const from = flushCounts[lo];
        let g = groups.get(from);
        if (!g) groups.set(from, (g = []));
        g.push(x);
      }
      for (const [from, list] of groups) {
        const rows = Int32Array.from(list);
        const v = minToCentres(rows, from);
        for (let i = 0; i < rows.length; i++) {
          const x = rows[i];
          if (v[i] < minD2[x]) minD2[x] = v[i];
          upTo[x] = count;
        }
      }
      for (let j = 0; j < count; j++) minD2[centres[j]] = 0;
      if (flushCounts[flushCounts.length - 1] !== count) flushCounts.push(count);
    }
    // the nCand largest bounds, in decreasing order
    const t = tf.tensor1d(Float32Array.from(minD2));
    const top = tf.topk(t, nCand, true);
    candIdx = Int32Array.from(top.indices.dataSync());
    candVal = new Float64Array(nCand);
    for (let i = 0; i < nCand; i++) candVal[i] = minD2[candIdx[i]];
    tf.dispose([t, top.indices, top.values]);
  };

  type Pick = { kind: 'ok'; best: number; value: number } | { kind: 'lag'; bound: number } | { kind: 'exhausted' };
  /** the farthest point from the chosen set, or why there is no certificate yet */
  const farthest = (): Pick => {
    let best = -1;
    let lb = -1;
    for (let i = 0; i < candIdx.length; i++) {
      // bounds are sorted only up to float32 rounding in topk: keep a tiny margin before stopping
      if (candVal[i] * (1 + 1e-6) < lb) return { kind: 'ok', best, value: lb };
      const x = candIdx[i];
      if (upTo[x] < count) {
        if (count - upTo[x] > maxLag) return { kind: 'lag', bound: minD2[x] };
        let m = minD2[x];
        for (let j = upTo[x]; j < count; j++) {
          const d = d2(x, centres[j]);
          if (d < m) m = d;
        }
        minD2[x] = m;
        upTo[x] = count;
      }
      const m = minD2[x];
      if (m > lb || (m === lb && x < best)) {
        lb = m;
        best = x;
      }
    }
    if (candIdx.length === n) return { kind: 'ok', best, value: lb }; // every point examined
    return { kind: 'exhausted' };
  };

  try {
    centres[0] = start;
    count = 1;
    flush(-Infinity);
    let sinceFlush = 0;
    while (true) {
      let pick = farthest();
      for (let attempt = 0; pick.kind !== 'ok'; attempt++) {
        if (attempt > 100) throw new Error('k-center: no certificate after repeated updates');
        if (pick.kind === 'lag') {
          flush(Math.min(dormancy * radius2, pick.bound));
        } else {
          // candidates ran out: refresh them from updated bounds; widen the list if that was not enough
          if (attempt > 0) nCand = Math.min(n, nCand * 4);
          flush(dormancy * radius2);
        }
        sinceFlush = 0;
        pick = farthest();
      }
      radius2 = pick.value;
      radii[count - 1] = Math.sqrt(pick.value);
      if (count === k) break;
      centres[count++] = pick.best;
      minD2[pick.best] = 0;
      upTo[pick.best] = count;
      if (++sinceFlush >= batch) {
        flush(dormancy * radius2);
        sinceFlush = 0;
      }
    }
  } finally {
    X.dispose();
  }
  return { indices: centres, radii };
}

export interface CoresetOptions extends KCenterOptions {
  /** number of points to keep */
  size: number;
  /** dimension of the random projection used for the distances; no projection when the features are not wider */
  projectionDim: number;
  rng: Rng;
}

/**
 * Greedy coreset of the rows of `features` [M, C] (PatchCore Algorithm 1): a seeded Gaussian random
 * projection to `projectionDim` dims, a random start, then k-center greedy. Returns row indices.
 */
export function greedyCoreset(features: Tensor2D, opts: CoresetOptions): KCenterResult {
  const [m, c] = features.shape;
  const size = Math.min(Math.max(1, Math.round(opts.size)), m);
  let projected: Float32Array;
  let dim: number;
  if (c > opts.projectionDim) {
    dim = opts.projectionDim;
    const proj = opts.rng.normalTensor([c, dim], 0, 1 / Math.sqrt(dim)) as Tensor2D;
    const p = tf.matMul(features, proj);
    projected = p.dataSync() as Float32Array;
    tf.dispose([p, proj]);
  } else {
    dim = c;
    projected = features.dataSync() as Float32Array;
  }
  const start = opts.rng.int(m);
  return kCenterGreedy(projected, dim, size, start, opts);
}
