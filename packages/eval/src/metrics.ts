// Exact threshold-free metrics from GroupedCounts (counts.ts), in one sweep over the distinct positive scores in
// descending order (between them only negatives are added, i.e. straight stretches of every curve).
//  - AUROC: trapezoid area under the ROC curve, i.e. Mann–Whitney U with ties counted ½ (= sklearn roc_auc_score).
//    Accumulated as an integer Σ Δfp·(tp_prev + tp_new) = 2·U, exact while 2·P·N < 2^53.
//  - AP: Σ_k (R_k − R_{k−1})·P_k over distinct thresholds (= sklearn average_precision_score, a step sum).
//  - F1-max: max over the precision–recall curve of 2PR/(P+R) = 2·tp/(tp + fp + #pos) (as ADer reports).
// Undefined cases return NaN (documented): AUROC without positives or without negatives; AP and F1-max without
// positives (scikit-learn returns 0 there with a warning; NaN is returned here instead of a made-up number).
import type { GroupedCounts } from './counts';
import { countScores, type Labels, type Scores } from './ranking';

export interface BinaryMetrics {
  auroc: number;
  ap: number;
  f1max: number;
  /** the score threshold (predict anomalous iff score >= threshold) at which F1 is maximal; NaN if undefined */
  f1Threshold: number;
  /** counts of positive and negative samples */
  positives: number;
  negatives: number;
}

export interface AurocOptions {
  /**
   * Report max(AUROC, 1 − AUROC), as the official UniAD evaluation code does silently. Off by default: an AUROC
   * below 0.5 is a real (bad) result, and flipping it hides inverted scores.
   */
  flipBelowHalf?: boolean;
}

/** AUROC, AP and F1-max from grouped counts, in one sweep over the distinct positive scores (descending). */
export function sweepBinary(g: GroupedCounts, opts: AurocOptions = {}): BinaryMetrics {
  const { keys, tp, negAbove, negEqual, P, N } = g;
  let tpc = 0;
  let fp = 0;
  let area2 = 0;
  let apSum = 0;
  let bestF1 = -1;
  let bestKey = 0;
  for (let d = keys.length - 1; d >= 0; d--) {
    const fpAbove = negAbove[d];
    area2 += (fpAbove - fp) * 2 * tpc; // negatives only: a vertical-free stretch of the ROC curve at height tpc
    const tpNew = tpc + tp[d];
    const fpNew = fpAbove + negEqual[d];
    area2 += negEqual[d] * (tpc + tpNew); // ties between positives and negatives: the diagonal trapezoid (½ each)
    apSum += (tp[d] * tpNew) / (tpNew + fpNew);
    const f1 = (2 * tpNew) / (tpNew + fpNew + P);
    if (f1 > bestF1) {
      bestF1 = f1;
      bestKey = keys[d];
    }
    tpc = tpNew;
    fp = fpNew;
  }
  area2 += (N - fp) * 2 * tpc;
  let auroc = P > 0 && N > 0 ? area2 / (2 * P * N) : NaN;
  if (opts.flipBelowHalf && auroc < 0.5) auroc = 1 - auroc;
  return {
    auroc,
    ap: P > 0 ? apSum / P : NaN,
    f1max: P > 0 ? bestF1 : NaN,
    f1Threshold: P > 0 ? g.keyToValue(bestKey) : NaN,
    positives: P,
    negatives: N,
  };
}

/** AUROC, AP and F1-max of scores against 0/1 labels (Float32Array scores are compared as float32). */
export function binaryMetrics(scores: Scores, labels: Labels, opts: AurocOptions = {}): BinaryMetrics {
  return sweepBinary(countScores(scores, labels), opts);
}

/** Area under the ROC curve (= sklearn.metrics.roc_auc_score); NaN when only one class is present. */
export function auroc(scores: Scores, labels: Labels, opts: AurocOptions = {}): number {
  return binaryMetrics(scores, labels, opts).auroc;
}

/** Average precision (= sklearn.metrics.average_precision_score); NaN without positives. */
export function averagePrecision(scores: Scores, labels: Labels): number {
  return binaryMetrics(scores, labels).ap;
}

/** Maximum F1 over the precision–recall curve; NaN without positives. */
export function f1Max(scores: Scores, labels: Labels): number {
  return binaryMetrics(scores, labels).f1max;
}
