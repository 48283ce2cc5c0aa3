// The config of one run (YAML + key=value overrides), validated with zod: data → features → model → train → eval.
import { z } from 'zod';
import { TrainConfigSchema } from '@unified-ad/core';
import { DatasetSpecSchema } from '@unified-ad/datasets';

export const ImageScoreSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('max') }).strict(),
  z.object({ kind: z.literal('mean') }).strict(),
  z.object({ kind: z.literal('avgpool-max'), window: z.number().int().positive() }).strict(),
  z.object({ kind: z.literal('topk-mean'), percent: z.number().positive().max(100) }).strict(),
]);

export const EvalConfigSchema = z
  .object({
    /** evaluation resolution (maps upsampled bilinearly with align-corners, masks resized nearest) */
    resolution: z.number().int().positive().default(224),
    /** Gaussian blur σ in pixels at the evaluation resolution; 0 = none (UniAD), 4 (PaDiM, PatchCore) */
    blurSigma: z.number().min(0).default(0),
    /** image score from a map when the method has none of its own; UniAD: max of 16×16 average-pooled map */
    imageScore: ImageScoreSchema.default({ kind: 'avgpool-max', window: 16 }),
    /**
     * which map the image score is taken from when blurSigma > 0: 'blurred' (PaDiM's rule: max of the smoothed map)
     * or 'raw' (the map before the blur, as the method made it: the blur then only smooths the pixel maps).
     * Unset means 'blurred' and is left out of the resolved config, so the fingerprints of earlier runs stay as they were.
     */
    imageScoreMap: z.enum(['blurred', 'raw']).optional(),
    /** metrics computed in the final evaluation */
    metrics: z.array(z.enum(['i_auroc', 'i_ap', 'i_f1max', 'p_auroc', 'p_ap', 'p_f1max', 'aupro', 'mad'])).default(['i_auroc', 'p_auroc', 'i_ap', 'p_ap', 'i_f1max', 'p_f1max']),
    /** metrics computed in the evaluations during training (every train.evalEvery epochs) */
    periodicMetrics: z.array(z.enum(['i_auroc', 'i_ap', 'i_f1max', 'p_auroc', 'p_ap', 'p_f1max', 'aupro', 'mad'])).default(['i_auroc', 'p_auroc']),
    /** report max(AUROC, 1 − AUROC) as the official UniAD code does (off: a worse-than-chance model shows as such) */
    flipAurocBelowHalf: z.boolean().default(false),
    /** how many normal and anomalous samples per class go into the anomaly-map picture (0 = no picture) */
    pictureSamples: z.number().int().min(0).default(3),
    /**
     * keep the anomaly maps of this many anomalous test images per model at every periodic evaluation
     * (train.evalEvery), in <run>/eval-maps/ (kept-maps.ts: one image of each class first, then the next defect
     * type); 0 = none
     */
    keepMaps: z.number({ error: 'expected a whole number of test images (0 = none)' }).int('expected a whole number of test images (0 = none)').min(0, 'expected 0 (none) or more test images').default(0),
    /** side in pixels of the kept maps (and of their images and masks): the eval resolution, or this when smaller */
    keepMapsSize: z.number().int().positive().default(112),
  })
  .strict();

export const RunConfigSchema = z
  .object({
    name: z.string().default('run'),
    seed: z.number().int().default(133),
    /** 'unified': one model for all classes; 'separate': one model per class */
    setting: z.enum(['unified', 'separate']).default('unified'),
    data: DatasetSpecSchema,
    /** restrict to these classes (default: all classes of the dataset) */
    classes: z.array(z.string()).optional(),
    backbone: z
      .object({
        id: z.string().default('mobilenet_v2'),
        path: z.string().optional(),
        inputSize: z.number().int().positive().default(224),
        /** expected sha256 of `path` (default: the known weights' hash when the file name matches); null = no check, for your own weights */
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits').nullable().optional(),
      })
      .strict()
      .default({ id: 'mobilenet_v2', inputSize: 224 }),
    /** override the method's default feature layers / grid size */
    features: z
      .object({ layers: z.array(z.string()).optional(), size: z.number().int().positive().optional(), batchSize: z.number().int().positive().default(8) })
      .strict()
      .default({ batchSize: 8 }),
    model: z.object({ name: z.string(), config: z.record(z.string(), z.unknown()).default({}) }).strict(),
    train: TrainConfigSchema.default(TrainConfigSchema.parse({})),
    eval: EvalConfigSchema.default(EvalConfigSchema.parse({})),
  })
  .strict();

export type RunConfig = z.infer<typeof RunConfigSchema>;
export type EvalConfig = z.infer<typeof EvalConfigSchema>;
