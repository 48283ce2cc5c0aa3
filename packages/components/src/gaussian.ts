// Multivariate Gaussians of features and their Mahalanobis distance.
//  * PositionGaussians — one Gaussian per feature-grid position (PaDiM, Defard et al. 2021, Sec. 3.2:
//    N(μ_ij, Σ_ij) per patch position, Σ_ij + εI, eq. 2). Covariances are accumulated with batched matMul
//    on the native engine.
//  * ledoitWolf / GaussianDensity — one Gaussian of whole-image embeddings with the Ledoit-Wolf shrunk
//    covariance (CutPaste's density, Li et al. 2021, Sec. 3.3, as Runinho/pytorch-cutpaste density.py:
//    sklearn LedoitWolf().fit(embeddings), distance sqrt((x−μ)ᵀΣ⁻¹(x−μ))).
// Each Σ is factorised (Cholesky, float64, in JS) once and stored as W = L⁻¹, so that
// (x−μ)ᵀΣ⁻¹(x−μ) = ‖W(x−μ)‖².
import { tf, UserError } from '@unified-ad/core';
import type { Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-node';

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


/** Mean of the rows (zeros when `centre` is false), the scatter matrix Σ_k x_k x_kᵀ of the centred rows and Σ_k ‖x_k‖⁴. */
function centredScatter(x: ArrayLike<number>, n: number, d: number, centre: boolean): { location: Float64Array; scatter: Float64Array; sumNorm4: number } {
  const location = new Float64Array(d);
  if (centre) {
    for (let k = 0; k < n; k++) for (let j = 0; j < d; j++) location[j] += x[k * d + j];
    for (let j = 0; j < d; j++) location[j] /= n;
  }
  // upper triangle accumulated, then mirrored
  const scatter = new Float64Array(d * d);
  const row = new Float64Array(d);
  let sumNorm4 = 0;
  for (let k = 0; k < n; k++) {
    let norm2 = 0;
    for (let j = 0; j < d; j++) {
      const v = x[k * d + j] - location[j];
      row[j] = v;
      norm2 += v * v;
    }
    sumNorm4 += norm2 * norm2;
    for (let i = 0; i < d; i++) {
      const xi = row[i];
      if (xi === 0) continue;
      const ri = i * d;
      for (let j = i; j < d; j++) scatter[ri + j] += xi * row[j];
    }
  }
  for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) scatter[j * d + i] = scatter[i * d + j];
  return { location, scatter, sumNorm4 };
}

function rowsOf(x: ArrayLike<number>, dim: number, what: string): number {
  if (!(Number.isInteger(dim) && dim >= 1)) throw new UserError(`${what}: dim must be a positive integer, got ${dim}`);
  const n = Math.floor(x.length / dim);
  if (n < 1 || n * dim !== x.length) throw new UserError(`${what}: ${x.length} values do not form rows of ${dim}`);
  return n;
}

export interface LedoitWolfResult {
  /** the mean of the rows (zeros with assumeCentered) [d] */
  location: Float64Array;
  /** shrunk covariance (1 − s)·S + s·(tr S / d)·I, row-major [d, d], with S = Xcᵀ Xc / n (biased) */
  covariance: Float64Array;
  /** shrinkage coefficient s ∈ [0, 1] */
  shrinkage: number;
  dim: number;
}

/**
 * Ledoit-Wolf shrunk covariance of the rows of x (row-major [n, dim], n ≥ 1), with the semantics of
 * scikit-learn's LedoitWolf (default assume_centered = false: the rows are centred on their mean first):
 * S = XcᵀXc / n, μ = tr S / d, δ = ‖S − μI‖²_F / d, β = min(δ, (Σ_k ‖x_k‖⁴ / n − ‖S‖²_F) / (d n)),
 * s = β / δ (0 when β = 0), Σ = (1 − s) S + s μ I. One feature: s = 0. Float64 throughout.
 */
export function ledoitWolf(x: ArrayLike<number>, dim: number, opts: { assumeCentered?: boolean } = {}): LedoitWolfResult {
  const n = rowsOf(x, dim, 'ledoitWolf');
  const d = dim;
  const { location, scatter: s, sumNorm4 } = centredScatter(x, n, d, !opts.assumeCentered);
  for (let i = 0; i < d * d; i++) s[i] /= n;
  let trace = 0;
  for (let i = 0; i < d; i++) trace += s[i * d + i];
  const mu = trace / d;
  let shrinkage = 0;
  if (d > 1) {
    let frob2 = 0; // ‖S‖²_F
    for (let i = 0; i < d * d; i++) frob2 += s[i] * s[i];
    const delta = (frob2 - d * mu * mu) / d; // ‖S − μI‖²_F / d
    const beta = Math.min(delta, (sumNorm4 / n - frob2) / (d * n));
    // β ≥ 0 (Jensen); δ = 0 means S = μI already, where any s gives the same Σ
    shrinkage = beta > 0 && delta > 0 ? beta / delta : 0;
  }
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) covariance[i] = (1 - shrinkage) * s[i];
  for (let i = 0; i < d; i++) covariance[i * d + i] += shrinkage * mu;
  return { location, covariance, shrinkage, dim: d };
}

