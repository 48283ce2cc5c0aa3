// All metrics of a test set, per class and as the mean over classes (the tables' "mean" is a mean of class values).
import { UserError } from '@unified-ad/core';
import { sweepAupro, DEFAULT_FPR_LIMIT } from './aupro';
import { binaryMetrics, sweepBinary, type BinaryMetrics } from './metrics';
import { countPixels, mapData, type MapLike, type MaskLike } from './pixels';
import { imageScoreFromMap, type ImageScoreMethod } from './postprocess';

/** Metric keys, as written into logs and tables (fractions in [0, 1]). */
export const METRIC_NAMES = ['i_auroc', 'i_ap', 'i_f1max', 'p_auroc', 'p_ap', 'p_f1max', 'aupro', 'mad'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type MetricValues = Partial<Record<MetricName, number>>;

/** What evaluate() computes when `metrics` is not given (AUPRO and mAD are opt-in: AUPRO is the slow one). */
export const DEFAULT_METRICS: MetricName[] = ['i_auroc', 'i_ap', 'i_f1max', 'p_auroc', 'p_ap', 'p_f1max'];
/** The seven metrics whose mean is mAD (ADer). */
export const MAD_PARTS: MetricName[] = ['i_auroc', 'i_ap', 'i_f1max', 'p_auroc', 'p_ap', 'p_f1max', 'aupro'];

/** Test data of one class. */
export interface ClassInput {
  /** anomaly maps at the evaluation resolution, one per test image (higher = more anomalous) */
  maps: MapLike[];
  /** image labels: 0 normal, 1 anomalous */
  labels: ArrayLike<number>;
  /** ground-truth masks at the evaluation resolution (values >= 0.5 anomalous); null entries = all normal;
   *  omit for a dataset without pixel labels (pixel metrics are then skipped for the class) */
  masks?: MaskLike[];
  /** image scores when the method defines its own; otherwise derived from the maps with options.imageScore */
  scores?: ArrayLike<number>;
}

export interface EvaluateOptions {
  /** which metrics (default DEFAULT_METRICS); 'mad' implies all seven of MAD_PARTS */
  metrics?: MetricName[];
  /** image score from a map when a class has no `scores` (default max) */
  imageScore?: ImageScoreMethod;
  /** AUPRO integration limit (default 0.3) */
  fprLimit?: number;
  /** report max(AUROC, 1 − AUROC) like the official UniAD code (default false; see metrics.ts) */
  flipAurocBelowHalf?: boolean;
  /** map height/width when maps/masks are plain arrays (AUPRO needs the shape for connected components) */
  height?: number;
  width?: number;
}

/** What evaluate() returns (a type alias, so it is assignable to the core trainer's EvalResult record). */
export type EvaluationResult = {
  /** metric values per class (NaN where undefined for that class, e.g. no anomalous image) */
  per_class: Record<string, MetricValues>;
  /** mean over the classes where the metric is defined (not NaN) */
  mean: MetricValues;
  /** class names in input order */
  classes: string[];
};

/** Image scores of one class: given, or derived from its maps. */
export function imageScores(input: ClassInput, method: ImageScoreMethod = { kind: 'max' }, shape?: [number, number]): Float64Array {
  if (input.scores) return Float64Array.from(input.scores);
  return Float64Array.from(
    input.maps.map((m, k) => {
      if ('data' in (m as object) && 'height' in (m as object)) return imageScoreFromMap(m as never, method);
      const data = mapData(m);
      if (!shape) {
        if (method.kind === 'max' || method.kind === 'mean' || method.kind === 'topk-mean') {
          return imageScoreFromMap({ data, height: 1, width: data.length }, method);
        }
        throw new UserError(`imageScores: map ${k} is a plain array; pass height/width for ${method.kind}`);
      }
      return imageScoreFromMap({ data, height: shape[0], width: shape[1] }, method);
    }),
  );
}

export interface PixelMetrics extends BinaryMetrics {
  /** NaN when not computed or undefined */
  aupro: number;
}

/** Pixel-level AUROC / AP / F1-max (and AUPRO when asked) of one class from one shared sort. */
export function pixelMetrics(
  maps: MapLike[],
  masks: MaskLike[],
  opts: { aupro?: boolean; fprLimit?: number; flipAurocBelowHalf?: boolean; height?: number; width?: number; what?: string } = {},
): PixelMetrics {
  const counts = countPixels(maps, masks, { regions: !!opts.aupro, height: opts.height, width: opts.width, what: opts.what });
  const b = sweepBinary(counts, { flipBelowHalf: opts.flipAurocBelowHalf });
  const a = opts.aupro ? sweepAupro(counts, opts.fprLimit ?? DEFAULT_FPR_LIMIT) : NaN;
  return { ...b, aupro: a };
}

/** Evaluates every class; classes are processed one at a time so memory is bounded by the largest class. */
export function evaluate(input: Record<string, ClassInput> | Map<string, ClassInput>, opts: EvaluateOptions = {}): EvaluationResult {
  const entries = input instanceof Map ? [...input.entries()] : Object.entries(input);
  if (entries.length === 0) throw new UserError('evaluate: no classes given');
  const wanted = new Set<MetricName>(opts.metrics ?? DEFAULT_METRICS);
  for (const m of wanted) if (!METRIC_NAMES.includes(m)) throw new UserError(`evaluate: unknown metric '${m}' (known: ${METRIC_NAMES.join(', ')})`);
  if (wanted.has('mad')) for (const m of MAD_PARTS) wanted.add(m);
  const shape: [number, number] | undefined = opts.height && opts.width ? [opts.height, opts.width] : undefined;
  const per_class: Record<string, MetricValues> = {};
  for (const [cls, c] of entries) {
    const what = `class '${cls}'`;
    // an image-level-only method gives scores and no maps (then only image metrics can be asked for)
    const imageOnly = c.maps.length === 0 && !!c.scores;
    if (!imageOnly && c.maps.length !== c.labels.length) throw new UserError(`${what}: ${c.maps.length} maps but ${c.labels.length} labels`);
    if (c.scores && c.scores.length !== c.labels.length) throw new UserError(`${what}: ${c.scores.length} scores but ${c.labels.length} labels`);
    if (!imageOnly && c.masks && c.masks.length !== c.maps.length) throw new UserError(`${what}: ${c.maps.length} maps but ${c.masks.length} masks`);
    const out: MetricValues = {};
    if (wanted.has('i_auroc') || wanted.has('i_ap') || wanted.has('i_f1max')) {
      const s = imageScores(c, opts.imageScore, shape);
      const b = binaryMetrics(s, c.labels, { flipBelowHalf: opts.flipAurocBelowHalf });
      if (wanted.has('i_auroc')) out.i_auroc = b.auroc;
      if (wanted.has('i_ap')) out.i_ap = b.ap;
      if (wanted.has('i_f1max')) out.i_f1max = b.f1max;
    }
    const wantPixel = wanted.has('p_auroc') || wanted.has('p_ap') || wanted.has('p_f1max') || wanted.has('aupro');
    if (wantPixel) {
      let p: PixelMetrics;
      if (c.masks) {
        p = pixelMetrics(c.maps, c.masks, {
          aupro: wanted.has('aupro'),
          fprLimit: opts.fprLimit,
          flipAurocBelowHalf: opts.flipAurocBelowHalf,
          height: opts.height,
          width: opts.width,
          what,
        });
      } else {
        p = { auroc: NaN, ap: NaN, f1max: NaN, aupro: NaN, f1Threshold: NaN, positives: 0, negatives: 0 };
      }
      if (wanted.has('p_auroc')) out.p_auroc = p.auroc;
      if (wanted.has('p_ap')) out.p_ap = p.ap;
      if (wanted.has('p_f1max')) out.p_f1max = p.f1max;
      if (wanted.has('aupro')) out.aupro = p.aupro;
    }
    if (wanted.has('mad')) out.mad = MAD_PARTS.reduce((s, k) => s + (out[k] as number), 0) / MAD_PARTS.length;
    per_class[cls] = out;
  }
  const classes = entries.map(([c]) => c);
  const mean: MetricValues = {};
  for (const m of METRIC_NAMES) {
    if (!wanted.has(m)) continue;
    let s = 0;
    let n = 0;
    for (const c of classes) {
      const v = per_class[c][m];
      if (v !== undefined && !Number.isNaN(v)) {
        s += v;
        n++;
      }
    }
    mean[m] = n > 0 ? s / n : NaN;
  }
  return { per_class, mean, classes };
}
