// FCDD's confetti noise (Liznerski et al., ICLR 2021, Sec. 4.2 / App.; liznerski/fcdd python/fcdd/datasets/
// noise.py confetti_noise + smooth_noise, noise_modes.py mode 'confetti', online_supervisor.py
// OnlineSupervisor.__malformed_normal, the MVTec-AD default: supervise_mode 'malformed_normal', p = 0.5):
//   coloured = confetti(p = 0.000018, sizes 8..54, squares, colours per channel ~ U{−256..−1}, rotation ±45°)
//   white    = confetti(p = 0.000012, sizes 8..54, squares, fill −255, rotation ±45°)
//   noise    = int(gaussian_blur(coloured + white, kernel 25, σ = 5))          (reflect border, kornia)
//   if |mean(clip(x + noise) − x)| < 0.025 and the inverted noise changes more: noise ← −noise
//   anomaly  = clip(x + noise, 0, 255);  mask = pixels where any channel changed (the 'malformed_normal_gt' map)
// Confetti: each pixel is a blob centre with probability p (at least one blob: FCDD's ensureblob); a blob is an
// s×s square (odd s: offsets −⌊s/2⌋..⌊s/2⌋, even s: −s/2+1..s/2), s ~ U{8..54}, rotated about its centre by
// U(−45°, 45°) with nearest sampling; later blobs overwrite earlier ones. FCDD's sizes are in pixels of its
// 240×240 MVTec images.
// Differences from that code: each blob gets its own colour (the reference draws one colour per blob *size*);
// blobs are rasterised rotated directly instead of rotating a window of the drawn image (same shape when blobs
// do not overlap). Images with fewer than 3 channels get one random value per coloured blob.
import type { Rng } from '@unified-ad/core';
import { UserError } from '@unified-ad/core';
import { type Augmented, type ImageHWC, checkImage, checkNumber, checkProbability, cloneImage } from './image';

export interface ConfettiOptions {
  /** probability of a blob centre per pixel */
  p: number;
  /** [min, max] blob side in pixels (FCDD: [8, 54]); with onlySquares false, heights and widths independently */
  size?: [number, number];
  /** squares only (FCDD default: true) */
  onlySquares?: boolean;
  /** per-channel colour range [lo, hi) of coloured blobs (FCDD: [−256, 0)); null: every blob is `fill` */
  colorRange?: [number, number] | null;
  /** value of uncoloured blobs (FCDD: 255, or −255 for the 'white' blobs of the confetti mode) */
  fill?: number;
  /** maximum rotation in degrees (FCDD: 45) */
  rotation?: number;
  /** redraw until there is at least one blob (FCDD: true) */
  ensureBlob?: boolean;
}

