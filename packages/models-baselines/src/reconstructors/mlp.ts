// Token-wise MLP feature reconstructor, one of the three networks of UniAD's "identical shortcut"
// analysis (Sec. 3.1, Fig. 3): every feature-grid token is reconstructed on its own by
// Linear(C→h) · ReLU · dropout · [Linear(h→h) · ReLU · dropout]* · Linear(h→C).
import { z } from 'zod';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-node';
import { nn, registerModel, UserError, FeatureReconstructorMethod } from '@unified-ad/core';
import type { ModelContext, Rng } from '@unified-ad/core';
import { FeatureReconstructor } from './base';

export const MlpConfigSchema = z
  .object({
    /** width of the hidden layers */
    hiddenDim: z.number().int().positive().default(256),
    /** Linear layers in total (≥ 2): C→h, (layers − 2) × h→h, h→C */
    layers: z.number().int().min(2).default(4),
    /** dropout after each hidden ReLU (as in UniAD's FFN) */
    dropout: z.number().min(0).max(0.99).default(0.1),
  })
  .strict();
export type MlpConfig = z.infer<typeof MlpConfigSchema>;

export class MlpReconstructor extends FeatureReconstructor {
  readonly linears: nn.Linear[];

  constructor(
    readonly config: MlpConfig,
    inChannels: number,
    rng: Rng,
  ) {
    super('mlp', inChannels, null);
    const { hiddenDim: h, layers } = config;
    if (layers < 2) throw new UserError(`mlp.layers must be ≥ 2, got ${layers}`);
    const dims = [inChannels, ...Array.from({ length: layers - 1 }, () => h), inChannels];
    this.linears = dims.slice(0, -1).map((d, i) => this.addChild(`layers.${i}`, new nn.Linear(d, dims[i + 1], rng)));
  }

  protected forward(x: Tensor4D, rng: Rng | null): Tensor4D {
    let y: Tensor = x;
    const last = this.linears.length - 1;
    this.linears.forEach((l, i) => {
      y = i < last ? nn.dropout(l.apply(y, 'relu'), this.config.dropout, rng) : l.apply(y);
    });
    return y as Tensor4D;
  }
}

registerModel<MlpConfig>({
  name: 'mlp',
  description: 'MLP feature reconstructor (token-wise), identical-shortcut baseline of UniAD Fig. 3',
  family: 'reconstruction',
  configSchema: MlpConfigSchema as never,
  inputs: { features: { layers: [], size: 14 } },
  defaults: { eval: { imageScore: { kind: 'avgpool-max', window: 16 }, blurSigma: 0 } },
  smoke: { model: { hiddenDim: 32, layers: 2, dropout: 0 } },
  create: (cfg: MlpConfig, ctx: ModelContext) => new FeatureReconstructorMethod('mlp', new MlpReconstructor(cfg, ctx.inChannels, ctx.rng)),
});
