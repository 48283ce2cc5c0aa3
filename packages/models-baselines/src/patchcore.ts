// PatchCore — "Towards Total Recall in Industrial Anomaly Detection" (Roth et al., CVPR 2022).
// Locally aware patch features (Sec. 3.1: 3×3 neighbourhood average of mid-level maps, here MobileNetV2
// strides 8 + 16 at 28×28), a memory bank of all normal patches reduced by greedy coreset subsampling
// (Sec. 3.2, Alg. 1), the anomaly map = distance of each test patch to its nearest memory patch, and the
// image score of eq. 7: s = (1 − exp‖m_test* − m*‖ / Σ_{m ∈ N_b(m*)} exp‖m_test* − m‖) · s*.
import { z } from 'zod';
import type { Tensor1D, Tensor2D, Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, registerModel, UserError, StatisticalMethod } from '@unified-ad/core';
import type { FeatureSet, ModelContext, Prediction, Rng, StatisticalModel } from '@unified-ad/core';
import { greedyCoreset, nearestNeighbors, rowNormsSquared } from '@unified-ad/components';

export const PatchCoreConfigSchema = z
  .object({
    /** fraction of the memory bank kept by the greedy coreset (reference: 0.01); 1 = keep all */
    coresetRatio: z.number().positive().max(1).default(0.01),
    /** random-projection dimension used for the coreset distances (paper: 128) */
    projectionDim: z.number().int().positive().default(128),
    /** local neighbourhood of the patch features (paper: p = 3); 1 = no pooling */
    poolSize: z.number().int().positive().default(3),
    /** b of eq. 7: nearest memory neighbours of m* used for the re-weighting (paper: 9) */
    numNeighbors: z.number().int().positive().default(9),
    /** image score = eq. 7 re-weighting (true) or none, leaving the map maximum to the evaluation (false) */
    reweight: z.boolean().default(true),
  })
  .strict();
export type PatchCoreConfig = z.infer<typeof PatchCoreConfigSchema>;

export class PatchCore implements StatisticalModel {
  readonly kind = 'statistical' as const;
  private bank: Tensor2D | null = null;
  private bankNorms: Tensor2D | null = null;
  private grid: [number, number] = [0, 0];
  /** covering radius of the coreset in the projected space, after each pick (from the last fit) */
  coverRadii: Float64Array = new Float64Array(0);

  constructor(
    readonly config: PatchCoreConfig,
    readonly inChannels: number,
  ) {
    if (config.poolSize % 2 !== 1) throw new UserError(`patchcore.poolSize must be odd, got ${config.poolSize}`);
  }

  /** memory bank size (patches) after fit */
  get memorySize(): number {
    return this.bank?.shape[0] ?? 0;
  }

  /**
   * Locally aware patch features: p×p average over the neighbourhood, stride 1, zero padding counted in the
   * average at the borders (PyTorch AvgPool2d(p, 1, p // 2) as in the PatchCore implementations). On Magnetic
   * Tile this matters: averaging only the valid cells instead loses 3 points of image and pixel AUROC.
   */
  patchFeatures(x: Tensor4D): Tensor4D {
    const p = this.config.poolSize;
    if (p === 1) return tf.clone(x);
    const r = (p - 1) / 2;
    return tf.tidy(() => tf.avgPool(tf.pad(x, [[0, 0], [r, r], [r, r], [0, 0]]), [p, p], 1, 'valid'));
  }

  private check(x: Tensor4D, what: string): void {
    if (x.rank !== 4) throw new UserError(`patchcore: ${what} must be [N, H, W, C], got [${x.shape}]`);
    if (x.shape[3] !== this.inChannels) throw new UserError(`patchcore: ${what} have ${x.shape[3]} channels, the model was created for ${this.inChannels}`);
  }

  fit(train: FeatureSet, rng: Rng): void {
    const x = train.features;
    this.check(x, 'features');
    const [n, h, w, c] = x.shape;
    const all = tf.tidy(() => tf.reshape(this.patchFeatures(x), [n * h * w, c]) as Tensor2D);
    let bank: Tensor2D;
    try {
      const m = n * h * w;
      const size = Math.max(1, Math.round(this.config.coresetRatio * m));
      if (size >= m) {
        bank = tf.clone(all);
        this.coverRadii = new Float64Array(0);
      } else {
        const r = greedyCoreset(all, { size, projectionDim: this.config.projectionDim, rng });
        bank = tf.tidy(() => tf.gather(all, r.indices) as Tensor2D);
        this.coverRadii = r.radii;
      }
    } finally {
      all.dispose();
    }
    this.dispose();
    this.bank = bank;
    this.bankNorms = rowNormsSquared(bank);
    this.grid = [h, w];
  }

