// Convolutional feature reconstructor, one of the three networks of UniAD's "identical shortcut"
// analysis (Sec. 3.1, Fig. 3): k×k convolutions with 'same' padding on the feature grid, no pooling,
// Conv(C→h) · ReLU · dropout · [Conv(h→h) · ReLU · dropout]* · Conv(h→C).
import { z } from 'zod';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { nn, registerModel, UserError, FeatureReconstructorMethod } from '@unified-ad/core';
import type { ModelContext, Rng } from '@unified-ad/core';
import { FeatureReconstructor } from './base';

export const CnnConfigSchema = z
  .object({
    /** channels of the hidden layers */
    hiddenDim: z.number().int().positive().default(256),
    /** convolutions in total (≥ 2): C→h, (layers − 2) × h→h, h→C */
    layers: z.number().int().min(2).default(4),
    /** kernel side (odd) */
    kernel: z.number().int().positive().default(3),
    /** dropout after each hidden ReLU (as in UniAD's FFN) */
    dropout: z.number().min(0).max(0.99).default(0.1),
  })
  .strict();
export type CnnConfig = z.infer<typeof CnnConfigSchema>;

export class CnnReconstructor extends FeatureReconstructor {
  readonly convs: nn.Conv2d[];

  constructor(
    readonly config: CnnConfig,
    inChannels: number,
    rng: Rng,
  ) {
    super('cnn', inChannels, null);
    const { hiddenDim: h, layers, kernel } = config;
    if (kernel % 2 !== 1) throw new UserError(`cnn.kernel must be odd, got ${kernel}`);
    if (layers < 2) throw new UserError(`cnn.layers must be ≥ 2, got ${layers}`);
    const dims = [inChannels, ...Array.from({ length: layers - 1 }, () => h), inChannels];
    this.convs = dims.slice(0, -1).map((d, i) => this.addChild(`layers.${i}`, new nn.Conv2d(d, dims[i + 1], kernel, rng)));
  }

  protected forward(x: Tensor4D, rng: Rng | null): Tensor4D {
    let y = x;
    const last = this.convs.length - 1;
    this.convs.forEach((conv, i) => {
      y = i < last ? (nn.dropout(conv.apply(y, 'relu'), this.config.dropout, rng) as Tensor4D) : conv.apply(y);
    });
    return y;
  }
}

registerModel<CnnConfig>({
  name: 'cnn',
  description: 'CNN feature reconstructor (3×3 convs, no pooling), identical-shortcut baseline of UniAD Fig. 3',
  family: 'reconstruction',
  configSchema: CnnConfigSchema as never,
  inputs: { features: { layers: [], size: 14 } },
  defaults: { eval: { imageScore: { kind: 'avgpool-max', window: 16 }, blurSigma: 0 } },
  smoke: { model: { hiddenDim: 32, layers: 2, kernel: 3, dropout: 0 } },
  create: (cfg: CnnConfig, ctx: ModelContext) => new FeatureReconstructorMethod('cnn', new CnnReconstructor(cfg, ctx.inChannels, ctx.rng)),
});
