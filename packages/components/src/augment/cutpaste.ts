// CutPaste (Li et al., CVPR 2021, Sec. 3.1-3.2), with the parameters of Runinho/pytorch-cutpaste cutpaste.py:
//  * CutPasteNormal: area ~ U(0.02, 0.15)·H·W, aspect w/h = exp(U(ln 0.3, ln 1/0.3)),
//    w = round(√(area·aspect)), h = round(√(area/aspect)); the patch is cut at a uniform position, colour
//    jittered (ColorJitter(0.1, 0.1, 0.1, 0.1)) and pasted at an independent uniform position of the same image;
//  * CutPasteScar: w ~ U(2, 16), h ~ U(10, 25) (rounded, as PIL's crop rounds the box), colour jitter, rotated by
//    U(−45°, 45°) with an expanded canvas (PIL rotate(expand=True), nearest), pasted through its alpha;
//  * CutPaste3Way: one of each from the same image (classes normal / cut-paste / scar).
// Differences from that code: positions are uniform over every valid offset (int(U(0, H − h)) never reaches
// H − h), and rows / columns are the image's own (the reference swaps PIL's (w, h) size, equal for square images).
import type { Rng } from '@unified-ad/core';
import { UserError } from '@unified-ad/core';
import { type Augmented, type ImageHWC, checkImage, checkNumber, checkRange, cloneImage, rotateExpand } from './image';
import { colorJitter, type ColorJitterOptions } from './color';

export interface CutPasteBox {
  top: number;
  left: number;
}

export interface CutPasteResult extends Augmented {
  /** where the patch was cut (top-left corner) and pasted (top-left of the pasted canvas) */
  from: CutPasteBox;
  to: CutPasteBox;
  /** size of the cut patch (before rotation) */
  patchHeight: number;
  patchWidth: number;
  /** rotation of the scar in degrees (0 for CutPasteNormal) */
  angle: number;
}

/** colour jitter of the patch: a number j means brightness = contrast = saturation = hue = j (reference: 0.1); null: none */
export type PatchJitter = number | ColorJitterOptions | null;

function jitterOpts(j: PatchJitter | undefined): ColorJitterOptions | null {
  if (j === undefined) return { brightness: 0.1, contrast: 0.1, saturation: 0.1, hue: 0.1 };
  if (j === null) return null;
  if (typeof j === 'number') {
    checkNumber('colorJitter', j, 0, 0.5);
    return { brightness: j, contrast: j, saturation: j, hue: j };
  }
  return j;
}

function crop(img: ImageHWC, top: number, left: number, h: number, w: number): ImageHWC {
  const c = img.channels;
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) out.set(img.data.subarray(((top + y) * img.width + left) * c, ((top + y) * img.width + left + w) * c), y * w * c);
  return { data: out, height: h, width: w, channels: c };
}

export interface CutPasteNormalOptions {
  /** [min, max] fraction of the image area (reference: [0.02, 0.15]) */
  areaRatio?: [number, number];
  /** aspect w/h is log-uniform in [aspectRatio, 1/aspectRatio] (reference: 0.3) */
  aspectRatio?: number;
  colorJitter?: PatchJitter;
}

