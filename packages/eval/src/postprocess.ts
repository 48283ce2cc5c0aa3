// Map post-processing before the metrics: upsampling to the evaluation resolution, Gaussian smoothing, mask
// resizing, and image scores derived from a map. All on plain typed arrays (row-major, single channel).
import type { AnomalyMap } from '@unified-ad/core';
import { UserError } from '@unified-ad/core';
import { MASK_THRESHOLD } from './ranking';

function checkMap(m: AnomalyMap, what: string): void {
  if (!Number.isInteger(m.height) || !Number.isInteger(m.width) || m.height < 1 || m.width < 1) {
    throw new UserError(`${what}: bad map shape ${m.height}×${m.width}`);
  }
  if (m.data.length !== m.height * m.width) {
    throw new UserError(`${what}: ${m.data.length} values do not fill a ${m.height}×${m.width} map`);
  }
}

function checkSize(h: number, w: number, what: string): void {
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) throw new UserError(`${what}: bad target size ${h}×${w}`);
}

export interface ResizeOptions {
  /**
   * true (default): corner pixels map to corner pixels, src = dst·(in−1)/(out−1), as torch
   * `F.interpolate(..., align_corners=True)` / `nn.UpsamplingBilinear2d` (what UniAD uses).
   * false: half-pixel centres, src = (dst+½)·in/out − ½ clamped at 0 (torch align_corners=False).
   */
  alignCorners?: boolean;
}

/** Bilinear resize of a map to height × width (computed in float64, stored as float32). */
export function resizeBilinear(map: AnomalyMap, height: number, width: number, opts: ResizeOptions = {}): AnomalyMap {
  checkMap(map, 'resizeBilinear');
  checkSize(height, width, 'resizeBilinear');
  const align = opts.alignCorners ?? true;
  const { height: h, width: w, data } = map;
  const coord = (out: number, inn: number, d: number): number => {
    if (align) return out > 1 ? (d * (inn - 1)) / (out - 1) : 0;
    const s = ((d + 0.5) * inn) / out - 0.5;
    return s < 0 ? 0 : s;
  };
  const y0s = new Int32Array(height);
  const y1s = new Int32Array(height);
  const lys = new Float64Array(height);
  for (let y = 0; y < height; y++) {
    const sy = coord(height, h, y);
    const y0 = Math.min(Math.floor(sy), h - 1);
    y0s[y] = y0;
    y1s[y] = Math.min(y0 + 1, h - 1);
    lys[y] = sy - y0;
  }
  const x0s = new Int32Array(width);
  const x1s = new Int32Array(width);
  const lxs = new Float64Array(width);
  for (let x = 0; x < width; x++) {
    const sx = coord(width, w, x);
    const x0 = Math.min(Math.floor(sx), w - 1);
    x0s[x] = x0;
    x1s[x] = Math.min(x0 + 1, w - 1);
    lxs[x] = sx - x0;
  }
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    const r0 = y0s[y] * w;
    const r1 = y1s[y] * w;
    const ly = lys[y];
    for (let x = 0; x < width; x++) {
      const x0 = x0s[x];
      const x1 = x1s[x];
      const lx = lxs[x];
      const top = data[r0 + x0] * (1 - lx) + data[r0 + x1] * lx;
      const bot = data[r1 + x0] * (1 - lx) + data[r1 + x1] * lx;
      out[y * width + x] = top * (1 - ly) + bot * ly;
    }
  }
  return { data: out, height, width };
}

/** scipy.ndimage 'reflect' boundary (d c b a | a b c d | d c b a) for any offset. */
function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let k = i % period;
  if (k < 0) k += period;
  return k < n ? k : period - 1 - k;
}

export interface BlurOptions {
  /** kernel radius = floor(truncate·σ + 0.5), as scipy.ndimage.gaussian_filter (default 4) */
  truncate?: number;
}

