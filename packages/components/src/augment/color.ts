// Colour jitter with the semantics of torchvision's ColorJitter (transforms.ColorJitter.get_params /
// functional adjust_*), on float images in [0, 255] (no rounding to uint8 between the steps):
//   brightness: v·f                      f ~ U[max(0, 1 − b), 1 + b]
//   contrast:   f·v + (1 − f)·mean(gray) f ~ U[max(0, 1 − c), 1 + c], gray = 0.2989 R + 0.587 G + 0.114 B
//   saturation: f·v + (1 − f)·gray       f ~ U[max(0, 1 − s), 1 + s]
//   hue:        h ← (h + f) mod 1 in HSV f ~ U[−h, h], 0 ≤ h ≤ 0.5
// each clamped to [0, 255], applied in a random order (torch.randperm(4)); a jitter of 0 skips that step.
// One-channel images: contrast uses the channel mean, saturation and hue do nothing (as torchvision / PIL).
import type { Rng } from '@unified-ad/core';
import { type ImageHWC, checkImage, checkNumber, checkRange, clamp255, cloneImage, sampleWithoutReplacement } from './image';

const GRAY = [0.2989, 0.587, 0.114] as const;

/** Multiplies every value by `factor` (≥ 0), in place. */
export function adjustBrightness(img: ImageHWC, factor: number): ImageHWC {
  checkNumber('brightness factor', factor, 0);
  const d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = clamp255(d[i] * factor);
  return img;
}

/** Blends with the mean grey level of the whole image by `factor` (≥ 0), in place. */
export function adjustContrast(img: ImageHWC, factor: number): ImageHWC {
  checkNumber('contrast factor', factor, 0);
  const d = img.data;
  const c = img.channels;
  const n = img.height * img.width;
  let mean = 0;
  if (c >= 3) {
    for (let p = 0; p < n; p++) mean += GRAY[0] * d[p * c] + GRAY[1] * d[p * c + 1] + GRAY[2] * d[p * c + 2];
  } else {
    for (let p = 0; p < n; p++) mean += d[p * c];
  }
  mean /= n;
  const m = (1 - factor) * mean;
  for (let i = 0; i < d.length; i++) d[i] = clamp255(factor * d[i] + m);
  return img;
}

/** Blends each pixel with its grey level by `factor` (≥ 0), in place; no-op for fewer than 3 channels. */
export function adjustSaturation(img: ImageHWC, factor: number): ImageHWC {
  checkNumber('saturation factor', factor, 0);
  const c = img.channels;
  if (c < 3) return img;
  const d = img.data;
  const n = img.height * img.width;
  for (let p = 0; p < n; p++) {
    const o = p * c;
    const g = (1 - factor) * (GRAY[0] * d[o] + GRAY[1] * d[o + 1] + GRAY[2] * d[o + 2]);
    d[o] = clamp255(factor * d[o] + g);
    d[o + 1] = clamp255(factor * d[o + 1] + g);
    d[o + 2] = clamp255(factor * d[o + 2] + g);
  }
  return img;
}

/** RGB (0..255) → HSV with h, s in [0, 1) / [0, 1] and v in [0, 255] (torchvision's _rgb2hsv). */
export function rgbToHsv(r: number, g: number, b: number, out: Float64Array): void {
  const maxc = Math.max(r, g, b);
  const minc = Math.min(r, g, b);
  const cr = maxc - minc;
  if (cr === 0) {
    out[0] = 0;
    out[1] = 0;
    out[2] = maxc;
    return;
  }
  const rc = (maxc - r) / cr;
  const gc = (maxc - g) / cr;
  const bc = (maxc - b) / cr;
  let h: number;
  if (maxc === r) h = bc - gc;
  else if (maxc === g) h = 2 + rc - bc;
  else h = 4 + gc - rc;
  h = (h / 6 + 1) % 1;
  out[0] = h;
  out[1] = maxc > 0 ? cr / maxc : 0;
  out[2] = maxc;
}

/** HSV (as rgbToHsv) → RGB (0..255), written to out[0..2]. */
export function hsvToRgb(h: number, s: number, v: number, out: Float64Array): void {
  const h6 = h * 6;
  const i = Math.floor(h6);
  const f = h6 - i;
  const p = Math.min(Math.max(v * (1 - s), 0), 255);
  const q = Math.min(Math.max(v * (1 - s * f), 0), 255);
  const t = Math.min(Math.max(v * (1 - s * (1 - f)), 0), 255);
  // sector i: (r, g, b) = (v,t,p) (q,v,p) (p,v,t) (p,q,v) (t,p,v) (v,p,q)
  const sector = ((i % 6) + 6) % 6;
  out[0] = sector === 0 || sector === 5 ? v : sector === 1 ? q : sector === 4 ? t : p;
  out[1] = sector === 1 || sector === 2 ? v : sector === 0 ? t : sector === 3 ? q : p;
  out[2] = sector === 3 || sector === 4 ? v : sector === 2 ? t : sector === 5 ? q : p;
}

