// AUPRO as defined with MVTec AD (Bergmann et al., IJCV 2021, Sec. 4.2; the official evaluation script
// `pro_curve_util.compute_pro` + `generic_util.trapezoid`): ground-truth regions are the 8-connected components
// of every mask; at each distinct threshold t (descending), PRO(t) = (1/R) Σ_r |{p ∈ r : score ≥ t}| / |r| and
// FPR(t) = (#normal pixels with score ≥ t) / (#normal pixels). The curve starts at (0, 0); the area under it is
// integrated with the trapezoid rule up to FPR = limit (0.3), the last segment interpolated linearly at the limit,
// and divided by the limit. Each anomalous pixel adds 1/|its region| to the PRO sum (counts.ts: proInc).
import { UserError } from '@unified-ad/core';
import type { GroupedCounts } from './counts';
import { countPixels, type MapLike, type MaskLike, type PixelOptions } from './pixels';

export const DEFAULT_FPR_LIMIT = 0.3;

/**
 * Visits the PRO curve's corner points in order of descending threshold, starting after (0, 0): for each distinct
 * positive score, the end of the horizontal stretch added by the negatives above it, then the point at it. Points
 * in between are collinear with these (only negatives: PRO constant), so the trapezoid areas are the same as over
 * the full curve of the reference script. `visit` returns true to stop.
 */
function walkPro(g: GroupedCounts, visit: (x: number, y: number) => boolean): void {
  if (!g.proInc) throw new Error('PRO needs counts made with regions');
  const R = g.regionCount;
  const N = g.N;
  const { negAbove, negEqual, proInc } = g;
  let proSum = 0;
  for (let d = g.keys.length - 1; d >= 0; d--) {
    if (visit(Math.min(negAbove[d] / N, 1), Math.min(proSum / R, 1))) return;
    proSum += proInc[d];
    if (visit(Math.min((negAbove[d] + negEqual[d]) / N, 1), Math.min(proSum / R, 1))) return;
  }
  visit(1, Math.min(proSum / R, 1));
}

/** Normalised area under the PRO curve up to `fprLimit`. NaN when there is no region or no normal pixel. */
export function sweepAupro(g: GroupedCounts, fprLimit = DEFAULT_FPR_LIMIT): number {
  if (!(fprLimit > 0 && fprLimit <= 1)) throw new UserError(`aupro: fprLimit ${fprLimit} must be in (0, 1]`);
  if (g.regionCount === 0 || g.N === 0) return NaN;
  let prevX = 0;
  let prevY = 0;
  let area = 0;
  walkPro(g, (x, y) => {
    if (x > fprLimit) {
      const yAt = prevY + ((y - prevY) * (fprLimit - prevX)) / (x - prevX);
      area += 0.5 * (yAt + prevY) * (fprLimit - prevX);
      return true;
    }
    area += 0.5 * (y + prevY) * (x - prevX);
    prevX = x;
    prevY = y;
    return false;
  });
  return area / fprLimit;
}

export interface ProCurve {
  /** FPR of the curve's corner points (descending threshold), starting at 0 */
  fpr: Float64Array;
  /** PRO of the same points, starting at 0 */
  pro: Float64Array;
}

/** The PRO curve's corner points (collinear and repeated points omitted) up to the first point past `maxFpr`. */
export function sweepProCurve(g: GroupedCounts, maxFpr = 1): ProCurve {
  const fpr: number[] = [0];
  const pro: number[] = [0];
  if (g.regionCount > 0 && g.N > 0) {
    walkPro(g, (x, y) => {
      if (x !== fpr[fpr.length - 1] || y !== pro[pro.length - 1]) {
        fpr.push(x);
        pro.push(y);
      }
      return x > maxFpr;
    });
  }
  return { fpr: Float64Array.from(fpr), pro: Float64Array.from(pro) };
}

export interface AuproOptions extends PixelOptions {
  /** integrate up to this FPR (default 0.3) */
  fprLimit?: number;
}

/** AUPRO of a class: maps and masks of all its test images at the evaluation resolution. */
export function aupro(maps: MapLike[], masks: MaskLike[], opts: AuproOptions = {}): number {
  return sweepAupro(countPixels(maps, masks, { ...opts, regions: true, what: opts.what ?? 'aupro' }), opts.fprLimit);
}

/** PRO curve of a class (see sweepProCurve). */
export function proCurve(maps: MapLike[], masks: MaskLike[], opts: AuproOptions & { maxFpr?: number } = {}): ProCurve {
  return sweepProCurve(countPixels(maps, masks, { ...opts, regions: true, what: opts.what ?? 'proCurve' }), opts.maxFpr);
}