/** Normalised 1-D Gaussian weights of scipy.ndimage.gaussian_filter1d. */
export function gaussianKernel(sigma: number, truncate = 4): Float64Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new UserError(`gaussianBlur: sigma ${sigma} must be a positive number`);
  const radius = Math.floor(truncate * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp((-0.5 * i * i) / (sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/**
 * Separable Gaussian smoothing with standard deviation `sigma` pixels, matching
 * scipy.ndimage.gaussian_filter(map, sigma, mode='reflect', truncate=4) (as PatchCore-style evaluation uses, σ = 4).
 */
export function gaussianBlur(map: AnomalyMap, sigma: number, opts: BlurOptions = {}): AnomalyMap {
  checkMap(map, 'gaussianBlur');
  const k = gaussianKernel(sigma, opts.truncate ?? 4);
  const r = (k.length - 1) / 2;
  const { height: h, width: w, data } = map;
  const tmp = new Float64Array(h * w);
  // axis 0 (rows), then axis 1 (columns), as scipy does
  const yi = new Int32Array(k.length);
  for (let y = 0; y < h; y++) {
    for (let t = 0; t < k.length; t++) yi[t] = reflectIndex(y + t - r, h) * w;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let t = 0; t < k.length; t++) s += k[t] * data[yi[t] + x];
      tmp[y * w + x] = s;
    }
  }
  const out = new Float32Array(h * w);
  const xi = new Int32Array((w + 2 * r) | 0);
  for (let x = -r; x < w + r; x++) xi[x + r] = reflectIndex(x, w);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let t = 0; t < k.length; t++) s += k[t] * tmp[row + xi[x + t]];
      out[row + x] = s;
    }
  }
  return { data: out, height: h, width: w };
}

export interface MaskResizeOptions {
  /**
   * 'half-pixel' (default): src = floor((dst + ½)·in/out), the pixel whose centre is nearest (PIL NEAREST,
   * torchvision Resize on PIL images, torch 'nearest-exact'). 'floor': src = floor(dst·in/out) (torch 'nearest',
   * cv2 INTER_NEAREST).
   */
  mode?: 'half-pixel' | 'floor';
  /** binarisation threshold applied after resizing (default 0.5: v >= 0.5 -> 1) */
  threshold?: number;
}

/** Nearest-neighbour resize of a mask to height × width, then binarised at 0.5 (values 0/1). */
export function resizeMaskNearest(mask: AnomalyMap, height: number, width: number, opts: MaskResizeOptions = {}): AnomalyMap {
  checkMap(mask, 'resizeMaskNearest');
  checkSize(height, width, 'resizeMaskNearest');
  const half = (opts.mode ?? 'half-pixel') === 'half-pixel';
  const thr = opts.threshold ?? MASK_THRESHOLD;
  const { height: h, width: w, data } = mask;
  const src = (d: number, out: number, inn: number) => Math.min(Math.floor(half ? ((d + 0.5) * inn) / out : (d * inn) / out), inn - 1);
  const xs = new Int32Array(width);
  for (let x = 0; x < width; x++) xs[x] = src(x, width, w);
  const out = new Float32Array(height * width);
  for (let y = 0; y < height; y++) {
    const row = src(y, height, h) * w;
    for (let x = 0; x < width; x++) out[y * width + x] = data[row + xs[x]] >= thr ? 1 : 0;
  }
  return { data: out, height, width };
}

/** Binarises mask values at `threshold` (default 0.5: v >= 0.5 -> 1, else 0). */
export function binarizeMask(data: ArrayLike<number>, threshold = MASK_THRESHOLD): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] >= threshold ? 1 : 0;
  return out;
}

export interface PrepareOptions {
  /** evaluation resolution (square side, or [height, width]); omitted = keep the map's size */
  size?: number | [number, number];
  alignCorners?: boolean;
  /** Gaussian σ in pixels at the evaluation resolution (omitted or 0 = no blur) */
  sigma?: number;
}

/** Upsamples a native-resolution map to the evaluation resolution and optionally blurs it. */
export function prepareMap(map: AnomalyMap, opts: PrepareOptions = {}): AnomalyMap {
  let m = map;
  if (opts.size !== undefined) {
    const [h, w] = typeof opts.size === 'number' ? [opts.size, opts.size] : opts.size;
    if (h !== m.height || w !== m.width) m = resizeBilinear(m, h, w, { alignCorners: opts.alignCorners });
  }
  if (opts.sigma) m = gaussianBlur(m, opts.sigma);
  return m;
}