/**
 * Rewrites every pixel of an image with ≥ 3 channels through HSV, in place: `f` gets [h, s, v] as rgbToHsv gives
 * them and changes them in place (no allocation per pixel); the result is clamped to 0..255 as the rest of the module.
 */
export function mapHsv(img: ImageHWC, f: (hsv: Float64Array) => void): void {
  const c = img.channels;
  const d = img.data;
  const n = img.height * img.width;
  const hsv = new Float64Array(3);
  const rgb = new Float64Array(3);
  for (let p = 0; p < n; p++) {
    const o = p * c;
    rgbToHsv(d[o], d[o + 1], d[o + 2], hsv);
    f(hsv);
    hsvToRgb(hsv[0], hsv[1], hsv[2], rgb);
    d[o] = clamp255(rgb[0]);
    d[o + 1] = clamp255(rgb[1]);
    d[o + 2] = clamp255(rgb[2]);
  }
}

/** Hue + shift wrapped to [0, 1). */
export function shiftHue(h: number, shift: number): number {
  const x = (h + shift) % 1;
  return x < 0 ? x + 1 : x;
}

/** Shifts the hue by `shift` (a fraction of the colour circle, in [−0.5, 0.5]), in place; no-op for < 3 channels. */
export function adjustHue(img: ImageHWC, shift: number): ImageHWC {
  checkNumber('hue shift', shift, -0.5, 0.5);
  if (img.channels < 3 || shift === 0) return img;
  mapHsv(img, (hsv) => {
    hsv[0] = shiftHue(hsv[0], shift);
  });
  return img;
}

export interface ColorJitterOptions {
  /** b or [min, max] of the factor (b → [max(0, 1 − b), 1 + b]); 0 = off */
  brightness?: number | [number, number];
  contrast?: number | [number, number];
  saturation?: number | [number, number];
  /** h ∈ [0, 0.5] or [min, max] ⊂ [−0.5, 0.5] of the hue shift (h → [−h, h]); 0 = off */
  hue?: number | [number, number];
}

export interface ColorJitterParams {
  /** the steps in the order applied */
  order: ('brightness' | 'contrast' | 'saturation' | 'hue')[];
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  hue: number | null;
}

function factorRange(name: string, v: number | [number, number] | undefined): [number, number] | null {
  if (v === undefined) return null;
  if (typeof v === 'number') {
    checkNumber(name, v, 0);
    return v === 0 ? null : [Math.max(0, 1 - v), 1 + v];
  }
  const r = checkRange(name, v, 0);
  return r[0] === 1 && r[1] === 1 ? null : r;
}

function hueRange(v: number | [number, number] | undefined): [number, number] | null {
  if (v === undefined) return null;
  if (typeof v === 'number') {
    checkNumber('hue', v, 0, 0.5);
    return v === 0 ? null : [-v, v];
  }
  const r = checkRange('hue', v, -0.5, 0.5);
  return r[0] === 0 && r[1] === 0 ? null : r;
}

/** torchvision ColorJitter: returns a new image and the drawn factors. */
export function colorJitter(img: ImageHWC, rng: Rng, opts: ColorJitterOptions): { image: ImageHWC; params: ColorJitterParams } {
  checkImage(img);
  const ranges = {
    brightness: factorRange('brightness', opts.brightness),
    contrast: factorRange('contrast', opts.contrast),
    saturation: factorRange('saturation', opts.saturation),
    hue: hueRange(opts.hue),
  };
  const names = ['brightness', 'contrast', 'saturation', 'hue'] as const;
  const perm = sampleWithoutReplacement(4, 4, rng);
  // factors are drawn in the fixed order, as get_params does, before the permuted application
  const params: ColorJitterParams = { order: [], brightness: null, contrast: null, saturation: null, hue: null };
  for (const k of names) {
    const r = ranges[k];
    if (r) params[k] = rng.uniform(r[0], r[1]);
  }
  const out = cloneImage(img);
  for (const i of perm) {
    const k = names[i];
    const f = params[k];
    if (f === null) continue;
    params.order.push(k);
    if (k === 'brightness') adjustBrightness(out, f);
    else if (k === 'contrast') adjustContrast(out, f);
    else if (k === 'saturation') adjustSaturation(out, f);
    else adjustHue(out, f);
  }
  return { image: out, params };
}
