// DRAEM's simulated anomalies (Zavrtanik et al., ICCV 2021, Sec. 3.3; VitjanZ/DRAEM data_loader.py
// MVTecDRAEMTrainDataset.augment_image):
//   1. an anomaly source image A is passed through 3 distinct ops, in random order, of the 10 below;
//   2. a Perlin mask M (perlin.ts: scales 2^U{0..5} per axis, rotation U(−90°, 90°), noise > 0.5);
//   3. I_a = (1 − M) ⊙ I + (1 − β) (M ⊙ A) + β (M ⊙ I), β ~ U[0, 0.8);
//   4. with probability 0.5 the sample stays clean (I, zero mask); an empty mask also counts as clean.
// The 10 ops are imgaug's (DRAEM's self.augmenters), re-implemented on float [0, 255] images:
//   GammaContrast((0.5, 2.0), per_channel=True)      v ← 255 (v/255)^γ_c
//   MultiplyAndAddToBrightness(mul=(0.8, 1.2), add=(−30, 30))
//                                                    luma Y of YCrCb: Y ← Y·m then + a (or + a then ·m, random
//                                                    order), clipped; Cr, Cb kept (imgaug picks one of six
//                                                    colour spaces per image; here YCrCb or HSV's V)
//   pillike.EnhanceSharpness(factor=(0, 2))          PIL ImageEnhance.Sharpness: blend with the 3×3 SMOOTH
//                                                    filter [[1,1,1],[1,5,1],[1,1,1]]/13 (border kept)
//   AddToHueAndSaturation((−50, 50), per_channel=True)
//                                                    hue += int(v_h/255·180)/180 of the circle, S += v_s/255,
//                                                    v_h, v_s ~ U{−50..50} independently
//   Solarize(0.5, threshold=(32, 128))               with p = 0.5: v ≥ int(t) → 255 − v, t ~ U(32, 128)
//   Posterize()                                      keep b ~ U{1..8} high bits of each uint8 value
//   Invert()                                         v ← 255 − v
//   pillike.Autocontrast()                           PIL ImageOps.autocontrast per channel, cutoff ~ U{0..20} %
//   pillike.Equalize()                               PIL ImageOps.equalize per channel
//   Affine(rotate=(−45, 45))                         rotation about the centre, bilinear, 0 outside
// Ops on integer levels (solarize, posterize, autocontrast, equalize) round their input to 0..255 integers,
// as the uint8 images of the reference are.
//
// Substitution: DRAEM's anomaly sources are DTD texture images, which are not available here. The source is a
// parameter: any image of the same size (e.g. another training image of a different class), or, by default,
// a procedural texture (proceduralTexture below: two-colour fractal Perlin noise with per-channel variation).
import type { Rng } from '@unified-ad/core';
import { UserError } from '@unified-ad/core';
import {
  type Augmented,
  type ImageHWC,
  checkImage,
  checkNumber,
  checkProbability,
  clamp255,
  cloneImage,
  emptyImage,
  rotatePlanes,
  sampleWithoutReplacement,
} from './image';
import { mapHsv, shiftHue } from './color';
import { fractalNoise, perlinMask, type PerlinMaskOptions } from './perlin';

const toByte = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** Applies a 256-entry lookup table per channel (tables[c]) to the rounded values, in place. */
function applyLut(img: ImageHWC, tables: Float64Array[]): void {
  const { data, channels: c } = img;
  for (let i = 0; i < data.length; i++) data[i] = tables[i % c][toByte(data[i])];
}

function histogram(img: ImageHWC, ch: number): Float64Array {
  const h = new Float64Array(256);
  const { data, channels: c } = img;
  for (let i = ch; i < data.length; i += c) h[toByte(data[i])]++;
  return h;
}

const isColour = (img: ImageHWC): boolean => img.channels >= 3;

/** imgaug GammaContrast: 255·(v/255)^γ with γ ~ U(lo, hi) per channel. */
function gammaContrast(img: ImageHWC, rng: Rng): void {
  const c = img.channels;
  const gammas = Array.from({ length: c }, () => rng.uniform(0.5, 2.0));
  const d = img.data;
  for (let k = 0; k < c; k++) {
    const g = gammas[k];
    for (let i = k; i < d.length; i += c) {
      const v = d[i] / 255;
      d[i] = v <= 0 ? 0 : v >= 1 ? 255 : 255 * Math.exp(g * Math.log(v));
    }
  }
}

