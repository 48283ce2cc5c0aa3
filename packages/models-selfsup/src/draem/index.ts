// DRAEM (Zavrtanik, Kristan, Skočaj, "DRAEM – A discriminatively trained reconstruction embedding for surface
// anomaly detection", ICCV 2021) on the method contract: images with synthetic Perlin-shaped anomalies, a
// reconstructive and a discriminative U-Net trained jointly by fitGradient; see README.md.
import { z } from 'zod';
import type { Scalar, Tensor4D } from '@tensorflow/tfjs-node';
import {
  tf, registerModel, NetworkMethod, fitGradient, fitReport, UserError,
  type Batch, type FitContext, type FitData, type FitReport, type MethodPrediction, type Rng,
} from '@unified-ad/core';
import { draemAugment, type ImageHWC } from '@unified-ad/components';
import { checkedImages, hostImages, stackImages, stackMasks } from '../common';
import { DraemNet } from './model';
import { focalLoss, ssimLoss } from './loss';
import { anomalyMap, imageScore } from './anomaly-map';

export { DraemNet, DraemUNet, levelWidths } from './model';
export { focalLoss, ssim, ssimLoss, gaussian1d } from './loss';
export { anomalyMap as draemAnomalyMap, imageScore as draemImageScore } from './anomaly-map';

export const DraemConfigSchema = z
  .object({
    /** image side (DRAEM: 256); must be divisible by 2^(depth − 1) of both networks */
    size: z.number().int().min(16).default(256),
    /** base width of the reconstructive U-Net (DRAEM: 128) and its number of levels (5) */
    recWidth: z.number().int().positive().default(128),
    recDepth: z.number().int().min(2).max(8).default(5),
    /** base width of the discriminative U-Net (DRAEM: 64) and its number of levels (6) */
    discWidth: z.number().int().positive().default(64),
    discDepth: z.number().int().min(2).max(8).default(6),
    /** anomaly source: 'texture' (procedural textures, the stand-in for DTD) or 'image' (another image of the batch) */
    source: z.enum(['texture', 'image']).default('texture'),
    /** probability that a training sample stays clean (DRAEM: 0.5) */
    cleanProbability: z.number().min(0).max(1).default(0.5),
    /** β ~ U[0, betaMax) (DRAEM: 0.8) */
    betaMax: z.number().min(0).max(1).default(0.8),
    /** SSIM window (DRAEM: 11) and the image score's average-pooling window (DRAEM: 21) */
    ssimWindow: z.number().int().min(1).default(11),
    scoreWindow: z.number().int().min(1).default(21),
    /** predict in chunks of this many images (memory) */
    predictBatch: z.number().int().positive().default(8),
  })
  .strict();
export type DraemConfig = z.infer<typeof DraemConfigSchema>;

export interface DraemTrainingBatch {
  /** augmented images [N, S, S, 3] in [0, 1], their masks [N, S, S, 1], the clean images [N, S, S, 3] in [0, 1] */
  augmented: Tensor4D;
  mask: Tensor4D;
  clean: Tensor4D;
}

/** DRAEM's training inputs for a batch of clean 0..255 images: every image through draemAugment (all draws from rng). */
export function draemTrainingBatch(x: Tensor4D, rng: Rng, cfg: Pick<DraemConfig, 'source' | 'cleanProbability' | 'betaMax'>): DraemTrainingBatch & { anomalous: boolean[] } {
  const imgs = hostImages(x);
  const n = imgs.length;
  const out: ImageHWC[] = [];
  const masks: Float32Array[] = [];
  const anomalous: boolean[] = [];
  for (let i = 0; i < n; i++) {
    // 'image': another image of the batch (itself when the batch has one image)
    const source = cfg.source === 'image' ? imgs[n > 1 ? (i + 1 + rng.int(n - 1)) % n : i] : undefined;
    const a = draemAugment(imgs[i]!, rng, { source, cleanProbability: cfg.cleanProbability, betaMax: cfg.betaMax });
    out.push(a.image);
    masks.push(a.mask);
    anomalous.push(a.anomalous);
  }
  return tf.tidy(() => ({
    augmented: tf.div(stackImages(out), 255) as Tensor4D,
    mask: stackMasks(masks, x.shape[1], x.shape[2]),
    clean: tf.div(x, 255) as Tensor4D,
    anomalous,
  }));
}

export class Draem extends NetworkMethod<DraemNet> {
  readonly net: DraemNet;

  constructor(readonly config: DraemConfig, rng: Rng) {
    super();
    const mult = 2 ** (Math.max(config.recDepth, config.discDepth) - 1);
    if (config.size % mult !== 0) throw new UserError(`draem: model.config.size ${config.size} must be divisible by ${mult} (2^(depth − 1) of the U-Nets)`);
    this.net = new DraemNet(config, rng);
  }

  /** The training loss of a batch: L2 + (1 − SSIM) on the reconstruction of the clean image, focal loss on the mask. */
  loss(batch: Batch, rng: Rng): Scalar {
    const x = checkedImages(batch, 'draem', this.config.size);
    const t = draemTrainingBatch(x, rng, this.config);
    const { rec, logits } = this.net.forward(t.augmented, true);
    const l2 = tf.mean(tf.squaredDifference(rec, t.clean));
    const ss = ssimLoss(rec, t.clean, this.config.ssimWindow);
    const focal = focalLoss(tf.softmax(logits, -1) as Tensor4D, t.mask);
    return tf.addN([l2, ss, focal]) as Scalar;
  }

  async fit(data: FitData, ctx: FitContext): Promise<FitReport> {
    return fitReport(await fitGradient({ net: this.net, loss: (b, rng) => this.loss(b, rng), data, ctx }));
  }

  predict(batch: Batch): MethodPrediction {
    const x = checkedImages(batch, 'draem', this.config.size);
    return tf.tidy(() => {
      const n = x.shape[0];
      const maps = [];
      for (let s = 0; s < n; s += this.config.predictBatch) {
        const xi = x.slice([s, 0, 0, 0], [Math.min(this.config.predictBatch, n - s), -1, -1, -1]);
        maps.push(anomalyMap(this.net.forward(tf.div(xi, 255) as Tensor4D, false).logits));
      }
      const map = maps.length === 1 ? maps[0]! : (tf.concat(maps, 0) as typeof maps[0]);
      return { maps: map, scores: imageScore(map, this.config.scoreWindow) };
    });
  }

  protected override stateMeta(): Record<string, unknown> {
    return { method: 'draem' };
  }
}

registerModel<DraemConfig>({
  name: 'draem',
  description: 'DRAEM: reconstructive + discriminative U-Nets trained on Perlin-mask synthetic anomalies (Zavrtanik et al., ICCV 2021)',
  family: 'self-supervised',
  configSchema: DraemConfigSchema as never,
  inputs: (cfg) => ({ images: { size: cfg.size } }),
  defaults: {
    // DRAEM: Adam lr 1e-4, batch 8, 700 epochs, lr × 0.2 at 80 % and 90 % (milestones follow train.epochs in the profiles)
    train: { lr: 1e-4, batchSize: 8, clipNorm: null, optimizer: { name: 'adam' }, schedule: { kind: 'multistep', milestones: [560, 630], gamma: 0.2 }, bestKey: 'mean.p_auroc' },
    eval: { blurSigma: 0 },
  },
  paperName: 'DRAEM',
  smoke: { model: { size: 32, recWidth: 4, recDepth: 3, discWidth: 4, discDepth: 3 }, train: { batchSize: 4, lr: 1e-3 } },
  create: (cfg, ctx) => new Draem(cfg, ctx.rng),
});
