// Uninformed Students (Bergmann et al., CVPR 2020): M students regress the teacher's dense descriptors, normalised
// per channel, on anomaly-free images. Anomaly score of a position: the regression error of the students' mean plus
// the ensemble's predictive variance, each standardised with its mean and standard deviation over the training
// images, averaged over the descriptor scales ("patch sizes"). Image score: the map's maximum.
//
// Teacher: the frozen MobileNetV2's cached features used directly as the teacher's descriptors (no distilled
// teacher network; ResNet-18 / ImageNet patches are not available); one scale per feature depth (strides 4, 8, 16
// play the role of p = 17, 33, 65), each predicted from the student stage of the same stride.
import { z } from 'zod';
import type { Scalar, Tensor, Tensor3D, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import {
  tf, nn, registerModel, fitGradient, fitReport, needFeatures, needImages, variablesState, loadVariablesState, UserError,
  type Batch, type FitContext, type FitData, type FitReport, type Method, type MethodPrediction, type MethodState, type ModelContext, type Rng,
} from '@unified-ad/core';
import { StudentCNN, fixedVariable, channelGroups, checkFeatures, checkImages, splitGroups, toUnit } from '../common';

/** MobileNetV2 at strides 4, 8, 16 (24, 32, 96 channels): three descriptor scales. */
export const US_LAYERS = ['expanded_conv_3/add', 'expanded_conv_6/add', 'expanded_conv_13/add'];
export const US_CHANNELS = [24, 32, 96];

export const UsConfigSchema = z
  .object({
    /** image side the students read */
    size: z.number().int().min(16).default(128),
    /** number of students M (paper: 3) */
    students: z.number().int().min(2).default(3),
    /** channels of each descriptor scale in the concatenated features; null = split evenly into `scales` */
    depthChannels: z.array(z.number().int().positive()).min(1).nullable().default(US_CHANNELS),
    scales: z.number().int().min(1).max(8).default(3),
    /** student stage widths (stage s ends at stride 2^(s+1)) */
    widths: z.array(z.number().int().positive()).min(1).default([16, 32, 64, 128]),
    convsPerStage: z.number().int().min(1).max(4).default(2),
    /** training images used for the standardisation of error and variance (all when ≥ N) */
    normImages: z.number().int().positive().default(1000000),
    /**
     * standardisation of error and variance: 'global' = one mean / std per scale over all training positions (the
     * paper); 'position' = per scale and grid cell over the training images, so that cells every normal image
     * regresses badly (the zero-padded border of small student inputs) do not dominate the map
     */
    standardize: z.enum(['global', 'position']).default('global'),
    /**
     * 'position': a cell's standard deviation is at least this fraction of its scale's global one (cells that are
     * constant on every training image, e.g. the black background of a bottle's corners, would otherwise divide by ~0)
     */
    minStdFraction: z.number().min(0).max(1).default(0.1),
  })
  .strict();
export type UsConfig = z.infer<typeof UsConfigSchema>;

class Ensemble extends nn.Module {
  readonly students: StudentCNN[];
  constructor(m: number, make: () => StudentCNN) {
    super();
    this.students = Array.from({ length: m }, (_, i) => this.addChild(`student${i}`, make()));
  }
}

/**
 * Per-scale regression error and predictive variance of an ensemble: preds [M][N,H,W,C] (normalised descriptor
 * space), target [N,H,W,C]. e = ‖mean_m s_m − t‖², v = mean_m ‖s_m‖² − ‖mean_m s_m‖² (both [N,H,W]).
 */
export function errorAndVariance(preds: Tensor4D[], target: Tensor4D): { error: Tensor3D; variance: Tensor3D } {
  return tf.tidy(() => {
    const s = tf.stack(preds); // [M, N, H, W, C]
    const mu = tf.mean(s, 0);
    const error = tf.sum(tf.square(tf.sub(mu, target)), -1) as Tensor3D;
    const variance = tf.sub(tf.mean(tf.sum(tf.square(s), -1), 0), tf.sum(tf.square(mu), -1)) as Tensor3D;
    return { error, variance };
  });
}

/**
 * Means and standard deviations of error and variance from their sums: `sums[(g·P + p)·4 + k]` holds Σe, Σe², Σv,
 * Σv² of scale g, cell p (P = 1: global) over `count` values per cell. Each cell's standard deviation is floored at
 * `minStdFraction` (≤ 1) × the scale's global one (all cells pooled), which cannot bind when P = 1. Returns
 * [me, σe, mv, σv] per (g, p).
 */
export function scoreStatistics(sums: Float64Array, G: number, P: number, count: number, minStdFraction: number): number[] {
  const moments = (s0: number, s1: number, s2: number, s3: number, n: number) => {
    const me = s0 / n, mv = s2 / n;
    return [me, Math.sqrt(Math.max(s1 / n - me * me, 0)), mv, Math.sqrt(Math.max(s3 / n - mv * mv, 0))];
  };
  const stats: number[] = [];
  for (let g = 0; g < G; g++) {
    const tot = [0, 1, 2, 3].map((k) => { let t = 0; for (let p = 0; p < P; p++) t += sums[(g * P + p) * 4 + k]; return t; });
    const [, geStd, , gvStd] = moments(tot[0], tot[1], tot[2], tot[3], count * P);
    const fe = minStdFraction * geStd, fv = minStdFraction * gvStd;
    for (let p = 0; p < P; p++) {
      const j = (g * P + p) * 4;
      const [me, se, mv, sv] = moments(sums[j], sums[j + 1], sums[j + 2], sums[j + 3], count);
      stats.push(me, Math.max(se, fe, 1e-12), mv, Math.max(sv, fv, 1e-12));
    }
  }
  return stats;
}

export class UninformedStudents implements Method {
  readonly ensemble: Ensemble;
  readonly groups: number[];
  /** per-channel teacher mean and standard deviation over the training features */
  readonly teacherMean: Variable;
  readonly teacherStd: Variable;
  /** per scale: [mean e, std e, mean v, std v] over the training images: [G, 4] ('global') or [G, grid, grid, 4] ('position') */
  readonly scoreStats: Variable;

  constructor(readonly config: UsConfig, readonly inChannels: number, readonly grid: number, rng: Rng) {
    this.groups = channelGroups('us', inChannels, config.depthChannels, config.scales);
    if (this.groups.length > config.widths.length) throw new UserError(`us: ${this.groups.length} descriptor scales need as many student stages, model.config.widths has ${config.widths.length}`);
    this.ensemble = new Ensemble(config.students, () => new StudentCNN(config.widths, config.convsPerStage, this.groups, grid, rng));
    this.teacherMean = fixedVariable(tf.zeros([inChannels]));
    this.teacherStd = fixedVariable(tf.ones([inChannels]));
    const cells = config.standardize === 'position' ? grid * grid : 1;
    const init = this.groups.flatMap(() => Array.from({ length: cells }, () => [0, 1, 0, 1]).flat());
    this.scoreStats = fixedVariable(config.standardize === 'position' ? tf.tensor4d(init, [this.groups.length, grid, grid, 4]) : tf.tensor2d(init, [this.groups.length, 4]));
  }

  private buffers(): Map<string, Variable> {
    const m = this.ensemble.namedBuffers();
    m.set('teacher_mean', this.teacherMean);
    m.set('teacher_std', this.teacherStd);
    m.set('score_stats', this.scoreStats);
    return m;
  }

  /** The regression targets: the cached teacher features, normalised per channel, split per scale. */
  teacherTargets(batch: Batch): Tensor4D[] {
    const f = needFeatures(batch, 'us');
    checkFeatures('us', f, this.inChannels, this.grid);
    return tf.tidy(() => splitGroups(tf.div(tf.sub(f, this.teacherMean), this.teacherStd) as Tensor4D, this.groups));
  }

  /** Students' descriptors: [M][scale] of [N, grid, grid, C_scale]. */
  studentOutputs(images: Tensor4D, training: boolean): Tensor4D[][] {
    checkImages('us', images, this.config.size);
    const x = toUnit(images);
    return this.ensemble.students.map((s) => s.forward(x, training));
  }

  /** Σ_students Σ_scales mean squared regression error. */
  loss(batch: Batch, training = true): Scalar {
    return tf.tidy(() => {
      const t = this.teacherTargets(batch);
      const outs = this.studentOutputs(needImages(batch, 'us'), training);
      let total: Tensor = tf.scalar(0);
      for (const o of outs) o.forEach((p, g) => { total = tf.add(total, tf.mean(tf.square(tf.sub(p, t[g])))); });
      return total as Scalar;
    });
  }

  /** Raw per-scale [error, variance] maps of a batch (eval mode). */
  rawScores(batch: Batch): { error: Tensor3D; variance: Tensor3D }[] {
    const t = this.teacherTargets(batch);
    const outs = this.studentOutputs(needImages(batch, 'us'), false);
    return this.groups.map((_, g) => errorAndVariance(outs.map((o) => o[g]), t[g]));
  }

  /** batch of the score statistics' pass (fit's training batch) */
  private statsBatch = 8;

  async fit(data: FitData, ctx: FitContext): Promise<FitReport> {
    // teacher statistics from the cached features (computed once, not per epoch)
    const allBatch = data.all();
    allBatch.images?.dispose(); // all() makes a new tensor of every image; only the (caller-owned) features are read
    const all = needFeatures(allBatch, 'us');
    checkFeatures('us', all, this.inChannels, this.grid);
    tf.tidy(() => {
      const { mean, variance } = tf.moments(all, [0, 1, 2]);
      this.teacherMean.assign(mean);
      this.teacherStd.assign(tf.maximum(tf.sqrt(variance), 1e-6));
    });
    const report = fitReport(await fitGradient({ net: this.ensemble, loss: (b) => this.loss(b), data, ctx }));
    this.statsBatch = ctx.train.batchSize;
    this.fitScoreStats(data, this.statsBatch);
    return report;
  }

  /** A training checkpoint's students (the teacher statistics are those fit computed), then the score statistics under them. */
  async loadTrainingCheckpoint(checkpoint: MethodState, source: string, data: FitData): Promise<void> {
    loadVariablesState(checkpoint, source, this.ensemble.namedVariables(), this.ensemble.namedBuffers?.());
    this.fitScoreStats(data, this.statsBatch);
  }

  /** Standardisation of the regression error and the ensemble variance over the training images (after training). */
  private fitScoreStats(data: FitData, batchSize: number): void {
    const n = Math.min(this.config.normImages, data.samples.length);
    const G = this.groups.length;
    const perCell = this.config.standardize === 'position';
    const P = perCell ? this.grid * this.grid : 1;
    // sums[(g·P + p)·4 + k], k: Σe, Σe², Σv, Σv² (float64 on the host)
    const sums = new Float64Array(G * P * 4);
    let count = 0;
    const bs = Math.max(1, batchSize);
    for (let i0 = 0; i0 < n; i0 += bs) {
      const idx = Array.from({ length: Math.min(bs, n - i0) }, (_, k) => i0 + k);
      const vals = tf.tidy(() => {
        const r = this.rawScores(data.batch(idx));
        // per cell: sums over the batch, [P, 4] per scale; global: over batch and cells, [1, 4]
        const axes = perCell ? [0] : [0, 1, 2];
        return tf.stack(r.map(({ error, variance }) =>
          tf.stack([error, tf.square(error), variance, tf.square(variance)].map((t) => tf.reshape(tf.sum(t, axes), [P])), 1)));
      });
      const v = vals.dataSync();
      vals.dispose();
      for (let j = 0; j < G * P * 4; j++) sums[j] += v[j];
      count += idx.length * (perCell ? 1 : this.grid * this.grid);
    }
    const stats = scoreStatistics(sums, G, P, count, this.config.minStdFraction);
    tf.tidy(() => this.scoreStats.assign(perCell ? tf.tensor4d(stats, [G, this.grid, this.grid, 4]) : tf.tensor2d(stats, [G, 4])));
  }

  /** Map: mean over scales of (e − ē)/σ_e + (v − v̄)/σ_v at the teacher grid (ē, σ per scale, or per scale and cell). */
  predict(batch: Batch): MethodPrediction {
    return {
      maps: tf.tidy(() => {
        const parts = this.rawScores(batch).map(({ error, variance }, g) => {
          // [4] or [grid, grid, 4] → four terms that broadcast over [N, grid, grid]
          const st = tf.unstack(this.scoreStats.gather([g]).squeeze([0]), -1);
          return tf.add(tf.div(tf.sub(error, st[0]), st[1]), tf.div(tf.sub(variance, st[2]), st[3]));
        });
        return tf.div(tf.addN(parts), parts.length) as Tensor3D;
      }),
    };
  }

  state(): MethodState {
    return variablesState(this.ensemble.namedVariables(), this.buffers(), { method: 'us', groups: this.groups });
  }

  loadState(state: MethodState, source: string): void {
    loadVariablesState(state, source, this.ensemble.namedVariables(), this.buffers());
  }

  parameterCount(): number {
    return this.ensemble.parameterCount();
  }

  dispose(): void {
    this.ensemble.dispose();
    tf.dispose([this.teacherMean, this.teacherStd, this.scoreStats]);
  }
}

registerModel<UsConfig>({
  name: 'us',
  description: 'Uninformed Students: 3 students regress the frozen backbone\'s normalised descriptors; error + ensemble variance map',
  family: 'distillation',
  paperName: 'US',
  configSchema: UsConfigSchema as never,
  inputs: (cfg) => ({ features: { backbone: 'mobilenet_v2', layers: US_LAYERS, size: 28 }, images: { size: cfg.size } }),
  defaults: { train: { lr: 1e-4, clipNorm: null, optimizer: { name: 'adam', weightDecay: 1e-5 }, schedule: { kind: 'constant' } }, eval: { imageScore: { kind: 'max' }, blurSigma: 4 } },
  smoke: { model: { size: 32, students: 3, depthChannels: null, scales: 3, widths: [4, 4, 8], convsPerStage: 1 } },
  create: (cfg: UsConfig, ctx: ModelContext) => new UninformedStudents(cfg, ctx.inChannels, ctx.gridSize, ctx.rng),
});
