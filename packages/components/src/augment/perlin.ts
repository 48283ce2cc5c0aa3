// Perlin noise and the thresholded Perlin masks of DRAEM (Zavrtanik et al., ICCV 2021, Sec. 3.3;
// VitjanZ/DRAEM perlin.py rand_perlin_2d_np and data_loader.py augment_image):
//  * a (resY + 1) × (resX + 1) lattice of unit gradients at angles ~ U[0, 2π);
//  * pixel (i, j) sits at (i·resY/H, j·resX/W) in lattice units; the four corner ramps are blended with the
//    quintic fade 6t⁵ − 15t⁴ + 10t³, and the result is scaled by √2;
//  * mask: res = 2^U{0..5} per axis independently, the noise rotated by U(−90°, 90°) (bilinear, 0 outside,
//    as imgaug Affine(rotate=(−90, 90))), then noise > 0.5.
import type { Rng } from '@unified-ad/core';
import { UserError } from '@unified-ad/core';
import { checkNumber, rotatePlanes } from './image';

const fade = (t: number): number => t * t * t * (t * (t * 6 - 15) + 10);

/** One octave of 2-D gradient noise [H·W] with `resY` × `resX` lattice cells over the image (DRAEM's rand_perlin_2d_np). */
export function perlinNoise(height: number, width: number, resY: number, resX: number, rng: Rng): Float32Array {
  for (const [k, v] of [
    ['height', height],
    ['width', width],
    ['resY', resY],
    ['resX', resX],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new UserError(`perlin noise: ${k} must be a positive integer, got ${v}`);
  }
  const gy = new Float64Array((resY + 1) * (resX + 1));
  const gx = new Float64Array((resY + 1) * (resX + 1));
  for (let i = 0; i < gy.length; i++) {
    const a = 2 * Math.PI * rng.next();
    gy[i] = Math.cos(a); // component along axis 0 (rows), as gradients[..., 0] = cos
    gx[i] = Math.sin(a);
  }
  const out = new Float32Array(height * width);
  const stride = resX + 1;
  // per-column lattice cell, fraction and fade
  const cellX = new Int32Array(width);
  const fracX = new Float64Array(width);
  const fadeX = new Float64Array(width);
  for (let j = 0; j < width; j++) {
    const u = (j * resX) / width;
    cellX[j] = Math.floor(u);
    fracX[j] = u - cellX[j];
    fadeX[j] = fade(fracX[j]);
  }
  for (let i = 0; i < height; i++) {
    const v = (i * resY) / height;
    const cy = Math.floor(v);
    const fy = v - cy;
    const ty = fade(fy);
    for (let j = 0; j < width; j++) {
      const cx = cellX[j];
      const fx = fracX[j];
      const g00 = cy * stride + cx;
      const g10 = g00 + stride; // next row of the lattice
      const g01 = g00 + 1;
      const g11 = g10 + 1;
      const n00 = gy[g00] * fy + gx[g00] * fx;
      const n10 = gy[g10] * (fy - 1) + gx[g10] * fx;
      const n01 = gy[g01] * fy + gx[g01] * (fx - 1);
      const n11 = gy[g11] * (fy - 1) + gx[g11] * (fx - 1);
      const n0 = n00 + ty * (n10 - n00);
      const n1 = n01 + ty * (n11 - n01);
      out[i * width + j] = Math.SQRT2 * (n0 + fadeX[j] * (n1 - n0));
    }
  }
  return out;
}

/** Sum of octaves: Σ_k persistence^k · perlinNoise(res·2^k) (DRAEM's generate_fractal_noise_2d / rand_perlin_2d_octaves). */
export function fractalNoise(height: number, width: number, resY: number, resX: number, octaves: number, persistence: number, rng: Rng): Float32Array {
  if (!(Number.isInteger(octaves) && octaves >= 1)) throw new UserError(`fractal noise: octaves must be a positive integer, got ${octaves}`);
  checkNumber('persistence', persistence, 0);
  const out = new Float32Array(height * width);
  let amp = 1;
  for (let k = 0; k < octaves; k++) {
    const n = perlinNoise(height, width, resY << k, resX << k, rng);
    for (let i = 0; i < out.length; i++) out[i] += amp * n[i];
    amp *= persistence;
  }
  return out;
}

export interface PerlinMaskOptions {
  /** lattice resolution per axis is 2^e, e ~ U{minScaleExp, …, maxScaleExp − 1} (DRAEM: 0 and 6) */
  minScaleExp?: number;
  maxScaleExp?: number;
  /** the noise is rotated by U(−rotation, rotation) degrees (DRAEM: 90) */
  rotation?: number;
  /** mask = rotated noise > threshold (DRAEM: 0.5) */
  threshold?: number;
}

export interface PerlinMask {
  /** H×W, 0/1 */
  mask: Float32Array;
  /** the rotated noise the mask thresholds */
  noise: Float32Array;
  /** lattice cells [along rows, along columns] */
  scale: [number, number];
  /** rotation in degrees */
  angle: number;
  /** fraction of pixels in the mask */
  area: number;
}

/** DRAEM's anomaly shape: thresholded, rotated Perlin noise with random lattice scales. */
export function perlinMask(height: number, width: number, rng: Rng, opts: PerlinMaskOptions = {}): PerlinMask {
  const minE = opts.minScaleExp ?? 0;
  const maxE = opts.maxScaleExp ?? 6;
  if (!(Number.isInteger(minE) && Number.isInteger(maxE) && minE >= 0 && maxE > minE && maxE <= 16)) {
    throw new UserError(`minScaleExp / maxScaleExp must be integers with 0 ≤ minScaleExp < maxScaleExp ≤ 16, got ${minE} / ${maxE}`);
  }
  const rotation = checkNumber('rotation', opts.rotation ?? 90, 0, 180);
  const threshold = checkNumber('threshold', opts.threshold ?? 0.5);
  const sy = 2 ** (minE + rng.int(maxE - minE));
  const sx = 2 ** (minE + rng.int(maxE - minE));
  const raw = perlinNoise(height, width, sy, sx, rng);
  const angle = rng.uniform(-rotation, rotation);
  const noise = rotatePlanes(raw, height, width, 1, angle, { fill: 0 });
  const mask = new Float32Array(height * width);
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (noise[i] > threshold) {
      mask[i] = 1;
      n++;
    }
  }
  return { mask, noise, scale: [sy, sx], angle, area: n / mask.length };
}
