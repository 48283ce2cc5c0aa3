// FCDD (Liznerski, Ruff, Vandermeulen, Franks, Kloft, Müller, "Explainable Deep One-Class Classification",
// ICLR 2021) on the method contract: a fully convolutional network whose pseudo-Huber output is small on normal
// images and large on confetti-noise anomalies (HSC loss); image score mean(A), map by receptive-field Gaussian
// upsampling; see README.md.
import { z } from 'zod';
import type { Scalar, Tensor1D, Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import {
  tf, registerModel, NetworkMethod, fitGradient, fitReport, UserError,
  type Batch, type FitContext, type FitData, type FitReport, type FrozenBackbone, type MethodPrediction, type Rng,
} from '@unified-ad/core';
import { fcddConfetti } from '@unified-ad/components';
import { checkedImages, encoderMeta, frozenPrefix, hostImages, imagenetNormalize, prefixFeatures, stackImages, type FrozenPrefix } from '../common';
import { FcddHead, FcddNet } from './model';
import { hscLoss, pseudoHuber } from './loss';
import { receptiveUpsample } from './anomaly-map';

export { FcddHead, FcddNet, FCDD_LAYOUT } from './model';
export { hscLoss, pseudoHuber } from './loss';
export { receptiveKernel, receptiveUpsample } from './anomaly-map';

export const FcddConfigSchema = z
  .object({
    /** image side (FCDD: 224 crops of 240 px images); must be divisible by 8 */
    size: z.number().int().min(16).default(224),
    /**
     * 'vgg': VGG11-BN's first six convolutions trained from scratch; 'backbone': the run's frozen ImageNet backbone
     * up to stride 8 (FCDD freezes its ImageNet VGG11-BN prefix) with two trained conv layers above it (FcddHead)
     */
    encoder: z.enum(['vgg', 'backbone']).default('vgg'),
    /** 'vgg': base width of the VGG11-BN-style layers (VGG11: 64); 'backbone': 8 × width channels in the trained layers (VGG11: 512) */
    width: z.number().int().positive().default(64),
    /** 'backbone': the prefix's output layer; null = the deepest layer at stride 8 */
    backboneLayer: z.string().nullable().default(null),
    /** 'backbone': receptive field (px) of one prefix cell (MobileNetV2 to stride 8: 59) */
    backboneField: z.number().int().positive().default(59),
    /** probability that a training image stays normal (FCDD's online supervisor: 0.5) */
    cleanProbability: z.number().min(0).max(1).default(0.5),
    /** confetti blob sides [min, max] in pixels (FCDD: 8–54 at 240 px images) */
    confettiSize: z.tuple([z.number().int().min(1), z.number().int().min(1)]).default([8, 54]),
    /** σ of the receptive-field Gaussian upsampling in input pixels (FCDD on MVTec AD: 12) */
    gaussStd: z.number().positive().default(12),
    predictBatch: z.number().int().positive().default(16),
  })
  .strict();
export type FcddConfig = z.infer<typeof FcddConfigSchema>;

/** FCDD's training batch: each image replaced by its confetti anomaly with probability 1 − cleanProbability (labels 1). */
export function fcddTrainingBatch(x: Tensor4D, rng: Rng, cleanProbability: number, size: [number, number] = [8, 54]): { images: Tensor4D; labels: number[]; masks: Float32Array[] } {
  const out = hostImages(x).map((im) => fcddConfetti(im, rng, { cleanProbability, size }));
  return { images: stackImages(out.map((o) => o.image)), labels: out.map((o) => (o.anomalous ? 1 : 0)), masks: out.map((o) => o.mask) };
}

export class Fcdd extends NetworkMethod<FcddNet | FcddHead> {
  readonly net: FcddNet | FcddHead;
  /** 'backbone' encoder: the frozen prefix */
  readonly prefix: FrozenPrefix | null = null;

  constructor(readonly config: FcddConfig, rng: Rng, backbone?: FrozenBackbone) {
    super();
    if (config.size % 8 !== 0) throw new UserError(`fcdd: model.config.size ${config.size} must be divisible by 8 (the network's stride)`);
    if (config.encoder === 'vgg') {
      this.net = new FcddNet(config.width, rng);
      return;
    }
    this.prefix = frozenPrefix('fcdd', backbone, config.backboneLayer, 8);
    this.net = new FcddHead(this.prefix.channels, 8 * config.width, this.prefix.stride, config.backboneField, rng);
  }

  /** A = pseudo-Huber of the network output [N, S/stride, S/stride, 1] for 0..255 images. */
  scoresA(x: Tensor4D, training: boolean): Tensor4D {
    if (!this.prefix) return pseudoHuber((this.net as FcddNet).forward(imagenetNormalize(x), training));
    return pseudoHuber((this.net as FcddHead).forward(prefixFeatures(this.prefix, x), training));
  }

  loss(batch: Batch, rng: Rng): Scalar {
    const x = checkedImages(batch, 'fcdd', this.config.size);
    const t = fcddTrainingBatch(x, rng, this.config.cleanProbability, this.config.confettiSize);
    const a = this.scoresA(t.images, true);
    return hscLoss(tf.mean(a, [1, 2, 3]) as Tensor1D, t.labels);
  }

  async fit(data: FitData, ctx: FitContext): Promise<FitReport> {
    return fitReport(await fitGradient({ net: this.net, loss: (b, rng) => this.loss(b, rng), data, ctx }));
  }

  predict(batch: Batch): MethodPrediction {
    const x = checkedImages(batch, 'fcdd', this.config.size);
    return tf.tidy(() => {
      const n = x.shape[0];
      const as: Tensor4D[] = [];
      for (let s = 0; s < n; s += this.config.predictBatch) as.push(this.scoresA(x.slice([s, 0, 0, 0], [Math.min(this.config.predictBatch, n - s), -1, -1, -1]), false));
      const a = as.length === 1 ? as[0]! : (tf.concat(as, 0) as Tensor4D);
      const maps: Tensor3D = receptiveUpsample(a, this.net.stride, this.net.receptiveField, this.config.gaussStd);
      return { maps, scores: tf.mean(a, [1, 2, 3]) as Tensor1D };
    });
  }

  protected override stateMeta(): Record<string, unknown> {
    return { method: 'fcdd', ...encoderMeta(this.config.encoder, this.prefix) };
  }
}

registerModel<FcddConfig>({
  name: 'fcdd',
  description: 'FCDD: fully convolutional one-class network, pseudo-Huber map, HSC loss on confetti-noise anomalies (Liznerski et al., ICLR 2021)',
  family: 'self-supervised',
  configSchema: FcddConfigSchema as never,
  inputs: (cfg) => ({ images: { size: cfg.size }, ...(cfg.encoder === 'backbone' ? { backbone: true } : {}) }),
  defaults: {
    // FCDD on MVTec AD: SGD Nesterov momentum 0.9, lr 1e-3, weight decay 1e-4, lr × 0.985 per epoch
    train: { lr: 1e-3, batchSize: 16, clipNorm: null, optimizer: { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 1e-4 }, schedule: { kind: 'exponential', gamma: 0.985 }, bestKey: 'mean.p_auroc' },
    eval: { blurSigma: 0 },
  },
  paperName: 'FCDD',
  smoke: { model: { size: 32, width: 4 }, train: { batchSize: 4, lr: 0.01 } },
  create: (cfg, ctx) => new Fcdd(cfg, ctx.rng, ctx.backbone),
});
