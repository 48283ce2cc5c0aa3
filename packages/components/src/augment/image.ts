// Images as the datasets load them (Dataset.loadImage in @unified-ad/core): HWC Float32Array with values
// in [0, 255], plus their size; masks are H×W Float32Array of 0/1 (as Dataset.loadMask).
// Shared helpers of the augmentation primitives: validation, parameter checks, rotation, resizing.
import { UserError } from '@unified-ad/core';
import type { Rng } from '@unified-ad/core';

export interface ImageHWC {
  /** row-major HWC, values in [0, 255] */
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** What every augmentation returns: the augmented image and the binary mask (H×W, 0/1) of the changed region. */
export interface Augmented {
  image: ImageHWC;
  mask: Float32Array;
  /** false when the sample was left clean (or the drawn anomaly turned out empty) */
  anomalous: boolean;
}

/** Throws a one-line UserError unless `img` is a well-formed HWC image. */
export function checkImage(img: ImageHWC, what = 'image'): void {
  if (!img || !(img.data instanceof Float32Array)) throw new UserError(`${what}: data must be a Float32Array`);
  const { height: h, width: w, channels: c } = img;
  if (!(Number.isInteger(h) && h >= 1 && Number.isInteger(w) && w >= 1)) throw new UserError(`${what}: height and width must be positive integers, got ${h}×${w}`);
  if (!(Number.isInteger(c) && c >= 1)) throw new UserError(`${what}: channels must be a positive integer, got ${c}`);
  if (img.data.length !== h * w * c) throw new UserError(`${what}: ${img.data.length} values for ${h}×${w}×${c}`);
}

export function cloneImage(img: ImageHWC): ImageHWC {
  return { data: Float32Array.from(img.data), height: img.height, width: img.width, channels: img.channels };
}

export function emptyImage(height: number, width: number, channels: number): ImageHWC {
  return { data: new Float32Array(height * width * channels), height, width, channels };
}

export const clamp255 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** Checks that `v` is a finite number in [lo, hi] (one-line error naming `name`). */
export function checkNumber(name: string, v: number, lo = -Infinity, hi = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) throw new UserError(`${name} must be a number in [${lo}, ${hi}], got ${String(v)}`);
  return v;
}

/** Checks a [min, max] range with lo ≤ min ≤ max ≤ hi. */
export function checkRange(name: string, r: readonly [number, number], lo = -Infinity, hi = Infinity): [number, number] {
  if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => typeof v === 'number' && Number.isFinite(v)) || r[0] > r[1] || r[0] < lo || r[1] > hi) {
    throw new UserError(`${name} must be [min, max] with ${lo} ≤ min ≤ max ≤ ${hi}, got ${JSON.stringify(r)}`);
  }
  return [r[0], r[1]];
}

/** Checks a probability in [0, 1]. */
export const checkProbability = (name: string, p: number): number => checkNumber(name, p, 0, 1);

/** `k` distinct indices of [0, n) in random order (partial Fisher–Yates). */
export function sampleWithoutReplacement(n: number, k: number, rng: Rng): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, k);
}

export interface RotateOptions {
  /** 'bilinear' (default) or 'nearest' */
  interpolation?: 'bilinear' | 'nearest';
  /** value of pixels that come from outside the source (default 0) */
  fill?: number;
}

/**
 * Rotates a stack of planes (HWC, any channel count) by `degrees` counter-clockwise (as seen on screen)
 * about the image centre ((W−1)/2, (H−1)/2), keeping the size; pixels mapped from outside get `fill`
 * (bilinear: outside neighbours count as `fill`, as cv2.warpAffine / imgaug Affine with mode 'constant').
 */
