// The test side of a run: labels and ground-truth masks at the evaluation resolution, loaded once.
import type { Dataset, Sample } from '@unified-ad/core';
import { evaluate, shortcutRatio, type EvaluationResult, type ClassInput, type MetricName } from '@unified-ad/eval';

/** Metrics of a test set, plus the shortcut ratio (Fig. 3) of methods with maps on data with masks. */
export type EvalResult = EvaluationResult & { shortcut?: { ratio: number; per_class: Record<string, number> } };
import type { EvalConfig } from './run-config';
import type { Predictions } from './predict';

export class TestSet {
  private constructor(
    readonly samples: Sample[],
    readonly classes: string[],
    readonly masks: (Float32Array | null)[],
    readonly hasPixelLabels: boolean,
  ) {}

  static async load(dataset: Dataset, samples: Sample[], resolution: number): Promise<TestSet> {
    const classes = [...new Set(samples.map((s) => s.className))];
    const hasPixelLabels = samples.some((s) => s.maskPath);
    const masks: (Float32Array | null)[] = [];
    for (const s of samples) masks.push(hasPixelLabels && s.label === 1 ? await dataset.loadMask(s, resolution) : null);
    return new TestSet(samples, classes, masks, hasPixelLabels);
  }

  /** Evaluates predictions (aligned with `samples`) per class. */
  evaluate(pred: Predictions, cfg: EvalConfig, metrics: MetricName[]): EvalResult {
    const input = new Map<string, ClassInput>();
    for (const c of this.classes) input.set(c, { maps: [], labels: [], masks: this.hasPixelLabels ? [] : undefined, scores: pred.scores ? [] : undefined });
    this.samples.forEach((s, i) => {
      const ci = input.get(s.className)!;
      if (pred.maps) ci.maps.push(pred.maps[i]);
      (ci.labels as number[]).push(s.label);
      if (ci.masks) ci.masks.push(this.masks[i]);
      if (ci.scores) (ci.scores as number[]).push(pred.scores![i]);
    });
    // image-level-only methods (no maps) and datasets without masks get image metrics only (tables show "–")
    const wanted = this.hasPixelLabels && pred.maps ? metrics : metrics.filter((m) => m.startsWith('i_'));
    const result: EvalResult = evaluate(input, {
      metrics: wanted,
      imageScore: cfg.imageScore,
      flipAurocBelowHalf: cfg.flipAurocBelowHalf,
      height: cfg.resolution,
      width: cfg.resolution,
    });
    if (this.hasPixelLabels && pred.maps) {
      const per_class: Record<string, number> = {};
      for (const c of this.classes) {
        const ci = input.get(c)!;
        per_class[c] = shortcutRatio(ci.maps, ci.masks!).ratio;
      }
      const v = Object.values(per_class).filter(Number.isFinite);
      result.shortcut = { ratio: v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN, per_class };
    }
    return result;
  }
}
