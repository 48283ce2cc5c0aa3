// CutPaste (Li, Sohn, Yoon, Pfister, "CutPaste: Self-Supervised Learning for Anomaly Detection and Localization",
// CVPR 2021) on the method contract: a CNN learns to tell normal images from cut-paste and scar copies of them
// (3-way), then a Ledoit-Wolf Gaussian density of the training embeddings scores test images; see README.md.
import { z } from 'zod';
import type { Scalar, Tensor1D, Tensor2D, Tensor4D } from '@tensorflow/tfjs-node';
import {
  tf, registerModel, fitGradient, fitReport, variablesState, loadVariablesState, UserError,
  type Batch, type FitContext, type FitData, type FitReport, type FrozenBackbone, type Method, type MethodPrediction, type MethodState, type Rng,
} from '@unified-ad/core';
import { GaussianDensity, colorJitter, cutPasteNormal, cutPasteScar, type ImageHWC } from '@unified-ad/components';
import { checkedImages, encoderMeta, frozenPrefix, hostImages, imagenetNormalize, prefixFeatures, stackImages, type FrozenPrefix } from '../common';
import { CutPasteNet } from './model';

export { CutPasteNet, CutPasteEncoder } from './model';

export const CutPasteConfigSchema = z
  .object({
    /** image side (reimplementation: 256) */
    size: z.number().int().min(16).default(256),
    /**
     * 'vgg': the encoder's stages on the image, trained from scratch; 'backbone': the run's frozen ImageNet backbone up
     * to `backboneStride` (the paper fine-tunes an ImageNet ResNet-18), the stages trained above it
     */
    encoder: z.enum(['vgg', 'backbone']).default('vgg'),
    /** encoder channels per stage (max-pool 2 between stages); the last is the embedding dimension */
    channels: z.array(z.number().int().positive()).min(1).default([64, 128, 256, 512, 512]),
    /** 'backbone': the prefix's output layer; null = the deepest layer at backboneStride */
    backboneLayer: z.string().nullable().default(null),
    backboneStride: z.number().int().positive().default(16),
    convsPerStage: z.number().int().min(1).default(2),
    /** hidden layers of the projection head (reimplementation: 8 × 512 then 128) */
    headLayers: z.array(z.number().int().positive()).default([512, 512, 512, 512, 512, 512, 512, 512, 128]),
    /** '3way' (normal / cut-paste / scar), or the binary 'normal' (cut-paste) or 'scar' variants */
    variant: z.enum(['3way', 'normal', 'scar']).default('3way'),
    /** ColorJitter strength applied to every training image before the augmentation (reimplementation: 0.1; 0 = off) */
    jitter: z.number().min(0).max(0.5).default(0.1),
    /** ε added to the density's covariance diagonal (guards a degenerate embedding set; 0 = the reference's plain Ledoit-Wolf) */
    regularization: z.number().min(0).default(1e-6),
    /** embed in chunks of this many images (memory) */
    predictBatch: z.number().int().positive().default(16),
  })
  .strict();
export type CutPasteConfig = z.infer<typeof CutPasteConfigSchema>;

const classCount = (v: CutPasteConfig['variant']) => (v === '3way' ? 3 : 2);

/** The training views of a batch: the (jittered) originals, then one augmented copy per class (all draws from rng). */
export function cutPasteViews(x: Tensor4D, rng: Rng, cfg: Pick<CutPasteConfig, 'variant' | 'jitter'>): { images: ImageHWC[]; labels: number[] } {
  const imgs = hostImages(x).map((im) => (cfg.jitter > 0 ? colorJitter(im, rng, { brightness: cfg.jitter, contrast: cfg.jitter, saturation: cfg.jitter, hue: cfg.jitter }).image : im));
  const images: ImageHWC[] = [...imgs];
  const labels: number[] = imgs.map(() => 0);
  const kinds = cfg.variant === '3way' ? ['normal', 'scar'] : [cfg.variant];
  kinds.forEach((kind, k) => {
    for (const im of imgs) {
      images.push((kind === 'normal' ? cutPasteNormal(im, rng) : cutPasteScar(im, rng)).image);
      labels.push(k + 1);
    }
  });
  return { images, labels };
}