/** imgaug MultiplyAndAddToBrightness on YCrCb's Y or HSV's V: ·U(0.8, 1.2) and +U(−30, 30) in random order. */
function multiplyAndAddToBrightness(img: ImageHWC, rng: Rng): void {
  const mul = rng.uniform(0.8, 1.2);
  const add = rng.uniform(-30, 30);
  const mulFirst = rng.next() < 0.5;
  const useHsv = rng.next() < 0.5;
  const f = (y: number): number => (mulFirst ? clamp255(clamp255(y * mul) + add) : clamp255(clamp255(y + add) * mul));
  const d = img.data;
  const c = img.channels;
  const n = img.height * img.width;
  if (!isColour(img)) {
    for (let i = 0; i < d.length; i++) d[i] = f(d[i]);
    return;
  }
  for (let p = 0; p < n; p++) {
    const o = p * c;
    const r = d[o];
    const g = d[o + 1];
    const b = d[o + 2];
    if (useHsv) {
      // V = max(r, g, b); scaling all three keeps hue and saturation
      const v = Math.max(r, g, b);
      if (v === 0) {
        const nv = f(0);
        d[o] = nv;
        d[o + 1] = nv;
        d[o + 2] = nv;
      } else {
        const k = f(v) / v;
        d[o] = clamp255(r * k);
        d[o + 1] = clamp255(g * k);
        d[o + 2] = clamp255(b * k);
      }
    } else {
      // OpenCV YCrCb: Y = 0.299 R + 0.587 G + 0.114 B; with Cr, Cb fixed, RGB all move by ΔY
      const y = 0.299 * r + 0.587 * g + 0.114 * b;
      const dy = f(y) - y;
      d[o] = clamp255(r + dy);
      d[o + 1] = clamp255(g + dy);
      d[o + 2] = clamp255(b + dy);
    }
  }
}

/** PIL ImageEnhance.Sharpness(factor ~ U(0, 2)): degenerate = SMOOTH 3×3 filter (border pixels unfiltered). */
function enhanceSharpness(img: ImageHWC, rng: Rng): void {
  const factor = rng.uniform(0, 2);
  const { height: h, width: w, channels: c } = img;
  const src = Float32Array.from(img.data);
  const d = img.data;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      for (let k = 0; k < c; k++) {
        const o = (y * w + x) * c + k;
        const up = o - w * c;
        const dn = o + w * c;
        const s = src[up - c] + src[up] + src[up + c] + src[o - c] + 5 * src[o] + src[o + c] + src[dn - c] + src[dn] + src[dn + c];
        const deg = s / 13;
        d[o] = clamp255(deg + factor * (src[o] - deg));
      }
    }
  }
}

/** imgaug AddToHueAndSaturation((−50, 50), per_channel=True) in OpenCV HSV (H in 0..180, S in 0..255). */
function addToHueAndSaturation(img: ImageHWC, rng: Rng): void {
  const vh = -50 + rng.int(101);
  const vs = -50 + rng.int(101);
  if (!isColour(img)) return;
  const hueShift = Math.trunc((vh / 255) * 180) / 180; // OpenCV hue units → fraction of the circle
  const satShift = vs / 255;
  mapHsv(img, (hsv) => {
    hsv[0] = shiftHue(hsv[0], hueShift);
    hsv[1] = Math.min(1, Math.max(0, hsv[1] + satShift));
  });
}

/** imgaug Solarize(p=0.5, threshold=(32, 128)): values ≥ int(t) are inverted. */
function solarize(img: ImageHWC, rng: Rng): void {
  const apply = rng.next() < 0.5;
  const t = Math.trunc(rng.uniform(32, 128));
  if (!apply) return;
  const lut = new Float64Array(256);
  for (let v = 0; v < 256; v++) lut[v] = v >= t ? 255 - v : v;
  applyLut(img, Array.from({ length: img.channels }, () => lut));
}

/** imgaug Posterize(nb_bits=(1, 8)): v ← floor(v / 2^(8−b)) · 2^(8−b). */
function posterize(img: ImageHWC, rng: Rng): void {
  const bits = 1 + rng.int(8);
  const step = 2 ** (8 - bits);
  const lut = new Float64Array(256);
  for (let v = 0; v < 256; v++) lut[v] = Math.floor(v / step) * step;
  applyLut(img, Array.from({ length: img.channels }, () => lut));
}

function invert(img: ImageHWC): void {
  const d = img.data;
  for (let i = 0; i < d.length; i++) d[i] = 255 - clamp255(d[i]);
}

