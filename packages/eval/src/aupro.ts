// AUPRO as defined with MVTec AD (Bergmann et al., IJCV 2021, Sec. 4.2; the official evaluation script
// `pro_curve_util.compute_pro` + `generic_util.trapezoid`): ground-truth regions are the 8-connected components
// of every mask; at each distinct threshold t (descending), PRO(t) = (1/R) Σ_r |{p ∈ r : score ≥ t}| / |r| and
// FPR(t) = (#normal pixels with score ≥ t) / (#normal pixels). The curve starts at (0, 0); the area under it is
// integrated with the trapezoid rule up to FPR = limit (0.3), the last segment interpolated linearly at the limit,
// and divided by the limit. PRO is updated in O(1) per pixel: each anomalous pixel adds 1/|its region|.
import { UserError } from '@unified-ad/core';
import { sortPixels, type MapLike, type MaskLike, type PixelOptions, type SortedPixels } from './pixels';

export const DEFAULT_FPR_LIMIT = 0.3;

/** Normalised area under the PRO curve up to `fprLimit`. NaN when there is no region or no normal pixel. */
export function sweepAupro(s: SortedPixels, fprLimit = DEFAULT_FPR_LIMIT): number {
  if (!(fprLimit > 0 && fprLimit <= 1)) throw new UserError(`aupro: fprLimit ${fprLimit} must be in (0, 1]`);
  if (!s.posPayload || !s.regionSizes) throw new Error('sweepAupro: pixels were sorted without regions');
  const R = s.regionCount;
  const N = s.neg.length;
  if (R === 0 || N === 0) return NaN;
  const w = new Float64Array(R);
  for (let r = 0; r < R; r++) w[r] = 1 / s.regionSizes[r];
  const pos = s.pos;
  const neg = s.neg;
  const payload = s.posPayload;
  let i = pos.length - 1;
  let j = N - 1;
  let fp = 0;
  let proSum = 0;
  let prevX = 0;
  let prevY = 0;
  let area = 0;
  while (i >= 0 || j >= 0) {
    let v: number;
    if (i < 0) v = neg[j];
    else if (j < 0) v = pos[i];
    else v = pos[i] > neg[j] ? pos[i] : neg[j];
    while (i >= 0 && pos[i] === v) proSum += w[payload[i--]];
    while (j >= 0 && neg[j] === v) {
      j--;
      fp++;
    }
    const x = Math.min(fp / N, 1);
    const y = Math.min(proSum / R, 1);
    if (x > fprLimit) {
      const yAt = prevY + ((y - prevY) * (fprLimit - prevX)) / (x - prevX);
      area += 0.5 * (yAt + prevY) * (fprLimit - prevX);
      return area / fprLimit;
    }
    area += 0.5 * (y + prevY) * (x - prevX);
    prevX = x;
    prevY = y;
  }
  // only reached when the last point has FPR == limit (== 1)
  return area / fprLimit;
}

export interface ProCurve {
  /** FPR at each distinct threshold (descending threshold), starting with 0 */
  fpr: Float64Array;
  /** PRO at each distinct threshold, starting with 0 */
  pro: Float64Array;
  /** thresholds (NaN for the starting point) */
  thresholds: Float64Array;
}

/** The PRO curve points up to (and including the first point past) `maxFpr`; for plots and checks. */
export function sweepProCurve(s: SortedPixels, maxFpr = 1): ProCurve {
  if (!s.posPayload || !s.regionSizes) throw new Error('sweepProCurve: pixels were sorted without regions');
  const R = s.regionCount;
  const N = s.neg.length;
  const fpr: number[] = [0];
  const pro: number[] = [0];
  const thr: number[] = [NaN];
  if (R === 0 || N === 0) return { fpr: Float64Array.from(fpr), pro: Float64Array.from(pro), thresholds: Float64Array.from(thr) };
  const pos = s.pos;
  const neg = s.neg;
  let i = pos.length - 1;
  let j = N - 1;
  let fp = 0;
  let proSum = 0;
  while (i >= 0 || j >= 0) {
    let v: number;
    if (i < 0) v = neg[j];
    else if (j < 0) v = pos[i];
    else v = pos[i] > neg[j] ? pos[i] : neg[j];
    while (i >= 0 && pos[i] === v) proSum += 1 / s.regionSizes[s.posPayload[i--]];
    while (j >= 0 && neg[j] === v) {
      j--;
      fp++;
    }
    fpr.push(Math.min(fp / N, 1));
    pro.push(Math.min(proSum / R, 1));
    thr.push(s.keyToValue(v));
    if (fp / N > maxFpr) break;
  }
  return { fpr: Float64Array.from(fpr), pro: Float64Array.from(pro), thresholds: Float64Array.from(thr) };
}

export interface AuproOptions extends PixelOptions {
  /** integrate up to this FPR (default 0.3) */
  fprLimit?: number;
}

/** AUPRO of a class: maps and masks of all its test images at the evaluation resolution. */
export function aupro(maps: MapLike[], masks: MaskLike[], opts: AuproOptions = {}): number {
  return sweepAupro(sortPixels(maps, masks, { ...opts, regions: true, what: opts.what ?? 'aupro' }), opts.fprLimit);
}

/** PRO curve of a class (see sweepProCurve). */
export function proCurve(maps: MapLike[], masks: MaskLike[], opts: AuproOptions & { maxFpr?: number } = {}): ProCurve {
  return sweepProCurve(sortPixels(maps, masks, { ...opts, regions: true, what: opts.what ?? 'proCurve' }), opts.maxFpr);
}
