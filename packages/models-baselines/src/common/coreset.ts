// Greedy k-center coreset subsampling (PatchCore, Roth et al. 2022, Sec. 3.2, Algorithm 1):
// start from one random point, then repeatedly add the point farthest from the chosen set.
// Distances are measured after a random linear projection to a lower dimension (Johnson–Lindenstrauss;
// the paper uses 128 dims).
//
// The greedy loop is exact, but it does not recompute all N distances for every new centre (that is
// a memory-bound matrix-vector product per centre, minutes for a 600k-patch bank on a CPU). Instead:
//  * new centres are queued and applied to all points in batches of `batch` with one matMul
//    (‖x‖² + ‖c‖² − 2x·c on the native engine: compute-bound, same total FLOPs);
//  * between batches, each point's stored distance is an upper bound of its true distance to the
//    chosen set (distances only shrink as centres are added). To pick the next centre we walk the
//    `candidates` points with the largest bounds, bring each up to date in JS, and stop as soon as the
//    next bound cannot beat the best exact value found: that point is the true farthest point.
//    When the walk runs off the candidate list without a certificate, the queue is flushed first.
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
  /** centres applied to all points per matMul (default 64) */
  batch?: number;
  /** points with the largest distance bounds examined per pick (default 4096) */
  candidates?: number;
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
  let nCand = Math.min(n, Math.max(1, opts.candidates ?? 4096));

  // centre the data: smaller norms, less cancellation in ‖x‖² + ‖c‖² − 2x·c
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += points[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= n;
  const xs = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) xs[i * dim + j] = points[i * dim + j] - mean[j];

  const X = tf.tensor2d(xs, [n, dim]);
  const xNorm = tf.tidy(() => tf.sum(tf.square(X), 1, true)); // [n, 1]
  const rowChunk = Math.max(1, Math.floor((4 << 20) / batch));

  const minD2 = new Float64Array(n).fill(Infinity); // upper bound of the squared distance to the chosen set
  const upTo = new Int32Array(n); // centres [0, upTo[x]) are included in minD2[x]
  const centres = new Int32Array(k);
  const radii = new Float64Array(k);
  let count = 0; // centres chosen
  let applied = 0; // centres applied to every point
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

  /** applies queued centres [applied, count) to all points, then refreshes the candidate list */
  const flush = (): void => {
    if (applied < count) {
      const ids = Array.from(centres.subarray(applied, count));
      const fromTf = tf.tidy(() => {
        const c = tf.gather(X, ids); // [b, dim]
        const cNorm = tf.reshape(tf.sum(tf.square(c), 1), [1, ids.length]);
        const parts: import('@tensorflow/tfjs-node').Tensor[] = [];
        for (let r0 = 0; r0 < n; r0 += rowChunk) {
          const rc = Math.min(rowChunk, n - r0);
          const xr = tf.slice(X, [r0, 0], [rc, dim]);
          const nr = tf.slice(xNorm, [r0, 0], [rc, 1]);
          const dd = tf.sub(tf.add(nr, cNorm), tf.mul(2, tf.matMul(xr, c, false, true)));
          parts.push(tf.min(dd, 1));
        }
        return tf.relu(tf.concat(parts));
      });
      const v = fromTf.dataSync() as Float32Array;
      fromTf.dispose();
      for (let x = 0; x < n; x++) {
        if (v[x] < minD2[x]) minD2[x] = v[x];
        upTo[x] = count;
      }
      for (let j = applied; j < count; j++) minD2[centres[j]] = 0;
      applied = count;
    }
    // the nCand largest bounds, in decreasing order
    const t = tf.tensor1d(Float32Array.from(minD2));
    const top = tf.topk(t, nCand, true);
    candIdx = Int32Array.from(top.indices.dataSync());
    // use the float64 values of the bounds (topk saw float32 copies)
    candVal = new Float64Array(nCand);
    for (let i = 0; i < nCand; i++) candVal[i] = minD2[candIdx[i]];
    tf.dispose([t, top.indices, top.values]);
  };

  /** the farthest point from the chosen set and its squared distance, or null without a certificate */
  const farthest = (): [number, number] | null => {
    let best = -1;
    let lb = -1;
    for (let i = 0; i < candIdx.length; i++) {
      // bounds are sorted only up to float32 rounding in topk: keep a tiny margin before stopping
      if (candVal[i] * (1 + 1e-6) < lb) return [best, lb];
      const x = candIdx[i];
      if (upTo[x] < count) {
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
    if (candIdx.length === n) return [best, lb]; // every point examined
    return null;
  };

  try {
    centres[0] = start;
    count = 1;
    flush();
    while (true) {
      let pick = farthest();
      if (pick === null) {
        flush();
        pick = farthest();
        if (pick === null) {
          // bounds are exact after a flush, so this only happens with many near-ties: widen the list
          nCand = Math.min(n, nCand * 4);
          flush();
          pick = farthest();
          if (pick === null) throw new Error('k-center: no certificate after a full flush');
        }
      }
      radii[count - 1] = Math.sqrt(pick[1]);
      if (count === k) break;
      centres[count++] = pick[0];
      minD2[pick[0]] = 0;
      upTo[pick[0]] = count;
      if (count - applied >= batch) flush();
    }
  } finally {
    X.dispose();
    xNorm.dispose();
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
