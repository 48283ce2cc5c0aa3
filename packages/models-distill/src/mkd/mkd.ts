// MKD: Multiresolution Knowledge Distillation for anomaly detection (Salehi et al., CVPR 2021). A frozen teacher
// (here the cached MobileNetV2 features at four depths) and a smaller VGG-like cloner with BatchNorm trained on the
// images to match the teacher at all four depths with Σ_d (1 − cos_d) + λ·Σ_d MSE_d; image score = the same loss on
// the last three depths; map = |∂loss/∂input| summed over RGB (grayscale), per-image percentile normalisation as the
// official convert_to_grayscale, Gaussian σ = 4 (applied by the evaluation, eval.blurSigma).
import { z } from 'zod';
import type { Scalar, Tensor, Tensor1D, Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import {
  tf, registerModel, NetworkMethod, fitGradient, fitReport, needFeatures, needImages, UserError,
  type Batch, type FitContext, type FitData, type FitReport, type MethodPrediction, type ModelContext, type Rng,
} from '@unified-ad/core';
import { StudentCNN, channelGroups, checkFeatures, checkImages, splitGroups, toUnit } from '../common';

/** MobileNetV2 at strides 2, 4, 8, 16 (channels 16, 24, 32, 96): the VGG16 teacher's four depths substituted. */
export const MKD_LAYERS = ['expanded_conv_1/project', 'expanded_conv_3/add', 'expanded_conv_6/add', 'expanded_conv_13/add'];
export const MKD_CHANNELS = [16, 24, 32, 96];

export const MkdConfigSchema = z
  .object({
    /** image side the cloner reads (MKD: 128) */
    size: z.number().int().min(16).default(128),
    /** channels of each teacher depth in the concatenated features; null = split the channels evenly into `depths` */
    depthChannels: z.array(z.number().int().positive()).min(1).nullable().default(MKD_CHANNELS),
    /** teacher depths when depthChannels is null */
    depths: z.number().int().min(2).max(8).default(4),
    /** cloner stage widths (stage s ends at stride 2^(s+1)); one stage per depth */
    widths: z.array(z.number().int().positive()).min(2).default([16, 32, 64, 128]),
    convsPerStage: z.number().int().min(1).max(4).default(2),
    /** λ of the MSE term (MKD on MVTec AD: 0.5) */
    lambda: z.number().min(0).default(0.5),
    /** map normalisation per image: 'percentile' = official convert_to_grayscale (clip to [min, 99th pct] → [0, 1]); 'none' = raw Σ|grad| */
    gradNormalize: z.enum(['percentile', 'none']).default('percentile'),
  })
  .strict();
export type MkdConfig = z.infer<typeof MkdConfigSchema>;

/** Per-image MKD loss over the given depths: Σ_d (1 − cos(flatten(p_d), flatten(t_d))) + λ·Σ_d mean((p_d − t_d)²). [N] */
export function mkdLossPerImage(pred: Tensor4D[], target: Tensor4D[], lambda: number): Tensor1D {
  return tf.tidy(() => {
    let total: Tensor = tf.zeros([pred[0].shape[0]]);
    pred.forEach((p, d) => {
      const n = p.shape[0];
      const a = tf.reshape(p, [n, -1]), b = tf.reshape(target[d], [n, -1]);
      // torch.nn.CosineSimilarity(eps=1e-8): a·b / max(‖a‖‖b‖, eps)
      const cos = tf.div(tf.sum(tf.mul(a, b), 1), tf.maximum(tf.mul(tf.norm(a, 2, 1), tf.norm(b, 2, 1)), 1e-8));
      const mse = tf.mean(tf.square(tf.sub(a, b)), 1);
      total = tf.add(total, tf.add(tf.sub(1, cos), tf.mul(mse, lambda)));
    });
    return total as Tensor1D;
  });
}

/** Official convert_to_grayscale: Σ_c |g|, then (v − min) / (99th percentile − min) clipped to [0, 1], per image. */
export function gradToGray(grad: Tensor4D, normalize: 'percentile' | 'none'): Tensor3D {
  return tf.tidy(() => {
    const g = tf.sum(tf.abs(grad), 3) as Tensor3D;
    if (normalize === 'none') return g;
    const [n, h, w] = g.shape;
    const flat = tf.reshape(g, [n, h * w]);
    // numpy percentile (linear): value at rank 0.99·(M−1) of the sorted values
    const m = h * w, r = 0.99 * (m - 1), lo = Math.floor(r), frac = r - lo;
    const sorted = tf.neg(tf.topk(tf.neg(flat), m, true).values); // ascending
    const vlo = tf.slice(sorted, [0, lo], [n, 1]), vhi = tf.slice(sorted, [0, Math.min(lo + 1, m - 1)], [n, 1]);
    const p99 = tf.add(vlo, tf.mul(tf.sub(vhi, vlo), frac));
    const mn = tf.slice(sorted, [0, 0], [n, 1]);
    const out = tf.clipByValue(tf.div(tf.sub(flat, mn), tf.maximum(tf.sub(p99, mn), 1e-12)), 0, 1);
    return tf.reshape(out, [n, h, w]) as Tensor3D;
  });
}

export class Mkd extends NetworkMethod<StudentCNN> {
  readonly net: StudentCNN;
  readonly groups: number[];

  constructor(readonly config: MkdConfig, readonly inChannels: number, readonly grid: number, rng: Rng) {
    super();
    this.groups = channelGroups('mkd', inChannels, config.depthChannels, config.depths);
    if (this.groups.length > config.widths.length) throw new UserError(`mkd: ${this.groups.length} teacher depths need as many cloner stages, model.config.widths has ${config.widths.length}`);
    this.net = new StudentCNN(config.widths, config.convsPerStage, this.groups, grid, rng);
  }

  /** The teacher's targets of a batch: its cached backbone features split per depth (nothing recomputed). */
  teacherTargets(batch: Batch): Tensor4D[] {
    const f = needFeatures(batch, 'mkd');
    checkFeatures('mkd', f, this.inChannels, this.grid);
    return splitGroups(f, this.groups);
  }

  /** The cloner's outputs for images 0..255. */
  clone(images: Tensor4D, training: boolean): Tensor4D[] {
    checkImages('mkd', images, this.config.size);
    return this.net.forward(toUnit(images), training);
  }

  /** Training loss: mean over the batch of the loss on all depths. */
  loss(batch: Batch, training = true): Scalar {
    return tf.tidy(() => tf.mean(mkdLossPerImage(this.clone(needImages(batch, 'mkd'), training), this.teacherTargets(batch), this.config.lambda)) as Scalar);
  }

  /** Image score: the loss on the last three depths (all depths when there are fewer than four). */
  scoreLoss(images: Tensor4D, targets: Tensor4D[]): Tensor1D {
    const pred = this.clone(images, false);
    const k = Math.min(3, pred.length);
    return mkdLossPerImage(pred.slice(-k), targets.slice(-k), this.config.lambda);
  }

  /**
   * ∂L_i/∂x_i of each image's score loss w.r.t. its pixels (0..255 units), the teacher's targets held fixed (the
   * teacher is the cached features: the gradient flows through the cloner only). Images are independent in eval mode
   * (BatchNorm uses running statistics), so the gradient of Σ_i L_i is each image's own gradient.
   */
  inputGradient(images: Tensor4D, targets: Tensor4D[]): Tensor4D {
    return tf.tidy(() => tf.grad((x: Tensor) => tf.sum(this.scoreLoss(x as Tensor4D, targets)))(images) as Tensor4D);
  }

  async fit(data: FitData, ctx: FitContext): Promise<FitReport> {
    return fitReport(await fitGradient({ net: this.net, loss: (b) => this.loss(b), data, ctx }));
  }

  /** Scores and the input-gradient maps: the gradient of each image's score loss w.r.t. its pixels (0..255 units). */
  predict(batch: Batch): MethodPrediction {
    const images = needImages(batch, 'mkd');
    checkImages('mkd', images, this.config.size);
    return tf.tidy(() => {
      const targets = this.teacherTargets(batch);
      const scores = this.scoreLoss(images, targets);
      // images are independent in eval mode (BatchNorm uses running statistics): ∂Σ_i L_i / ∂x_i = ∂L_i / ∂x_i
      return { scores, maps: gradToGray(this.inputGradient(images, targets), this.config.gradNormalize) };
    });
  }

  protected override stateMeta(): Record<string, unknown> {
    return { method: 'mkd', groups: this.groups };
  }
}

registerModel<MkdConfig>({
  name: 'mkd',
  description: 'MKD: a BatchNorm VGG-like cloner distils the frozen backbone at 4 depths (1 − cos + λ·MSE); input-gradient map',
  family: 'distillation',
  paperName: 'MKD',
  configSchema: MkdConfigSchema as never,
  inputs: (cfg) => ({ features: { backbone: 'mobilenet_v2', layers: MKD_LAYERS, size: 28 }, images: { size: cfg.size } }),
  defaults: { train: { lr: 1e-3, clipNorm: null, optimizer: { name: 'adam' }, schedule: { kind: 'constant' } }, eval: { imageScore: { kind: 'max' }, blurSigma: 4 } },
  smoke: { model: { size: 32, depthChannels: null, depths: 4, widths: [4, 4, 8, 8], convsPerStage: 1 } },
  create: (cfg: MkdConfig, ctx: ModelContext) => new Mkd(cfg, ctx.inChannels, ctx.gridSize, ctx.rng),
});