/** PIL ImageOps.autocontrast(cutoff ~ U{0..20} %) per channel (the same cutoff for all channels). */
function autocontrast(img: ImageHWC, rng: Rng): void {
  const cutoff = rng.int(21);
  const tables: Float64Array[] = [];
  for (let ch = 0; ch < img.channels; ch++) {
    const h = histogram(img, ch);
    if (cutoff > 0) {
      let n = 0;
      for (let v = 0; v < 256; v++) n += h[v];
      let cut = Math.floor((n * cutoff) / 100);
      // remove `cut` samples from the low end, then from the high end
      for (let lo = 0; lo < 256 && cut > 0; lo++) {
        const take = Math.min(h[lo], cut);
        h[lo] -= take;
        cut -= take;
      }
      cut = Math.floor((n * cutoff) / 100);
      for (let hi = 255; hi >= 0 && cut > 0; hi--) {
        const take = Math.min(h[hi], cut);
        h[hi] -= take;
        cut -= take;
      }
    }
    let lo = 0;
    while (lo < 256 && h[lo] === 0) lo++;
    let hi = 255;
    while (hi >= 0 && h[hi] === 0) hi--;
    const lut = new Float64Array(256);
    if (hi <= lo) {
      for (let v = 0; v < 256; v++) lut[v] = v;
    } else {
      const scale = 255 / (hi - lo);
      const offset = -lo * scale;
      for (let v = 0; v < 256; v++) lut[v] = Math.trunc(Math.min(255, Math.max(0, v * scale + offset)));
    }
    tables.push(lut);
  }
  applyLut(img, tables);
}

/** PIL ImageOps.equalize per channel: step = (N − count of the highest level) // 255, lut[v] = (step//2 + Σ_{u<v} h[u]) // step. */
function equalize(img: ImageHWC): void {
  const tables: Float64Array[] = [];
  for (let ch = 0; ch < img.channels; ch++) {
    const h = histogram(img, ch);
    const lut = new Float64Array(256);
    let nonzero = 0;
    let last = 0;
    let total = 0;
    for (let v = 0; v < 256; v++) {
      if (h[v] > 0) {
        nonzero++;
        last = h[v];
      }
      total += h[v];
    }
    const step = Math.floor((total - last) / 255);
    if (nonzero <= 1 || step === 0) {
      for (let v = 0; v < 256; v++) lut[v] = v;
    } else {
      let n = Math.floor(step / 2);
      for (let v = 0; v < 256; v++) {
        lut[v] = Math.min(255, Math.floor(n / step));
        n += h[v];
      }
    }
    tables.push(lut);
  }
  applyLut(img, tables);
}

/** imgaug Affine(rotate=(−45, 45)): bilinear, constant 0 outside. */
function affineRotate(img: ImageHWC, rng: Rng): void {
  const angle = rng.uniform(-45, 45);
  img.data.set(rotatePlanes(img.data, img.height, img.width, img.channels, angle, { fill: 0 }));
}

/** DRAEM's 10 augmenters, in its order (self.augmenters in data_loader.py). */
export const DRAEM_OPS = [
  'gammaContrast',
  'multiplyAndAddToBrightness',
  'enhanceSharpness',
  'addToHueAndSaturation',
  'solarize',
  'posterize',
  'invert',
  'autocontrast',
  'equalize',
  'affineRotate',
] as const;
export type DraemOp = (typeof DRAEM_OPS)[number];

const OP_FNS: Record<DraemOp, (img: ImageHWC, rng: Rng) => void> = {
  gammaContrast,
  multiplyAndAddToBrightness,
  enhanceSharpness,
  addToHueAndSaturation,
  solarize,
  posterize,
  invert: (img) => invert(img),
  autocontrast,
  equalize: (img) => equalize(img),
  affineRotate,
};

/** Applies the named DRAEM ops in the given order to a copy of `img`. */
export function applyDraemOps(img: ImageHWC, ops: readonly DraemOp[], rng: Rng): ImageHWC {
  checkImage(img);
  const out = cloneImage(img);
  for (const op of ops) {
    const f = OP_FNS[op];
    if (!f) throw new UserError(`DRAEM op must be one of ${DRAEM_OPS.join(', ')}, got '${String(op)}'`);
    f(out, rng);
  }
  return out;
}

/** DRAEM's randAugmenter: `count` distinct ops of the 10 in random order, applied to a copy of `img`. */
export function draemRandomOps(img: ImageHWC, rng: Rng, count = 3): { image: ImageHWC; ops: DraemOp[] } {
  if (!(Number.isInteger(count) && count >= 0 && count <= DRAEM_OPS.length)) throw new UserError(`count must be an integer in [0, ${DRAEM_OPS.length}], got ${count}`);
  const ops = sampleWithoutReplacement(DRAEM_OPS.length, count, rng).map((i) => DRAEM_OPS[i]);
  return { image: applyDraemOps(img, ops, rng), ops };
}

export interface ProceduralTextureOptions {
  /** base lattice cells per axis is 2^U{0..maxBaseExp} (default 3: 1..8) */
  maxBaseExp?: number;
  /** octaves of the fractal noise (default 4) */
  octaves?: number;
  /** amplitude ratio between octaves (default 0.5) */
  persistence?: number;
}