export interface GaussianDensityOptions {
  /** covariance estimator: 'ledoit-wolf' (default; CutPaste) or 'empirical' (unbiased, n − 1, as np.cov) */
  covariance?: 'ledoit-wolf' | 'empirical';
  /** ε added to the diagonal of Σ before factorising (default 0) */
  regularization?: number;
}

/**
 * One multivariate Gaussian of embeddings [N, d] (CutPaste's density estimator): mean and whitening
 * W = L⁻¹ with Σ = LLᵀ. Owns its tensors: call dispose().
 */
export class GaussianDensity {
  constructor(
    readonly mean: Tensor1D,
    readonly whitening: Tensor2D,
    /** the Ledoit-Wolf shrinkage used (0 for the empirical covariance) */
    readonly shrinkage: number,
  ) {}

  get dim(): number {
    return this.mean.shape[0];
  }

  /** Fits to the rows of `x` [N, d] (a tensor, or row-major values with their dim): Ledoit-Wolf (N ≥ 1) or empirical (N ≥ 2) covariance, + εI. */
  static fit(x: Tensor2D | { data: ArrayLike<number>; dim: number }, opts: GaussianDensityOptions = {}): GaussianDensity {
    const data = 'shape' in x ? (x.dataSync() as Float32Array) : x.data;
    const dim = 'shape' in x ? x.shape[1] : x.dim;
    const rows = rowsOf(data, dim, 'Gaussian density');
    const eps = opts.regularization ?? 0;
    if (!(eps >= 0)) throw new UserError(`regularization must be ≥ 0, got ${opts.regularization}`);
    const kind = opts.covariance ?? 'ledoit-wolf';
    let mean: Float64Array;
    let cov: Float64Array;
    let shrinkage = 0;
    if (kind === 'ledoit-wolf') {
      const lw = ledoitWolf(data, dim);
      mean = lw.location;
      cov = lw.covariance;
      shrinkage = lw.shrinkage;
    } else if (kind === 'empirical') {
      if (rows < 2) throw new UserError(`Gaussian density: the empirical covariance needs at least 2 samples, got ${rows}`);
      const sc = centredScatter(data, rows, dim, true);
      mean = sc.location;
      cov = sc.scatter;
      for (let i = 0; i < dim * dim; i++) cov[i] /= rows - 1;
    } else {
      throw new UserError(`covariance must be 'ledoit-wolf' or 'empirical', got '${String(kind)}'`);
    }
    for (let i = 0; i < dim; i++) cov[i * dim + i] += eps;
    try {
      choleskyInPlace(cov, dim);
    } catch (e) {
      throw new UserError(`Gaussian density: the covariance is singular (${(e as Error).message}); increase the regularization`);
    }
    const inv = new Float64Array(dim * dim);
    invertLowerTriangular(cov, dim, inv);
    return new GaussianDensity(tf.tensor1d(Float32Array.from(mean)), tf.tensor2d(Float32Array.from(inv), [dim, dim]), shrinkage);
  }
  /** Mahalanobis distances [N] of the rows of x [N, d]: sqrt((x−μ)ᵀ Σ⁻¹ (x−μ)). */
  mahalanobis(x: Tensor2D): Tensor1D {
    if (x.shape[1] !== this.dim) throw new UserError(`features have ${x.shape[1]} dims, the density was fitted on ${this.dim}`);
    return tf.tidy(() => {
      const z = tf.matMul(tf.sub(x, this.mean), this.whitening, false, true); // rows W(x−μ)
      return tf.sqrt(tf.sum(tf.square(z), 1)) as Tensor1D;
    });
  }

  state(): { mean: Float32Array; whitening: Float32Array; dim: number; shrinkage: number } {
    return { mean: this.mean.dataSync() as Float32Array, whitening: this.whitening.dataSync() as Float32Array, dim: this.dim, shrinkage: this.shrinkage };
  }

  static fromState(s: { mean: Float32Array; whitening: Float32Array; dim: number; shrinkage: number }): GaussianDensity {
    return new GaussianDensity(tf.tensor1d(s.mean), tf.tensor2d(s.whitening, [s.dim, s.dim]), s.shrinkage);
  }

  dispose(): void {
    this.mean.dispose();
    this.whitening.dispose();
  }
}
