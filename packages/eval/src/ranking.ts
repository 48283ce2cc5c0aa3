// Scores and 0/1 labels -> GroupedCounts (counts.ts), the one structure every exact metric here sweeps.
// Float32 scores are keyed by their bits (order-preserving); any other numbers are replaced by their dense rank
// among the distinct values (also order- and tie-preserving), so one uint32 code path serves both.
import { UserError } from '@unified-ad/core';
import { CountBuilder, countsFromKeys, type GroupedCounts } from './counts';
import { assertFiniteBits, floatBitsToKey, keyToFloat } from './radix';

/** Scores: Float32Array (pixel maps) or any numbers (image scores; compared as float64). */
export type Scores = Float32Array | Float64Array | ArrayLike<number>;
/** Binary labels as numbers 0/1 (Uint8Array, number[], Float32Array...). */
export type Labels = ArrayLike<number>;

/** A mask value counts as anomalous iff it is >= 0.5 (masks are binarised at 0.5). */
export const MASK_THRESHOLD = 0.5;

function checkLabel(v: number, what: string, i: number): boolean {
  if (v === 1) return true;
  if (v === 0) return false;
  throw new UserError(`${what}: label at index ${i} is ${v}; labels must be 0 or 1`);
}

/** Float32 keys of `scores` (checked finite), split by labels and counted (see counts.ts). */
export function countFloat32(scores: Float32Array, labels: Labels, what = 'scores'): GroupedCounts {
  if (scores.length !== labels.length) {
    throw new UserError(`${what}: ${scores.length} scores but ${labels.length} labels`);
  }
  const n = scores.length;
  let p = 0;
  for (let i = 0; i < n; i++) if (checkLabel(labels[i], what, i)) p++;
  const pos = new Uint32Array(p);
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, n);
  let ip = 0;
  for (let i = 0; i < n; i++) {
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000) assertFiniteBits(b, what, i, () => scores[i]);
    if (labels[i] === 1) pos[ip++] = floatBitsToKey(b);
  }
  const builder = new CountBuilder(keyToFloat);
  builder.setPositives(pos);
  for (let start = 0; start < n; start += 1 << 20) {
    const end = Math.min(n, start + (1 << 20));
    builder.reserve(end - start); // grows with the kept keys, not with n
    for (let i = start; i < end; i++) if (labels[i] !== 1) builder.addNegative(floatBitsToKey(bits[i]));
  }
  return builder.finish();
}

/** Any numeric scores (float64 semantics): dense ranks as keys, split by labels and counted. */
export function countNumbers(scores: ArrayLike<number>, labels: Labels, what = 'scores'): GroupedCounts {
  if (scores.length !== labels.length) {
    throw new UserError(`${what}: ${scores.length} scores but ${labels.length} labels`);
  }
  const n = scores.length;
  const vals = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = scores[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new UserError(`${what}: score at index ${i} is ${v}; scores must be finite numbers`);
    }
    vals[i] = v === 0 ? 0 : v; // -0 ties with +0
  }
  const uniq = Float64Array.from(vals).sort();
  let m = 0;
  for (let i = 0; i < n; i++) if (i === 0 || uniq[i] !== uniq[m - 1]) uniq[m++] = uniq[i];
  const distinct = uniq.subarray(0, m);
  let p = 0;
  for (let i = 0; i < n; i++) if (checkLabel(labels[i], what, i)) p++;
  const pos = new Uint32Array(p);
  const neg = new Uint32Array(n - p);
  let ip = 0;
  let ineg = 0;
  for (let i = 0; i < n; i++) {
    const r = lowerBound(distinct, vals[i]);
    if (labels[i] === 1) pos[ip++] = r;
    else neg[ineg++] = r;
  }
  return countsFromKeys(pos, neg, (k) => distinct[k], Math.max(1, Math.ceil(Math.log2(m + 1))));
}

/** Float32Array scores take the bit-key path; anything else the float64 rank path. */
export function countScores(scores: Scores, labels: Labels, what = 'scores'): GroupedCounts {
  return scores instanceof Float32Array ? countFloat32(scores, labels, what) : countNumbers(scores, labels, what);
}

function lowerBound(a: Float64Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
