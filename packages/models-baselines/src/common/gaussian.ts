// Per-position multivariate Gaussians of patch features and their Mahalanobis distance
// (PaDiM, Defard et al. 2021, Sec. 3.2: N(μ_ij, Σ_ij) per patch position, Σ_ij + εI, eq. 2).
// Covariances are accumulated with batched matMul on the native engine; each Σ is factorised
// (Cholesky, float64, in JS) once and stored as W = L⁻¹, so that (x−μ)ᵀΣ⁻¹(x−μ) = ‖W(x−μ)‖².
import { tf, UserError } from '@unified-ad/core';
import type { Tensor2D, Tensor3D } from '@tensorflow/tfjs-node';

export interface GaussianFitOptions {
  /** ε of Σ + εI (PaDiM: 0.01) */
  regularization: number;
  /** positions handled per batched covariance computation (memory bound) */
  positionChunk?: number;
}

/**
 * In-place Cholesky factorisation of a symmetric positive-definite d×d matrix (row-major, float64):
 * the lower triangle becomes L with A = LLᵀ (the upper triangle is zeroed). Throws when A is not SPD.
 */
export function choleskyInPlace(a: Float64Array, d: number): void {
  for (let j = 0; j < d; j++) {
    const rj = j * d;
    let s = a[rj + j];
    for (let k = 0; k < j; k++) s -= a[rj + k] * a[rj + k];
    if (!(s > 0)) throw new Error(`matrix is not positive definite (pivot ${j}: ${s})`);
    const ljj = Math.sqrt(s);
    a[rj + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      const ri = i * d;
      let t = a[ri + j];
      for (let k = 0; k < j; k++) t -= a[ri + k] * a[rj + k];
      a[ri + j] = t / ljj;
    }
    for (let k = j + 1; k < d; k++) a[rj + k] = 0;
  }
}

/** Inverse of a lower-triangular d×d matrix L (row-major), written to `out` (lower-triangular). */
export function invertLowerTriangular(l: Float64Array, d: number, out: Float64Array): void {
  out.fill(0);
  // column j of L⁻¹ by forward substitution of L x = e_j
  for (let j = 0; j < d; j++) {
    out[j * d + j] = 1 / l[j * d + j];
    for (let i = j + 1; i < d; i++) {
      const ri = i * d;
      let s = 0;
      for (let k = j; k < i; k++) s -= l[ri + k] * out[k * d + j];
      out[ri + j] = s / l[ri + i];
    }
  }
}

/**
 * A multivariate Gaussian per position: mean [P, d] and whitening W = L⁻¹ [P, d, d] with Σ + εI = LLᵀ.
 * Owns its tensors: call dispose().
 */
export class PositionGaussians {
  constructor(
    readonly mean: Tensor2D,
    readonly whitening: Tensor3D,
  ) {}

  get positions(): number {
    return this.mean.shape[0];
  }

  get dim(): number {
    return this.mean.shape[1];
  }

  /** Fits one Gaussian per position to samples x [N, P, d] (N ≥ 2); unbiased covariance (N − 1), as np.cov. */
  static fit(x: Tensor3D, opts: GaussianFitOptions): PositionGaussians {
    const [n, p, d] = x.shape;
    if (n < 2) throw new UserError(`Gaussian fit needs at least 2 samples, got ${n}`);
    if (!(opts.regularization >= 0)) throw new UserError(`regularization must be ≥ 0, got ${opts.regularization}`);
    // chunk so that a [chunk, N, d] slice and its [chunk, d, d] covariance stay near 64 MB
    const chunk = opts.positionChunk ?? Math.max(1, Math.min(p, Math.floor((16 << 20) / Math.max(n * d, d * d))));
    const meanAll = new Float32Array(p * d);
    const whitenAll = new Float32Array(p * d * d);
    const a = new Float64Array(d * d);
    const inv = new Float64Array(d * d);
    for (let p0 = 0; p0 < p; p0 += chunk) {
      const pc = Math.min(chunk, p - p0);
      // (tidy must return tensors, never typed arrays: it walks its result element by element)
      const [muT, covT] = tf.tidy(() => {
        const xs = tf.transpose(tf.slice(x, [0, p0, 0], [n, pc, d]), [1, 0, 2]); // [pc, N, d]
        const mu = tf.mean(xs, 1, true); // [pc, 1, d]
        const xc = tf.sub(xs, mu);
        const cov = tf.div(tf.matMul(xc, xc, true, false), n - 1); // [pc, d, d]
        return [mu, cov];
      });
      meanAll.set(muT.dataSync() as Float32Array, p0 * d);
      const covData = covT.dataSync() as Float32Array;
      muT.dispose();
      covT.dispose();
      for (let q = 0; q < pc; q++) {
        const off = q * d * d;
        for (let i = 0; i < d * d; i++) a[i] = covData[off + i];
        for (let i = 0; i < d; i++) a[i * d + i] += opts.regularization;
        try {
          choleskyInPlace(a, d);
        } catch (e) {
          throw new UserError(`covariance at position ${p0 + q} is singular (${(e as Error).message}); increase the regularization`);
        }
        invertLowerTriangular(a, d, inv);
        const dst = (p0 + q) * d * d;
        for (let i = 0; i < d * d; i++) whitenAll[dst + i] = inv[i];
      }
    }
    return new PositionGaussians(tf.tensor2d(meanAll, [p, d]), tf.tensor3d(whitenAll, [p, d, d]));
  }

  /** Mahalanobis distances [N, P] of samples x [N, P, d]: sqrt((x−μ)ᵀ Σ⁻¹ (x−μ)) (PaDiM eq. 2). */
  mahalanobis(x: Tensor3D): Tensor2D {
    const [, p, d] = x.shape;
    if (p !== this.positions || d !== this.dim) {
      throw new UserError(`features have ${p} positions × ${d} dims, the Gaussians were fitted on ${this.positions} × ${this.dim}`);
    }
    return tf.tidy(() => {
      const xc = tf.sub(tf.transpose(x, [1, 0, 2]), tf.expandDims(this.mean, 1)); // [P, N, d]
      const z = tf.matMul(xc, this.whitening, false, true); // [P, N, d]: rows W(x−μ)
      const d2 = tf.sum(tf.square(z), -1); // [P, N]
      return tf.transpose(tf.sqrt(d2)) as Tensor2D;
    });
  }

  state(): { mean: Float32Array; whitening: Float32Array; positions: number; dim: number } {
    return {
      mean: this.mean.dataSync() as Float32Array,
      whitening: this.whitening.dataSync() as Float32Array,
      positions: this.positions,
      dim: this.dim,
    };
  }

  static fromState(s: { mean: Float32Array; whitening: Float32Array; positions: number; dim: number }): PositionGaussians {
    return new PositionGaussians(tf.tensor2d(s.mean, [s.positions, s.dim]), tf.tensor3d(s.whitening, [s.positions, s.dim, s.dim]));
  }

  dispose(): void {
    this.mean.dispose();
    this.whitening.dispose();
  }
}