/** Blob noise (HWC, 0 off the blobs) as FCDD's confetti_noise, and the number of blobs. */
export function confettiNoise(height: number, width: number, channels: number, rng: Rng, opts: ConfettiOptions): { noise: Float32Array; blobs: number } {
  for (const [k, v] of [
    ['height', height],
    ['width', width],
    ['channels', channels],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 1)) throw new UserError(`confetti: ${k} must be a positive integer, got ${v}`);
  }
  const p = checkNumber('p', opts.p, 0, 1);
  const [s0, s1] = opts.size ?? [8, 54];
  if (!(Number.isInteger(s0) && Number.isInteger(s1) && s0 >= 1 && s1 >= s0)) throw new UserError(`size must be integers [min, max] with 1 ≤ min ≤ max, got ${JSON.stringify(opts.size)}`);
  const onlySquares = opts.onlySquares ?? true;
  const colorRange = opts.colorRange ?? null;
  if (colorRange && !(Number.isInteger(colorRange[0]) && Number.isInteger(colorRange[1]) && colorRange[1] > colorRange[0])) {
    throw new UserError(`colorRange must be integers [lo, hi) with lo < hi, got ${JSON.stringify(colorRange)}`);
  }
  const fill = checkNumber('fill', opts.fill ?? 255);
  const rotation = checkNumber('rotation', opts.rotation ?? 0, 0, 180);
  const ensureBlob = opts.ensureBlob ?? true;
  if (ensureBlob && p === 0) throw new UserError('p must be > 0 when ensureBlob is set');
  const n = height * width;
  // blob centres: a Bernoulli(p) process over the pixels, sampled by geometric gaps
  let centres: number[] = [];
  const logq = Math.log1p(-p);
  do {
    centres = [];
    if (p >= 1) {
      for (let i = 0; i < n; i++) centres.push(i);
    } else if (p > 0) {
      let i = -1;
      while (true) {
        const u = 1 - rng.next(); // (0, 1]
        i += 1 + Math.floor(Math.log(u) / logq);
        if (i >= n) break;
        centres.push(i);
      }
    }
  } while (ensureBlob && centres.length === 0);
  const noise = new Float32Array(n * channels);
  const colour = new Float64Array(channels);
  for (const centre of centres) {
    const cy = Math.floor(centre / width);
    const cx = centre % width;
    const sh = s0 + rng.int(s1 - s0 + 1);
    const sw = onlySquares ? sh : s0 + rng.int(s1 - s0 + 1);
    if (colorRange) {
      const span = colorRange[1] - colorRange[0];
      if (channels >= 3) for (let k = 0; k < channels; k++) colour[k] = colorRange[0] + rng.int(span);
      else colour.fill(colorRange[0] + rng.int(span));
    } else {
      colour.fill(fill);
    }
    const angle = rotation > 0 ? rng.uniform(-rotation, rotation) : 0;
    const th = (angle * Math.PI) / 180;
    const cos = Math.cos(th);
    const sin = Math.sin(th);
    // extents of the unrotated blob, relative to the centre
    const y0 = sh % 2 ? -Math.floor(sh / 2) : -sh / 2 + 1;
    const y1 = Math.floor(sh / 2);
    const x0 = sw % 2 ? -Math.floor(sw / 2) : -sw / 2 + 1;
    const x1 = Math.floor(sw / 2);
    const r = Math.ceil(Math.hypot(Math.max(-y0, y1), Math.max(-x0, x1))) + 1;
    for (let dy = -r; dy <= r; dy++) {
      const y = cy + dy;
      if (y < 0 || y >= height) continue;
      for (let dx = -r; dx <= r; dx++) {
        const x = cx + dx;
        if (x < 0 || x >= width) continue;
        // nearest source offset of the rotated blob
        const sy = Math.round(dx * sin + dy * cos);
        const sx = Math.round(dx * cos - dy * sin);
        if (sy < y0 || sy > y1 || sx < x0 || sx > x1) continue;
        const o = (y * width + x) * channels;
        for (let k = 0; k < channels; k++) noise[o + k] = colour[k];
      }
    }
  }
  return { noise, blobs: centres.length };
}

/** Normalised 1-D Gaussian kernel of odd size k (as kornia's get_gaussian_kernel1d). */
function gaussianKernel(k: number, sigma: number): Float64Array {
  const g = new Float64Array(k);
  const m = (k - 1) / 2;
  let s = 0;
  for (let i = 0; i < k; i++) {
    g[i] = Math.exp(-((i - m) ** 2) / (2 * sigma * sigma));
    s += g[i];
  }
  for (let i = 0; i < k; i++) g[i] /= s;
  return g;
}

/** reflect (mirror without repeating the edge) index into [0, n) */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let j = ((i % period) + period) % period;
  if (j >= n) j = period - j;
  return j;
}

/**
 * FCDD's smooth_noise: separable Gaussian blur (kernel `ksize`, made odd by −1, σ = `sigma`; reflect border as
 * kornia's gaussian_blur2d) of HWC planes, then truncation toward zero (FCDD's .int()). Returns a new array.
 */
export function smoothNoise(noise: Float32Array, height: number, width: number, channels: number, ksize = 25, sigma = 5): Float32Array {
  if (!(Number.isInteger(ksize) && ksize >= 1)) throw new UserError(`ksize must be a positive integer, got ${ksize}`);
  checkNumber('sigma', sigma, 1e-6);
  const k = ksize % 2 === 1 ? ksize : ksize - 1;
  const g = gaussianKernel(k, sigma);
  const half = (k - 1) / 2;
  const c = channels;
  // source index of each tap position, reflected at the borders
  const idxX = new Int32Array(width + k - 1);
  for (let i = 0; i < idxX.length; i++) idxX[i] = reflect(i - half, width);
  const idxY = new Int32Array(height + k - 1);
  for (let i = 0; i < idxY.length; i++) idxY[i] = reflect(i - half, height);
  const rowLen = width * c;
  // horizontal pass; all-zero rows (most of a confetti image) stay zero and are skipped in both passes
  const tmp = new Float64Array(noise.length);
  const rowNonZero = new Uint8Array(height);
  for (let y = 0; y < height; y++) {
    const base = y * rowLen;
    let any = false;
    for (let i = base; i < base + rowLen; i++) {
      if (noise[i] !== 0) {
        any = true;
        break;
      }
    }
    if (!any) continue;
    rowNonZero[y] = 1;
    for (let x = 0; x < width; x++) {
      for (let ch = 0; ch < c; ch++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += g[t] * noise[base + idxX[x + t] * c + ch];
        tmp[base + x * c + ch] = s;
      }
    }
  }
  const out = new Float32Array(noise.length);
  for (let y = 0; y < height; y++) {
    let any = false;
    for (let t = 0; t < k; t++) {
      if (rowNonZero[idxY[y + t]]) {
        any = true;
        break;
      }
    }
    if (!any) continue;
    const o = y * rowLen;
    for (let t = 0; t < k; t++) {
      const src = idxY[y + t];
      if (!rowNonZero[src]) continue;
      const gt = g[t];
      const sb = src * rowLen;
      for (let i = 0; i < rowLen; i++) out[o + i] += gt * tmp[sb + i];
    }
    for (let i = o; i < o + rowLen; i++) out[i] = Math.trunc(out[i]);
  }
  return out;
}