export class CutPaste implements Method {
  readonly net: CutPasteNet;
  private density: GaussianDensity | null = null;
  /** 'backbone' encoder: the frozen prefix */
  readonly prefix: FrozenPrefix | null = null;

  constructor(readonly config: CutPasteConfig, rng: Rng, backbone?: FrozenBackbone) {
    if (config.encoder === 'backbone') this.prefix = frozenPrefix('cutpaste', backbone, config.backboneLayer, config.backboneStride);
    this.net = new CutPasteNet({ ...config, classes: classCount(config.variant), inChannels: this.prefix?.channels ?? 3 }, rng);
  }

  /** The encoder's input for 0..255 images: the normalised images, or the frozen prefix's features. */
  private encoderInput(x: Tensor4D): Tensor4D {
    return this.prefix ? prefixFeatures(this.prefix, x) : imagenetNormalize(x);
  }

  /** Cross-entropy of the classifier over the originals and their augmented copies. */
  loss(batch: Batch, rng: Rng): Scalar {
    const x = checkedImages(batch, 'cutpaste', this.config.size);
    const v = cutPasteViews(x, rng, this.config);
    const { logits } = this.net.forward(this.encoderInput(stackImages(v.images)), true);
    const onehot = tf.oneHot(tf.tensor1d(v.labels, 'int32'), classCount(this.config.variant));
    return tf.losses.softmaxCrossEntropy(onehot, logits) as Scalar;
  }

  /** L2-normalised embeddings [N, d] of 0..255 images (eval mode), as the reference's density input. */
  embed(x: Tensor4D): Tensor2D {
    return tf.tidy(() => {
      const n = x.shape[0];
      const parts: Tensor2D[] = [];
      for (let s = 0; s < n; s += this.config.predictBatch) {
        const xi = x.slice([s, 0, 0, 0], [Math.min(this.config.predictBatch, n - s), -1, -1, -1]);
        parts.push(this.net.forward(this.encoderInput(xi), false).embeds);
      }
      const e = parts.length === 1 ? parts[0]! : (tf.concat(parts, 0) as Tensor2D);
      return tf.div(e, tf.maximum(tf.norm(e, 2, 1, true), 1e-12)) as Tensor2D;
    });
  }

  async fit(data: FitData, ctx: FitContext): Promise<FitReport> {
    // a periodic evaluation scores with the density of the embeddings as they are at that epoch
    const evaluate = ctx.evaluate ? async (epoch: number) => { this.fitDensity(data); return ctx.evaluate!(epoch); } : undefined;
    const r = await fitGradient({ net: this.net, loss: (b, rng) => this.loss(b, rng), data, ctx: { ...ctx, evaluate } });
    // the density of the training embeddings, after training (reference: GaussianDensityTorch on normalised embeds)
    this.fitDensity(data);
    ctx.log(`${ctx.label}: Gaussian density of ${data.samples.length} embeddings (d = ${this.net.encoder.dim}), Ledoit-Wolf shrinkage ${this.density!.shrinkage.toFixed(4)}`);
    return fitReport(r);
  }

  /** A training checkpoint's network, then the density of the training embeddings under it. */
  async loadTrainingCheckpoint(checkpoint: MethodState, source: string, data: FitData): Promise<void> {
    loadVariablesState(checkpoint, source, this.net.namedVariables(), this.net.namedBuffers());
    this.fitDensity(data);
  }

