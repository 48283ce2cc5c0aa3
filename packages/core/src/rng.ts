// Seeded random numbers for everything random in the framework: data order, init, jitter, dropout.
// xoshiro128** with splitmix32 seeding; its whole state is four uint32s, saved in checkpoints.
import { tf } from './engine';
import { statelessNormal, statelessUniform } from './native-random';

export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private s: Uint32Array;
  private spareNormal: number | null = null;

  constructor(seed: number | RngState = 0) {
    this.s = new Uint32Array(4);
    if (typeof seed === 'number') {
      const sm = splitmix32(seed);
      for (let i = 0; i < 4; i++) this.s[i] = sm();
      if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1;
    } else {
      this.s.set(seed);
    }
  }

  /** Uniform uint32. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }

  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** A 31-bit seed for a tfjs op that takes one (randomNormal, dropout): deterministic given this Rng. */
  seed(): number {
    return this.nextUint32() >>> 1;
  }

  /** A child generator with its own stream (e.g. one per module). */
  fork(): Rng {
    return new Rng(this.nextUint32() ^ 0x5bd1e995);
  }

  getState(): RngState {
    this.spareNormal = null;
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  setState(state: RngState): void {
    this.s.set(state);
    this.spareNormal = null;
  }

  /** Float32 tensor of N(mean, std²) samples drawn from this generator. */
  normalTensor(shape: number[], mean = 0, std = 1): import('@tensorflow/tfjs-node').Tensor {
    const seed = this.seed();
    if (mean === 0 && std === 1) return statelessNormal(shape, seed);
    return tf.tidy(() => statelessNormal(shape, seed).mul(std).add(mean));
  }

  /** Float32 tensor of U[lo, hi) samples drawn from this generator. */
  uniformTensor(shape: number[], lo = 0, hi = 1): import('@tensorflow/tfjs-node').Tensor {
    const seed = this.seed();
    if (lo === 0 && hi === 1) return statelessUniform(shape, seed);
    return tf.tidy(() => statelessUniform(shape, seed).mul(hi - lo).add(lo));
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