export interface FcddConfettiOptions {
  /** probability of returning the sample unchanged (FCDD's OnlineSupervisor replaces with p = 0.5) */
  cleanProbability?: number;
  /** blob-centre probabilities per pixel of the coloured and the white blobs (FCDD: 0.000018, 0.000012) */
  pColored?: number;
  pWhite?: number;
  /** blob sides [min, max] (FCDD: [8, 54]) */
  size?: [number, number];
  /** maximum blob rotation (FCDD: 45°) */
  rotation?: number;
  /** Gaussian smoothing: kernel size and σ (FCDD: 25, 5) */
  blurKernel?: number;
  blurSigma?: number;
  /** the noise is negated when it changes the image by less than this mean amount (FCDD: 0.025) and −noise changes more */
  invertThreshold?: number;
}

export interface FcddConfettiResult extends Augmented {
  /** the smoothed noise added (after any inversion; zeros for a clean sample) */
  noise: Float32Array | null;
  /** whether the noise was negated */
  inverted: boolean;
  /** number of blobs drawn (coloured + white) */
  blobs: number;
}

/** FCDD's 'confetti' anomaly for MVTec-AD ('malformed_normal' with the 'gt' mask): smoothed coloured + white blobs added to the image. */
export function fcddConfetti(image: ImageHWC, rng: Rng, opts: FcddConfettiOptions = {}): FcddConfettiResult {
  checkImage(image);
  const { height: h, width: w, channels: c } = image;
  const pClean = checkProbability('cleanProbability', opts.cleanProbability ?? 0.5);
  const invertThreshold = checkNumber('invertThreshold', opts.invertThreshold ?? 0.025, 0);
  if (rng.next() < pClean) return { image: cloneImage(image), mask: new Float32Array(h * w), anomalous: false, noise: null, inverted: false, blobs: 0 };
  const size = opts.size ?? [8, 54];
  const rotation = opts.rotation ?? 45;
  const col = confettiNoise(h, w, c, rng, { p: opts.pColored ?? 0.000018, size, rotation, colorRange: [-256, 0], fill: 255 });
  const white = confettiNoise(h, w, c, rng, { p: opts.pWhite ?? 0.000012, size, rotation, fill: -255 });
  for (let i = 0; i < col.noise.length; i++) col.noise[i] += white.noise[i];
  const noise = smoothNoise(col.noise, h, w, c, opts.blurKernel ?? 25, opts.blurSigma ?? 5);
  const x = image.data;
  let diff = 0;
  let diffi = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    diff += Math.min(255, Math.max(0, v + noise[i])) - v;
    diffi += Math.min(255, Math.max(0, v - noise[i])) - v;
  }
  diff = Math.abs(diff / x.length);
  diffi = Math.abs(diffi / x.length);
  const inverted = diff < invertThreshold && diffi > diff;
  if (inverted) for (let i = 0; i < noise.length; i++) noise[i] = -noise[i];
  const out = cloneImage(image);
  const mask = new Float32Array(h * w);
  let changed = 0;
  for (let p = 0; p < h * w; p++) {
    let any = false;
    for (let k = 0; k < c; k++) {
      const i = p * c + k;
      const v = Math.min(255, Math.max(0, x[i] + noise[i]));
      out.data[i] = v;
      if (v !== x[i]) any = true;
    }
    if (any) {
      mask[p] = 1;
      changed++;
    }
  }
  return { image: out, mask, anomalous: changed > 0, noise, inverted, blobs: col.blobs + white.blobs };
}