export function rotatePlanes(src: Float32Array, height: number, width: number, channels: number, degrees: number, opts: RotateOptions = {}): Float32Array {
  checkNumber('degrees', degrees);
  const fill = opts.fill ?? 0;
  const nearest = (opts.interpolation ?? 'bilinear') === 'nearest';
  const out = new Float32Array(src.length);
  const th = (degrees * Math.PI) / 180;
  const cos = Math.cos(th);
  const sin = Math.sin(th);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const c = channels;
  for (let y = 0; y < height; y++) {
    const dy = y - cy;
    for (let x = 0; x < width; x++) {
      const dx = x - cx;
      // inverse map of the screen-CCW rotation (y points down)
      const sx = cx + dx * cos - dy * sin;
      const sy = cy + dx * sin + dy * cos;
      const o = (y * width + x) * c;
      if (nearest) {
        const ix = Math.round(sx);
        const iy = Math.round(sy);
        if (ix < 0 || iy < 0 || ix >= width || iy >= height) {
          for (let k = 0; k < c; k++) out[o + k] = fill;
        } else {
          const s = (iy * width + ix) * c;
          for (let k = 0; k < c; k++) out[o + k] = src[s + k];
        }
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      if (x0 < -1 || y0 < -1 || x0 >= width || y0 >= height) {
        for (let k = 0; k < c; k++) out[o + k] = fill;
        continue;
      }
      const in00 = x0 >= 0 && y0 >= 0;
      const in10 = x0 + 1 < width && y0 >= 0;
      const in01 = x0 >= 0 && y0 + 1 < height;
      const in11 = x0 + 1 < width && y0 + 1 < height;
      const s00 = (y0 * width + x0) * c;
      const s10 = s00 + c;
      const s01 = s00 + width * c;
      const s11 = s01 + c;
      const w00 = (1 - fx) * (1 - fy);
      const w10 = fx * (1 - fy);
      const w01 = (1 - fx) * fy;
      const w11 = fx * fy;
      for (let k = 0; k < c; k++) {
        out[o + k] =
          w00 * (in00 ? src[s00 + k] : fill) + w10 * (in10 ? src[s10 + k] : fill) + w01 * (in01 ? src[s01 + k] : fill) + w11 * (in11 ? src[s11 + k] : fill);
      }
    }
  }
  return out;
}

/** Rotates an image (see rotatePlanes; default fill 0, bilinear) and returns a new image of the same size. */
export function rotateImage(img: ImageHWC, degrees: number, opts: RotateOptions = {}): ImageHWC {
  checkImage(img);
  return { ...img, data: rotatePlanes(img.data, img.height, img.width, img.channels, degrees, opts) };
}

/**
 * Rotation with an expanded canvas, as PIL's Image.rotate(degrees, expand=True) with NEAREST resampling:
 * the output is the bounding box of the rotated rectangle (ceil/floor of its corners), centre mapped to centre,
 * and `coverage` (H×W, 0/1) marks the pixels that come from inside the source (PIL's alpha of an RGBA rotate).
 */
export function rotateExpand(img: ImageHWC, degrees: number): { image: ImageHWC; coverage: Float32Array } {
  checkImage(img);
  checkNumber('degrees', degrees);
  const { height: h, width: w, channels: c } = img;
  const th = (degrees * Math.PI) / 180;
  const cos = Math.cos(th);
  const sin = Math.sin(th);
  // corners about the continuous centre (w/2, h/2), rotated screen-CCW
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const [x, y] of [
    [0, 0],
    [w, 0],
    [w, h],
    [0, h],
  ]) {
    const dx = x - w / 2;
    const dy = y - h / 2;
    const rx = dx * cos + dy * sin;
    const ry = -dx * sin + dy * cos;
    minX = Math.min(minX, rx);
    maxX = Math.max(maxX, rx);
    minY = Math.min(minY, ry);
    maxY = Math.max(maxY, ry);
  }
  // tiny tolerance so that 0° / 90° rotations do not grow by a pixel from rounding
  const nw = Math.max(1, Math.ceil(maxX - 1e-9) - Math.floor(minX + 1e-9));
  const nh = Math.max(1, Math.ceil(maxY - 1e-9) - Math.floor(minY + 1e-9));
  const out = new Float32Array(nw * nh * c);
  const coverage = new Float32Array(nw * nh);
  for (let y = 0; y < nh; y++) {
    const dy = y + 0.5 - nh / 2;
    for (let x = 0; x < nw; x++) {
      const dx = x + 0.5 - nw / 2;
      const sx = w / 2 + dx * cos - dy * sin;
      const sy = h / 2 + dx * sin + dy * cos;
      const ix = Math.floor(sx);
      const iy = Math.floor(sy);
      if (ix < 0 || iy < 0 || ix >= w || iy >= h) continue;
      const o = y * nw + x;
      coverage[o] = 1;
      const s = (iy * w + ix) * c;
      for (let k = 0; k < c; k++) out[o * c + k] = img.data[s + k];
    }
  }
  return { image: { data: out, height: nh, width: nw, channels: c }, coverage };
}

/** Bilinear resize (pixel-centre aligned, as cv2.resize INTER_LINEAR for upscaling) of an image. */
export function resizeImage(img: ImageHWC, height: number, width: number): ImageHWC {
  checkImage(img);
  if (!(Number.isInteger(height) && height >= 1 && Number.isInteger(width) && width >= 1)) throw new UserError(`resize: size must be positive integers, got ${height}×${width}`);
  const { height: h, width: w, channels: c } = img;
  const out = new Float32Array(height * width * c);
  const sy = h / height;
  const sx = w / width;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const ay = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const ax = fx - x0;
      const o = (y * width + x) * c;
      for (let k = 0; k < c; k++) {
        const v00 = img.data[(y0 * w + x0) * c + k];
        const v01 = img.data[(y0 * w + x1) * c + k];
        const v10 = img.data[(y1 * w + x0) * c + k];
        const v11 = img.data[(y1 * w + x1) * c + k];
        out[o + k] = (1 - ay) * ((1 - ax) * v00 + ax * v01) + ay * ((1 - ax) * v10 + ax * v11);
      }
    }
  }
  return { data: out, height, width, channels: c };
}
