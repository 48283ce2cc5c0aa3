// Exact nearest-neighbour search on the native engine: ‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b with one fused matMul
// per chunk of queries (so that a [chunk, K] distance block stays near 64 MB); the argmin needs only ‖b‖² − 2a·b.
import { tf, UserError } from '@unified-ad/core';
import type { Tensor1D, Tensor2D } from '@tensorflow/tfjs-node';

export interface Neighbors {
  /** Euclidean distances [Q, k], ascending per row */
  distances: Tensor2D;
  /** bank row indices [Q, k] (int32) */
  indices: Tensor2D;
}

/** Squared norms of the rows of `x` [K, C] as [1, K] (reusable across searches against the same bank). */
export function rowNormsSquared(x: Tensor2D): Tensor2D {
  return tf.tidy(() => tf.reshape(tf.sum(tf.square(x), 1), [1, x.shape[0]]) as Tensor2D);
}

/**
 * The k nearest bank rows of each query row. queries [Q, C], bank [K, C]; `bankNorms` from rowNormsSquared(bank).
 * Returns new tensors owned by the caller.
 */
export function nearestNeighbors(queries: Tensor2D, bank: Tensor2D, k = 1, bankNorms?: Tensor2D): Neighbors {
  const [q, c] = queries.shape;
  const [nb, cb] = bank.shape;
  if (c !== cb) throw new UserError(`nearest neighbours: queries have ${c} channels, the memory bank ${cb}`);
  if (!(Number.isInteger(k) && k >= 1 && k <= nb)) throw new UserError(`nearest neighbours: k must be in [1, ${nb}], got ${k}`);
  const norms = bankNorms ?? rowNormsSquared(bank);
  // −2·bankᵀ [C, K] and ‖b‖² [K]: each chunk is one fused matMul a·(−2bᵀ) + ‖b‖², then + ‖a‖²
  const bT = tf.tidy(() => tf.mul(tf.transpose(bank), -2)) as Tensor2D;
  const bias = tf.reshape(norms, [nb]);
  const chunk = Math.max(1, Math.floor((16 << 20) / nb));
  const dParts: Tensor2D[] = [];
  const iParts: Tensor2D[] = [];
  try {
    for (let r0 = 0; r0 < q; r0 += chunk) {
      const rc = Math.min(chunk, q - r0);
      const [d, i] = tf.tidy(() => {
        const a = rc === q ? queries : tf.slice(queries, [r0, 0], [rc, c]);
        const aNorm = tf.sum(tf.square(a), 1, true); // [rc, 1]
        const partial = tf.fused.matMul({ a, b: bT, bias }); // ‖b‖² − 2a·b, [rc, K]
        if (k === 1) {
          const idx = tf.argMin(partial, 1);
          const best = tf.add(tf.reshape(tf.min(partial, 1), [rc, 1]), aNorm);
          return [tf.sqrt(tf.relu(best)), tf.reshape(idx, [rc, 1])];
        }
        const top = tf.topk(tf.neg(partial), k, true);
        return [tf.sqrt(tf.relu(tf.sub(aNorm, top.values))), top.indices];
      });
      dParts.push(d as Tensor2D);
      iParts.push(i as Tensor2D);
    }
    const distances = dParts.length === 1 ? dParts[0] : (tf.concat(dParts, 0) as Tensor2D);
    const indices = iParts.length === 1 ? iParts[0] : (tf.concat(iParts, 0) as Tensor2D);
    if (dParts.length > 1) tf.dispose([...dParts, ...iParts]);
    return { distances, indices };
  } finally {
    tf.dispose([bT, bias]);
    if (!bankNorms) norms.dispose();
  }
}

/** Distances [Q] from each query row to its nearest bank row (k = 1 shortcut). */
export function nearestDistance(queries: Tensor2D, bank: Tensor2D, bankNorms?: Tensor2D): { distance: Tensor1D; index: Tensor1D } {
  const nn = nearestNeighbors(queries, bank, 1, bankNorms);
  const out = tf.tidy(() => ({ distance: tf.reshape(nn.distances, [-1]) as Tensor1D, index: tf.reshape(nn.indices, [-1]) as Tensor1D }));
  tf.dispose([nn.distances, nn.indices]);
  return out;
}