/** CutPasteNormal: a rectangular patch of the image, colour jittered, pasted elsewhere in it. mask = the pasted rectangle. */
export function cutPasteNormal(image: ImageHWC, rng: Rng, opts: CutPasteNormalOptions = {}): CutPasteResult {
  checkImage(image);
  const [a0, a1] = checkRange('areaRatio', opts.areaRatio ?? [0.02, 0.15], 0, 1);
  const ar = checkNumber('aspectRatio', opts.aspectRatio ?? 0.3, 1e-6, 1);
  const jitter = jitterOpts(opts.colorJitter);
  const { height: H, width: W } = image;
  const area = rng.uniform(a0, a1) * H * W;
  const aspect = Math.exp(rng.uniform(Math.log(ar), Math.log(1 / ar)));
  const pw = Math.min(W, Math.max(1, Math.round(Math.sqrt(area * aspect))));
  const ph = Math.min(H, Math.max(1, Math.round(Math.sqrt(area / aspect))));
  const from = { top: rng.int(H - ph + 1), left: rng.int(W - pw + 1) };
  let patch = crop(image, from.top, from.left, ph, pw);
  if (jitter) patch = colorJitter(patch, rng, jitter).image;
  const to = { top: rng.int(H - ph + 1), left: rng.int(W - pw + 1) };
  const out = cloneImage(image);
  const mask = new Float32Array(H * W);
  const c = image.channels;
  for (let y = 0; y < ph; y++) {
    out.data.set(patch.data.subarray(y * pw * c, (y + 1) * pw * c), ((to.top + y) * W + to.left) * c);
    mask.fill(1, (to.top + y) * W + to.left, (to.top + y) * W + to.left + pw);
  }
  return { image: out, mask, anomalous: true, from, to, patchHeight: ph, patchWidth: pw, angle: 0 };
}

export interface CutPasteScarOptions {
  /** [min, max] width of the scar before rotation (reference: [2, 16]) */
  width?: [number, number];
  /** [min, max] height (reference: [10, 25]) */
  height?: [number, number];
  /** [min, max] rotation in degrees (reference: [−45, 45]) */
  rotation?: [number, number];
  colorJitter?: PatchJitter;
}

/** CutPasteScar: a thin patch, colour jittered, rotated, pasted through its coverage. mask = the pasted pixels. */
export function cutPasteScar(image: ImageHWC, rng: Rng, opts: CutPasteScarOptions = {}): CutPasteResult {
  checkImage(image);
  const { height: H, width: W, channels: c } = image;
  const wr = checkRange('width', opts.width ?? [2, 16], 1);
  const hr = checkRange('height', opts.height ?? [10, 25], 1);
  const rr = checkRange('rotation', opts.rotation ?? [-45, 45], -360, 360);
  const jitter = jitterOpts(opts.colorJitter);
  // the rotated canvas must fit: its side is at most the patch diagonal + 2
  const diag = Math.ceil(Math.hypot(wr[1], hr[1])) + 2;
  if (diag > Math.min(H, W)) throw new UserError(`width / height: a scar up to ${wr[1]}×${hr[1]} does not fit a ${H}×${W} image when rotated`);
  const pw = Math.round(rng.uniform(wr[0], wr[1]));
  const ph = Math.round(rng.uniform(hr[0], hr[1]));
  const from = { top: rng.int(H - ph + 1), left: rng.int(W - pw + 1) };
  let patch = crop(image, from.top, from.left, ph, pw);
  if (jitter) patch = colorJitter(patch, rng, jitter).image;
  const angle = rng.uniform(rr[0], rr[1]);
  const { image: rot, coverage } = rotateExpand(patch, angle);
  const to = { top: rng.int(H - rot.height + 1), left: rng.int(W - rot.width + 1) };
  const out = cloneImage(image);
  const mask = new Float32Array(H * W);
  for (let y = 0; y < rot.height; y++) {
    for (let x = 0; x < rot.width; x++) {
      const q = y * rot.width + x;
      if (coverage[q] === 0) continue;
      const p = (to.top + y) * W + to.left + x;
      mask[p] = 1;
      for (let k = 0; k < c; k++) out.data[p * c + k] = rot.data[q * c + k];
    }
  }
  return { image: out, mask, anomalous: true, from, to, patchHeight: ph, patchWidth: pw, angle };
}

/** CutPaste3Way: an independent CutPasteNormal and CutPasteScar of the same image (the normal class is the image itself). */
export function cutPaste3Way(
  image: ImageHWC,
  rng: Rng,
  opts: { normal?: CutPasteNormalOptions; scar?: CutPasteScarOptions } = {},
): { normal: CutPasteResult; scar: CutPasteResult } {
  const normal = cutPasteNormal(image, rng, opts.normal);
  const scar = cutPasteScar(image, rng, opts.scar);
  return { normal, scar };
}