  predict(batch: Tensor4D): Prediction {
    const bank = this.bank;
    if (!bank || !this.bankNorms) throw new UserError('patchcore: predict() called before fit()');
    this.check(batch, 'features');
    const [n, h, w, c] = batch.shape;
    if (h !== this.grid[0] || w !== this.grid[1]) throw new UserError(`patchcore: expects a ${this.grid[0]}×${this.grid[1]} grid but got [${batch.shape}]`);
    const patches = tf.tidy(() => tf.reshape(this.patchFeatures(batch), [n * h * w, c]) as Tensor2D);
    const nn = nearestNeighbors(patches, bank, 1, this.bankNorms);
    try {
      const maps = tf.tidy(() => tf.reshape(nn.distances, [n, h, w]) as Tensor3D);
      if (!this.config.reweight) return { maps };
      const scores = tf.tidy(() => this.reweightedScores(patches, nn.distances, nn.indices, n, h * w));
      return { maps, scores };
    } finally {
      tf.dispose([patches, nn.distances, nn.indices]);
    }
  }

  /** PatchCore eq. 7 for each image (call inside tidy). */
  private reweightedScores(patches: Tensor2D, dist: Tensor2D, idx: Tensor2D, n: number, p: number): Tensor1D {
    const bank = this.bank!;
    const d = tf.reshape(dist, [n, p]);
    const worst = tf.argMax(d, 1); // [n]: the most anomalous patch m_test* of each image
    const rows = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(p, 'int32')), tf.cast(worst, 'int32')); // flat patch index
    const sStar = tf.reshape(tf.gather(tf.reshape(dist, [-1]), rows), [n]); // s* = ‖m_test* − m*‖
    const mTest = tf.gather(patches, rows) as Tensor2D; // [n, C]
    const mStar = tf.gather(bank, tf.reshape(tf.gather(tf.reshape(idx, [-1]), rows), [n])) as Tensor2D; // m*
    const b = Math.min(this.config.numNeighbors, bank.shape[0]);
    const support = nearestNeighbors(mStar, bank, b, this.bankNorms!); // N_b(m*), m* itself included
    const supp = tf.gather(bank, tf.reshape(support.indices, [-1])).reshape([n, b, -1]); // [n, b, C]
    const dTest = tf.sqrt(tf.sum(tf.square(tf.sub(supp, tf.expandDims(mTest, 1))), -1)); // ‖m_test* − m‖ [n, b]
    // 1 − exp(s*) / Σ exp(d_j) = 1 − 1 / Σ exp(d_j − s*), stable for large distances
    const ratio = tf.div(1, tf.sum(tf.exp(tf.sub(dTest, tf.expandDims(sStar, 1))), 1));
    const weight = tf.sub(1, ratio);
    return tf.mul(weight, sStar) as Tensor1D;
  }

  state(): Record<string, Float32Array | number[] | number | string> {
    if (!this.bank) throw new UserError('patchcore: state() called before fit()');
    return { method: 'patchcore', height: this.grid[0], width: this.grid[1], channels: this.inChannels, memorySize: this.memorySize, bank: this.bank.dataSync() as Float32Array };
  }

  /** Restores a state() written by a fitted model with the same input channels. */
  loadState(s: Record<string, Float32Array | number[] | number | string>): void {
    if (s.method !== 'patchcore') throw new UserError(`patchcore: state is for method '${String(s.method)}'`);
    if (s.channels !== this.inChannels) throw new UserError(`patchcore: state has ${String(s.channels)} channels, the model ${this.inChannels}`);
    const bank = tf.tensor2d(s.bank as Float32Array, [s.memorySize as number, this.inChannels]);
    this.dispose();
    this.bank = bank;
    this.bankNorms = rowNormsSquared(bank);
    this.grid = [s.height as number, s.width as number];
  }

  /** stored memory-bank values (patches × channels); 0 before fit */
  parameterCount(): number {
    return this.bank ? this.bank.size : 0;
  }

  dispose(): void {
    this.bank?.dispose();
    this.bankNorms?.dispose();
    this.bank = null;
    this.bankNorms = null;
  }
}

export const PATCHCORE_DEFAULT_LAYERS = ['expanded_conv_6/add', 'expanded_conv_13/add'];

registerModel<PatchCoreConfig>({
  name: 'patchcore',
  description: 'PatchCore: locally aware patch features, greedy-coreset memory bank, nearest-neighbour map, eq. 7 image score',
  family: 'statistical',
  configSchema: PatchCoreConfigSchema as never,
  inputs: { features: { backbone: 'mobilenet_v2', layers: PATCHCORE_DEFAULT_LAYERS, size: 28 } },
  defaults: { eval: { imageScore: { kind: 'max' }, blurSigma: 4 } },
  smoke: { model: { coresetRatio: 0.1, projectionDim: 16, numNeighbors: 3 } },
  create: (cfg: PatchCoreConfig, ctx: ModelContext) => new StatisticalMethod('patchcore', new PatchCore(cfg, ctx.inChannels), ctx.rng),
});
