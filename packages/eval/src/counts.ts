// The sufficient statistics of every threshold metric here, without sorting the negatives.
//
// ROC, PR and PRO curves only change slope where a positive sample's score lies: between two consecutive distinct
// positive scores only negatives are added, so those stretches are straight lines (horizontal in PR/PRO, no TPR
// change in ROC). It therefore suffices to know, for each distinct positive score u_d (ascending, d = 0..m−1):
//   tp[d]        positives with score == u_d
//   negAbove[d]  negatives with score  > u_d
//   negEqual[d]  negatives with score == u_d
//   proInc[d]    Σ 1/|region| over the positives with score == u_d (for PRO)
// Positives are few (a few % of the pixels): they are collected first and radix-sorted. Each negative is then
// seen once: it is counted in a histogram of "buckets" (the top 20 bits of its key), and only when its bucket also
// holds a positive is its key kept. The kept keys are radix-sorted and merged with the distinct positive keys;
// negatives of all other buckets are placed in bulk from the histogram. All counts are exact integers.
// Cost: a sort of the positives and of the negatives that share a bucket with one (all negatives at worst, when
// the two classes overlap everywhere) instead of a sort of every pixel; memory ~5 MB of tables plus those keys.
import { radixSortU32 } from './radix';

const MAX_BUCKET_BITS = 20;

export interface GroupedCounts {
  /** distinct keys of the positives, ascending */
  keys: Uint32Array;
  tp: Uint32Array;
  negAbove: Uint32Array;
  negEqual: Uint32Array;
  /** Σ 1/|region| of the positives at each key (only when regions were given) */
  proInc?: Float64Array;
  /** number of positives and of negatives */
  P: number;
  N: number;
  /** number of ground-truth regions (0 without regions) */
  regionCount: number;
  /** score value of a key */
  keyToValue(key: number): number;
}

/**
 * Builds GroupedCounts: setPositives(...) once, then reserve(n) before each run of up to n addNegative(key)
 * calls (hot loops may inline addNegative's two lines on negHist / posBucket / mixed), then finish().
 */
export class CountBuilder {
  /** bucket of a key = key >>> shift */
  readonly shift: number;
  readonly bucketCount: number;
  readonly negHist: Uint32Array;
  /** 1 where a bucket holds at least one positive */
  readonly posBucket: Uint8Array;
  /** kept keys of negatives in buckets with positives: mixed[0..mixedFill) */
  mixed: Uint32Array = new Uint32Array(1 << 16);
  mixedFill = 0;
  keys: Uint32Array = new Uint32Array(0);
  private tp: Uint32Array = new Uint32Array(0);
  private proInc?: Float64Array;
  private P = 0;
  private regionCount = 0;

  /** keyBits: keys are < 2^keyBits (32 for float32 keys; fewer for dense ranks, giving smaller tables). */
  constructor(
    private readonly keyToValue: (key: number) => number,
    keyBits = 32,
  ) {
    this.shift = Math.max(0, keyBits - MAX_BUCKET_BITS);
    this.bucketCount = 2 ** (keyBits - this.shift);
    this.negHist = new Uint32Array(this.bucketCount);
    this.posBucket = new Uint8Array(this.bucketCount);
  }

  /**
   * Positive keys (any order; sorted here, in place, with their payload); `regionSizes[payload[i]]` is the size of
   * positive i's ground-truth region when PRO is wanted.
   */
  setPositives(pos: Uint32Array, payload?: Uint32Array, regionSizes?: ArrayLike<number>): void {
    const P = pos.length;
    this.P = P;
    if (payload) radixSortU32(pos, new Uint32Array(P), payload, new Uint32Array(P));
    else radixSortU32(pos, new Uint32Array(P));
    let m = 0;
    for (let i = 0; i < P; i++) if (i === 0 || pos[i] !== pos[i - 1]) m++;
    const keys = new Uint32Array(m);
    const tp = new Uint32Array(m);
    const proInc = payload && regionSizes ? new Float64Array(m) : undefined;
    let d = -1;
    for (let i = 0; i < P; i++) {
      if (i === 0 || pos[i] !== pos[i - 1]) {
        keys[++d] = pos[i];
        this.posBucket[pos[i] >>> this.shift] = 1;
      }
      tp[d]++;
      if (proInc) proInc[d] += 1 / regionSizes![payload![i]];
    }
    this.keys = keys;
    this.tp = tp;
    this.proInc = proInc;
    this.regionCount = regionSizes ? regionSizes.length : 0;
  }

  /** Makes room for n more kept keys. */
  reserve(n: number): void {
    if (this.mixedFill + n <= this.mixed.length) return;
    const grown = new Uint32Array(Math.max(this.mixedFill + n, 2 * this.mixed.length));
    grown.set(this.mixed.subarray(0, this.mixedFill));
    this.mixed = grown;
  }

  /** One negative key (call reserve first). */
  addNegative(key: number): void {
    const b = key >>> this.shift;
    this.negHist[b]++;
    if (this.posBucket[b] === 1) this.mixed[this.mixedFill++] = key;
  }

  finish(): GroupedCounts {
    const m = this.keys.length;
    const keys = this.keys;
    // between[g]: negatives strictly between distinct positives g−1 and g; negEqual[g]: negatives equal to keys[g]
    const between = new Uint32Array(m + 1);
    const negEqual = new Uint32Array(m);
    const mn = this.mixed.subarray(0, this.mixedFill);
    radixSortU32(mn, new Uint32Array(mn.length));
    let g = 0;
    for (let i = 0; i < mn.length; i++) {
      const x = mn[i];
      while (g < m && keys[g] < x) g++;
      if (g < m && keys[g] === x) negEqual[g]++;
      else between[g]++;
    }
    // negatives of buckets without positives, in bulk: all lie strictly between the positives below and above
    let N = 0;
    g = 0;
    const shift = this.shift;
    for (let b = 0; b < this.bucketCount; b++) {
      const c = this.negHist[b];
      N += c;
      if (this.posBucket[b] === 1) {
        while (g < m && keys[g] >>> shift === b) g++;
      } else if (c !== 0) {
        between[g] += c;
      }
    }
    const negAbove = new Uint32Array(m);
    let above = between[m];
    for (let d = m - 1; d >= 0; d--) {
      negAbove[d] = above;
      above += negEqual[d] + between[d];
    }
    this.mixed = new Uint32Array(0);
    return { keys, tp: this.tp, negAbove, negEqual, proInc: this.proInc, P: this.P, N, regionCount: this.regionCount, keyToValue: this.keyToValue };
  }
}

/** GroupedCounts of explicit key arrays (the small-array path: image scores). */
export function countsFromKeys(pos: Uint32Array, neg: Uint32Array, keyToValue: (key: number) => number, keyBits = 32): GroupedCounts {
  const b = new CountBuilder(keyToValue, keyBits);
  b.setPositives(pos);
  b.reserve(neg.length);
  for (let i = 0; i < neg.length; i++) b.addNegative(neg[i]);
  return b.finish();
}
