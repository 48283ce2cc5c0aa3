// Exact ordering of float scores without per-element objects: float32 bits -> order-preserving uint32
// keys, then an LSD radix sort (2 passes of 16 bits; a pass whose digit is constant is skipped).
import { UserError } from '@unified-ad/core';

const RADIX_BITS = 16;
const RADIX = 1 << RADIX_BITS;
const MASK = RADIX - 1;

/**
 * Order-preserving uint32 key of a float32 bit pattern: positive floats get the sign bit set, negative floats
 * are bit-inverted, so unsigned key order equals numeric order. -0 is mapped to the key of +0 (they tie).
 */
export function floatBitsToKey(bits: number): number {
  const k = (bits ^ ((bits >> 31) | 0x80000000)) >>> 0;
  return k === 0x7fffffff ? 0x80000000 : k;
}

/** Inverse of floatBitsToKey (for reporting thresholds): the float32 value of a key. */
export function keyToFloat(key: number): number {
  const bits = key & 0x80000000 ? key ^ 0x80000000 : ~key;
  const u = new Uint32Array([bits >>> 0]);
  return new Float32Array(u.buffer)[0];
}

/** Throws a one-line UserError if a float32 bit pattern is NaN or ±Infinity. */
export function assertFiniteBits(bits: number, what: string, index: number, value: () => number): void {
  if ((bits & 0x7f800000) === 0x7f800000) {
    throw new UserError(`${what}: score at index ${index} is ${value()}; scores must be finite numbers`);
  }
}

/** Digit histograms for radixSortU32: counts of the low and the high 16 bits of every key. */
export function newRadixHistogram(): Uint32Array {
  return new Uint32Array(2 * RADIX);
}

/** Adds one key to a histogram made by newRadixHistogram (lets a caller fuse counting into its own pass). */
export function countKey(hist: Uint32Array, k: number): void {
  hist[k & MASK]++;
  hist[RADIX + (k >>> RADIX_BITS)]++;
}

/**
 * Sorts `keys` ascending (unsigned) in place: LSD radix sort, two passes of 16 bits (measured faster than three
 * passes of 11 bits on 84 M keys: 2.1 s vs 3.3 s). `scratch` needs at least keys.length elements. When `payload`
 * is given (with `payloadScratch`), it is permuted alongside (stable). `hist` may carry the digit counts if the
 * caller already made them with countKey; otherwise they are counted here.
 */
export function radixSortU32(
  keys: Uint32Array,
  scratch: Uint32Array,
  payload?: Uint32Array,
  payloadScratch?: Uint32Array,
  hist?: Uint32Array,
): void {
  const n = keys.length;
  if (n < 2) return;
  if (scratch.length < n) throw new Error(`radixSortU32: scratch has ${scratch.length} < ${n} elements`);
  if (payload && (!payloadScratch || payload.length !== n || payloadScratch.length < n)) {
    throw new Error('radixSortU32: payload and payloadScratch must match keys');
  }
  if (!hist) {
    hist = newRadixHistogram();
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      hist[k & MASK]++;
      hist[RADIX + (k >>> RADIX_BITS)]++;
    }
  }
  const tmp = scratch.length === n ? scratch : scratch.subarray(0, n);
  const ptmp = payload ? (payloadScratch!.length === n ? payloadScratch! : payloadScratch!.subarray(0, n)) : undefined;
  const lowTrivial = isTrivial(hist, 0, n);
  const highTrivial = isTrivial(hist, RADIX, n);
  if (lowTrivial && highTrivial) return;
  if (lowTrivial || highTrivial) {
    // one pass into scratch, copy back
    scatter(keys, tmp, payload, ptmp, offsets(hist, highTrivial ? 0 : RADIX), highTrivial ? 0 : RADIX_BITS);
    keys.set(tmp);
    if (payload && ptmp) payload.set(ptmp);
    return;
  }
  scatter(keys, tmp, payload, ptmp, offsets(hist, 0), 0);
  scatter(tmp, keys, ptmp, payload, offsets(hist, RADIX), RADIX_BITS);
}

function isTrivial(hist: Uint32Array, base: number, n: number): boolean {
  for (let b = 0; b < RADIX; b++) {
    const c = hist[base + b];
    if (c !== 0) return c === n;
  }
  return false;
}

function offsets(hist: Uint32Array, base: number): Uint32Array {
  const offs = new Uint32Array(RADIX);
  let sum = 0;
  for (let b = 0; b < RADIX; b++) {
    offs[b] = sum;
    sum += hist[base + b];
  }
  return offs;
}

function scatter(
  src: Uint32Array,
  dst: Uint32Array,
  psrc: Uint32Array | undefined,
  pdst: Uint32Array | undefined,
  offs: Uint32Array,
  shift: number,
): void {
  const n = src.length;
  if (psrc && pdst) {
    for (let i = 0; i < n; i++) {
      const k = src[i];
      const o = offs[(k >>> shift) & MASK]++;
      dst[o] = k;
      pdst[o] = psrc[i];
    }
  } else {
    for (let i = 0; i < n; i++) {
      const k = src[i];
      dst[offs[(k >>> shift) & MASK]++] = k;
    }
  }
}