/**
 * A random texture to stand in for DRAEM's DTD anomaly sources: fractal Perlin noise blending two random
 * colours, plus a weaker independent fractal noise per channel for colour variation; values in [0, 255].
 */
export function proceduralTexture(height: number, width: number, channels: number, rng: Rng, opts: ProceduralTextureOptions = {}): ImageHWC {
  const maxBaseExp = opts.maxBaseExp ?? 3;
  if (!(Number.isInteger(maxBaseExp) && maxBaseExp >= 0 && maxBaseExp <= 8)) throw new UserError(`maxBaseExp must be an integer in [0, 8], got ${maxBaseExp}`);
  const octaves = opts.octaves ?? 4;
  const persistence = checkNumber('persistence', opts.persistence ?? 0.5, 0, 1);
  const img = emptyImage(height, width, channels);
  const ry = 2 ** rng.int(maxBaseExp + 1);
  const rx = 2 ** rng.int(maxBaseExp + 1);
  const base = fractalNoise(height, width, ry, rx, octaves, persistence, rng);
  // contrast of the pattern: a random sharpness of the blend between the two colours
  const gain = rng.uniform(1.5, 4);
  const c0 = Array.from({ length: channels }, () => rng.uniform(0, 255));
  const c1 = Array.from({ length: channels }, () => rng.uniform(0, 255));
  const n = height * width;
  const t = new Float32Array(n);
  for (let p = 0; p < n; p++) t[p] = 1 / (1 + Math.exp(-2 * gain * base[p])); // logistic blend weight in (0, 1)
  for (let k = 0; k < channels; k++) {
    const tint = fractalNoise(height, width, ry, rx, Math.max(1, octaves - 2), persistence, rng);
    for (let p = 0; p < n; p++) img.data[p * channels + k] = clamp255(c0[k] + t[p] * (c1[k] - c0[k]) + 40 * tint[p]);
  }
  return img;
}

export interface DraemOptions extends PerlinMaskOptions {
  /**
   * anomaly source image of the same size (DRAEM: a random DTD texture, resized). Omitted: a fresh
   * proceduralTexture is drawn. Pass another training image to paste real-image content.
   */
  source?: ImageHWC;
  /** probability of returning the sample unchanged (DRAEM: 0.5) */
  cleanProbability?: number;
  /** β ~ U[0, betaMax) is the weight of the original image inside the mask (DRAEM: 0.8) */
  betaMax?: number;
  /** ops applied to the source (DRAEM: 3 of its 10) */
  numOps?: number;
}

export interface DraemResult extends Augmented {
  /** β (null for a clean sample) */
  beta: number | null;
  /** the DRAEM ops applied to the source, in order */
  ops: DraemOp[];
  /** Perlin lattice scales and rotation (null for a clean sample) */
  scale: [number, number] | null;
  angle: number | null;
  /** the augmented anomaly source (null for a clean sample) */
  source: ImageHWC | null;
}

/** DRAEM's augment_image: a Perlin-shaped, β-blended patch of an augmented anomaly source, or (p = 0.5) the clean image. */
export function draemAugment(image: ImageHWC, rng: Rng, opts: DraemOptions = {}): DraemResult {
  checkImage(image);
  const { height: h, width: w, channels: c } = image;
  const pClean = checkProbability('cleanProbability', opts.cleanProbability ?? 0.5);
  const betaMax = checkNumber('betaMax', opts.betaMax ?? 0.8, 0, 1);
  const numOps = opts.numOps ?? 3;
  if (opts.source) {
    checkImage(opts.source, 'source');
    if (opts.source.height !== h || opts.source.width !== w || opts.source.channels !== c) {
      throw new UserError(`source must be ${h}×${w}×${c} like the image, got ${opts.source.height}×${opts.source.width}×${opts.source.channels}`);
    }
  }
  // the clean decision first (DRAEM draws it last; the distribution is the same and clean samples cost nothing)
  if (rng.next() < pClean) {
    return { image: cloneImage(image), mask: new Float32Array(h * w), anomalous: false, beta: null, ops: [], scale: null, angle: null, source: null };
  }
  const src = opts.source ?? proceduralTexture(h, w, c, rng);
  const { image: aug, ops } = draemRandomOps(src, rng, numOps);
  const pm = perlinMask(h, w, rng, opts);
  const beta = rng.next() * betaMax;
  const out = cloneImage(image);
  const a = aug.data;
  const d = out.data;
  for (let p = 0; p < h * w; p++) {
    if (pm.mask[p] === 0) continue;
    for (let k = 0; k < c; k++) {
      const i = p * c + k;
      d[i] = clamp255((1 - beta) * a[i] + beta * d[i]);
    }
  }
  return { image: out, mask: pm.mask, anomalous: pm.area > 0, beta, ops, scale: pm.scale, angle: pm.angle, source: aug };
}
