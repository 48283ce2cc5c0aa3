// Exact threshold-free metrics from sorted keys, in one sweep over the distinct thresholds in descending order.
//  - AUROC: trapezoid area under the ROC curve, i.e. Mann–Whitney U with ties counted ½ (= sklearn roc_auc_score).
//    Accumulated as an integer Σ Δfp·(tp_prev + tp_new) = 2·U, exact while 2·P·N < 2^53.
//  - AP: Σ_k (R_k − R_{k−1})·P_k over distinct thresholds (= sklearn average_precision_score, a step sum).
//  - F1-max: max over the precision–recall curve of 2PR/(P+R) = 2·tp/(tp + fp + #pos) (as ADer reports).
// Undefined cases return NaN (documented): AUROC without positives or without negatives; AP and F1-max without
// positives (scikit-learn returns 0 there with a warning; NaN is returned here instead of a made-up number).
import { sortScores, type Labels, type Scores, type SortedScores } from './ranking';

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

/** AUROC, AP and F1-max of already-sorted scores in one sweep. */
export function sweepBinary(s: SortedScores, opts: AurocOptions = {}): BinaryMetrics {
  const pos = s.pos;
  const neg = s.neg;
  const P = pos.length;
  const N = neg.length;
  let i = P - 1;
  let j = N - 1;
  let tp = 0;
  let fp = 0;
  let area2 = 0;
  let apSum = 0;
  let bestF1 = -1;
  let bestKey = 0;
  while (i >= 0 || j >= 0) {
    let v: number;
    if (i < 0) v = neg[j];
    else if (j < 0) v = pos[i];
    else v = pos[i] > neg[j] ? pos[i] : neg[j];
    let tpNew = tp;
    while (i >= 0 && pos[i] === v) {
      i--;
      tpNew++;
    }
    let fpNew = fp;
    while (j >= 0 && neg[j] === v) {
      j--;
      fpNew++;
    }
    area2 += (fpNew - fp) * (tp + tpNew);
    if (tpNew !== tp) {
      apSum += ((tpNew - tp) * tpNew) / (tpNew + fpNew);
      const f1 = (2 * tpNew) / (tpNew + fpNew + P);
      if (f1 > bestF1) {
        bestF1 = f1;
        bestKey = v;
      }
    }
    tp = tpNew;
    fp = fpNew;
  }
  let auroc = P > 0 && N > 0 ? area2 / (2 * P * N) : NaN;
  if (opts.flipBelowHalf && auroc < 0.5) auroc = 1 - auroc;
  return {
    auroc,
    ap: P > 0 ? apSum / P : NaN,
    f1max: P > 0 ? bestF1 : NaN,
    f1Threshold: P > 0 ? s.keyToValue(bestKey) : NaN,
    positives: P,
    negatives: N,
  };
}

/** AUROC, AP and F1-max of scores against 0/1 labels (Float32Array scores are compared as float32). */
export function binaryMetrics(scores: Scores, labels: Labels, opts: AurocOptions = {}): BinaryMetrics {
  return sweepBinary(sortScores(scores, labels), opts);
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