/** How an image score is derived from its anomaly map. */
export type ImageScoreMethod =
  | { kind: 'max' }
  | { kind: 'mean' }
  /** max of the map average-pooled with a window (stride 1, no padding); UniAD uses 16×16 at 224×224 */
  | { kind: 'avgpool-max'; window: number | [number, number] }
  /** mean of the top `percent` % values (at least one value: count = max(1, ceil(percent/100 · n))) */
  | { kind: 'topk-mean'; percent: number };

export const UNIAD_IMAGE_SCORE: ImageScoreMethod = { kind: 'avgpool-max', window: 16 };

/** Image score of one map (higher = more anomalous). */
export function imageScoreFromMap(map: AnomalyMap, method: ImageScoreMethod = { kind: 'max' }): number {
  checkMap(map, 'imageScoreFromMap');
  const d = map.data;
  switch (method.kind) {
    case 'max': {
      let m = -Infinity;
      for (let i = 0; i < d.length; i++) if (d[i] > m) m = d[i];
      return m;
    }
    case 'mean': {
      let s = 0;
      for (let i = 0; i < d.length; i++) s += d[i];
      return s / d.length;
    }
    case 'avgpool-max':
      return avgPoolMax(map, method.window);
    case 'topk-mean':
      return topPercentMean(d, method.percent);
    default:
      throw new UserError(`imageScoreFromMap: unknown kind ${(method as { kind: string }).kind}`);
  }
}

function avgPoolMax(map: AnomalyMap, window: number | [number, number]): number {
  const [kh, kw] = typeof window === 'number' ? [window, window] : window;
  const { height: h, width: w, data } = map;
  if (!Number.isInteger(kh) || !Number.isInteger(kw) || kh < 1 || kw < 1 || kh > h || kw > w) {
    throw new UserError(`imageScoreFromMap: avg-pool window ${kh}×${kw} does not fit a ${h}×${w} map`);
  }
  // summed-area table in float64
  const W1 = w + 1;
  const sat = new Float64Array((h + 1) * W1);
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += data[y * w + x];
      sat[(y + 1) * W1 + x + 1] = sat[y * W1 + x + 1] + row;
    }
  }
  let best = -Infinity;
  for (let y = 0; y + kh <= h; y++) {
    for (let x = 0; x + kw <= w; x++) {
      const s = sat[(y + kh) * W1 + x + kw] - sat[y * W1 + x + kw] - sat[(y + kh) * W1 + x] + sat[y * W1 + x];
      if (s > best) best = s;
    }
  }
  return best / (kh * kw);
}

function topPercentMean(d: Float32Array, percent: number): number {
  if (!(percent > 0 && percent <= 100)) throw new UserError(`imageScoreFromMap: top-k percent ${percent} must be in (0, 100]`);
  const n = d.length;
  const k = Math.max(1, Math.ceil((percent / 100) * n - 1e-9));
  const a = Float64Array.from(d);
  // quickselect: move the k largest values to a[n-k..n-1]
  const target = n - k;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const pivot = median3(a[lo], a[mid], a[hi]);
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  let s = 0;
  for (let i = target; i < n; i++) s += a[i];
  return s / k;
}

function median3(a: number, b: number, c: number): number {
  return a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
}

/**
 * Views (no copy) of `count` row-major height × width maps stored back to back, e.g. the dataSync() of a
 * Prediction's [N, h, w] maps tensor.
 */
export function splitMaps(data: Float32Array, count: number, height: number, width: number): AnomalyMap[] {
  const n = height * width;
  if (data.length !== count * n) throw new UserError(`splitMaps: ${data.length} values are not ${count} maps of ${height}×${width}`);
  return Array.from({ length: count }, (_, k) => ({ data: data.subarray(k * n, (k + 1) * n), height, width }));
}