  /** Fits the Gaussian density (Ledoit-Wolf) of the training embeddings of the encoder as it is now. */
  private fitDensity(data: FitData): void {
    const n = data.samples.length;
    const rows: Tensor2D[] = [];
    for (let s = 0; s < n; s += this.config.predictBatch) {
      const idx = Array.from({ length: Math.min(this.config.predictBatch, n - s) }, (_, k) => s + k);
      rows.push(tf.tidy(() => this.embed(checkedImages(data.batch(idx), 'cutpaste', this.config.size))));
    }
    const all = tf.concat(rows, 0) as Tensor2D;
    tf.dispose(rows);
    this.density?.dispose();
    try {
      this.density = GaussianDensity.fit(all, { covariance: 'ledoit-wolf', regularization: this.config.regularization });
    } finally {
      all.dispose();
    }
  }

  predict(batch: Batch): MethodPrediction {
    const x = checkedImages(batch, 'cutpaste', this.config.size);
    if (!this.density) throw new UserError('cutpaste: the model is not fitted (no density): call fit or loadState first');
    const d = this.density;
    return { scores: tf.tidy(() => d.mahalanobis(this.embed(x)) as Tensor1D) };
  }

  state(): MethodState {
    if (!this.density) throw new UserError('cutpaste: the model is not fitted (no density) and has no state');
    const s = this.density.state();
    const st = variablesState(this.net.namedVariables(), this.net.namedBuffers(), { method: 'cutpaste', densityDim: s.dim, shrinkage: s.shrinkage, ...encoderMeta(this.config.encoder, this.prefix) });
    st.tensors.push({ name: 'density/mean', shape: [s.dim], data: s.mean }, { name: 'density/whitening', shape: [s.dim, s.dim], data: s.whitening });
    return st;
  }

  loadState(state: MethodState, source: string): void {
    loadVariablesState(state, source, this.net.namedVariables(), this.net.namedBuffers());
    const mean = state.tensors.find((t) => t.name === 'density/mean');
    const whitening = state.tensors.find((t) => t.name === 'density/whitening');
    const dim = this.net.encoder.dim;
    if (!mean || !whitening) throw new UserError(`${source}: has no tensor 'density/mean' or 'density/whitening' (not a fitted cutpaste state)`);
    if (mean.data.length !== dim || whitening.data.length !== dim * dim) throw new UserError(`${source}: density has ${mean.data.length} dims, the encoder has ${dim}`);
    this.density?.dispose();
    this.density = GaussianDensity.fromState({ mean: Float32Array.from(mean.data), whitening: Float32Array.from(whitening.data), dim, shrinkage: Number(state.meta.shrinkage ?? 0) });
  }

  parameterCount(): number {
    return this.net.parameterCount() + (this.density ? this.density.dim * (this.density.dim + 1) : 0);
  }

  dispose(): void {
    this.net.dispose();
    this.density?.dispose();
    this.density = null;
  }
}

registerModel<CutPasteConfig>({
  name: 'cutpaste',
  description: 'CutPaste (3-way): CNN classifier of normal / cut-paste / scar images, Ledoit-Wolf Gaussian density of its embeddings (Li et al., CVPR 2021); image scores only',
  family: 'self-supervised',
  configSchema: CutPasteConfigSchema as never,
  inputs: (cfg) => ({ images: { size: cfg.size }, ...(cfg.encoder === 'backbone' ? { backbone: true } : {}) }),
  defaults: {
    // Runinho/pytorch-cutpaste: SGD lr 0.03, momentum 0.9, weight decay 3e-5, cosine annealing, batch 32
    train: { lr: 0.03, batchSize: 32, clipNorm: null, optimizer: { name: 'sgd', momentum: 0.9, weightDecay: 3e-5 }, schedule: { kind: 'cosine' }, bestKey: 'mean.i_auroc' },
  },
  paperName: 'CutPaste',
  smoke: { model: { size: 32, channels: [8, 16], convsPerStage: 1, headLayers: [16] }, train: { batchSize: 4, lr: 0.01 } },
  create: (cfg, ctx) => new CutPaste(cfg, ctx.rng, ctx.backbone),
});
