// A label-free monitor of training (UniAD Fig. 3 without test labels): a few normal training images are held
// out of training, half of them get a synthetic anomaly — a rectangle cut from another held-out image and
// pasted at another place (cut-paste in the method's input space: features and/or pixels, the same relative
// rectangle in both) — and each evaluation reports how well the method separates them:
//   val.synthetic_i_auroc, val.synthetic_p_auroc, val.synthetic_shortcut_ratio
// None of it reads a test label. `train.select: synthetic` picks the checkpoint by val.synthetic_p_auroc.
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, tensorFitData, type FitData, type ImageStore, type Method, type Sample } from '@unified-ad/core';
import { auroc, shortcutRatio } from '@unified-ad/eval';
import type { InputSet } from './inputs';

/** One pasted rectangle in relative coordinates [0, 1). */
interface Rect { y0: number; x0: number; h: number; w: number; sy: number; sx: number }

export interface SyntheticValidation {
  data: FitData;
  labels: number[];
  rects: (Rect | null)[];
  dispose(): void;
}

/** Samples held out for the monitor: `k` of the group's training rows, drawn from the seed. */
export function heldOutRows(n: number, k: number, seed: number): number[] {
  if (k <= 0) return [];
  if (k >= n) throw new Error(`train.monitor: ${k} held-out images leave none of the ${n} training images for training`);
  return new Rng(seed * 7919 + 17).permutation(n).slice(0, k).sort((a, b) => a - b);
}

/** Relative rectangle → pixel / cell range at resolution r. */
const span = (a: number, len: number, r: number): [number, number] => {
  const lo = Math.min(r - 1, Math.floor(a * r));
  return [lo, Math.max(lo + 1, Math.min(r, Math.round((a + len) * r)))];
};

/** A mask of a rectangle at resolution r×r. */
export function rectMask(rect: Rect | null, r: number): Float32Array {
  const m = new Float32Array(r * r);
  if (!rect) return m;
  const [y0, y1] = span(rect.y0, rect.h, r), [x0, x1] = span(rect.x0, rect.w, r);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) m[y * r + x] = 1;
  return m;
}

/**
 * `data` holds 2k images (side × side × channels, HWC) of which the first k are filled: copies them to k..2k−1
 * and pastes into copy k+i the rectangle rects[i] cut from image (i+1) mod k at (sy, sx). Returns `data`.
 */
function pasteRects<T extends Float32Array | Uint8Array>(data: T, k: number, side: number, channels: number, rects: Rect[]): T {
  const per = side * side * channels;
  data.copyWithin(k * per, 0, k * per);
  rects.forEach((r, i) => {
    const src = ((i + 1) % k) * per, dst = (k + i) * per;
    const [y0, y1] = span(r.y0, r.h, side), [x0, x1] = span(r.x0, r.w, side);
    const [sy0] = span(r.sy, r.h, side), [sx0] = span(r.sx, r.w, side);
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        const from = src + (Math.min(side - 1, sy0 + y - y0) * side + Math.min(side - 1, sx0 + x - x0)) * channels;
        data.set(data.subarray(from, from + channels), dst + (y * side + x) * channels);
      }
  });
  return data;
}

/** Normal copies of the held-out rows plus anomalous copies with a pasted rectangle (a new input set). */
export function makeSyntheticValidation(held: InputSet, samples: Sample[], seed: number): SyntheticValidation {
  const k = samples.length;
  const rng = new Rng(seed * 104729 + 3);
  const rects: Rect[] = samples.map(() => {
    const h = 0.15 + 0.25 * rng.uniform(), w = 0.15 + 0.25 * rng.uniform();
    return { y0: rng.uniform() * (1 - h), x0: rng.uniform() * (1 - w), h, w, sy: rng.uniform() * (1 - h), sx: rng.uniform() * (1 - w) };
  });
  const out: InputSet = {};
  if (held.features) {
    const [, g, , c] = held.features.shape;
    const data = new Float32Array(2 * k * g * g * c);
    data.set(held.features.dataSync() as Float32Array);
    out.features = tf.tensor4d(pasteRects(data, k, g, c, rects), [2 * k, g, g, c]) as Tensor4D;
  }
  if (held.images) {
    const s = held.images.size;
    const data = new Uint8Array(2 * k * s * s * 3);
    data.set(held.images.data);
    out.images = { size: s, data: pasteRects(data, k, s, 3, rects) } as ImageStore;
  }
  const valSamples: Sample[] = [
    ...samples.map((x) => ({ ...x, id: `${x.id}#val-normal`, split: 'test' as const })),
    ...samples.map((x) => ({ ...x, id: `${x.id}#val-synthetic`, split: 'test' as const, label: 1 as const, defectType: 'synthetic-cutpaste' })),
  ];
  return {
    data: tensorFitData(valSamples, out),
    labels: valSamples.map((x) => x.label),
    rects: [...samples.map(() => null), ...rects],
    dispose: () => out.features?.dispose(),
  };
}

/** The monitor's numbers for the model as it is now (maps at their native resolution; masks made to match). */
export function syntheticScores(model: Method, val: SyntheticValidation): Record<string, number> {
  const n = val.labels.length;
  const p = tf.tidy(() => {
    const r = model.predict(val.data.batch(Array.from({ length: n }, (_, i) => i)));
    return [r.maps ?? tf.zeros([0]), r.scores ?? tf.zeros([0])];
  });
  const mapsT = p[0]!, scoresT = p[1]!;
  const out: Record<string, number> = {};
  let scores: ArrayLike<number> | null = scoresT.size ? (scoresT.dataSync() as Float32Array) : null;
  if (mapsT.size) {
    const [, h, w] = mapsT.shape;
    if (h !== w) throw new Error(`monitor: maps must be square, got ${h}×${w}`);
    const all = mapsT.dataSync() as Float32Array;
    const maps = Array.from({ length: n }, (_, i) => all.subarray(i * h * w, (i + 1) * h * w));
    const masks = val.rects.map((r) => rectMask(r, h));
    scores ??= maps.map((m) => m.reduce((a, b) => Math.max(a, b), -Infinity));
    const flat = new Float32Array(n * h * w), lab = new Uint8Array(n * h * w);
    maps.forEach((m, i) => { flat.set(m, i * h * w); lab.set(masks[i]!, i * h * w); });
    out.synthetic_p_auroc = auroc(flat, lab);
    out.synthetic_shortcut_ratio = shortcutRatio(maps, masks).ratio;
  }
  out.synthetic_i_auroc = auroc(Float32Array.from(scores!), Uint8Array.from(val.labels));
  tf.dispose(p);
  return out;
}
