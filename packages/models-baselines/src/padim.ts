// PaDiM — "PaDiM: a Patch Distribution Modeling Framework for Anomaly Detection and Localization"
// (Defard et al., ICPR 2021). Every feature-grid position gets a multivariate Gaussian of the patch
// embeddings of the normal training images (Sec. 3.2); the anomaly map is the Mahalanobis distance (eq. 2).
// Embeddings: concatenated backbone maps (here MobileNetV2 strides 4 + 8 + 16 resized to 28×28, 152 channels)
// reduced to `numChannels` channels chosen at random once (Sec. 3.1, "random dimensionality reduction").
// Upsampling and Gaussian blurring of the map (σ = 4) are done by the evaluation, as for every method.
import { z } from 'zod';
import type { Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, registerModel, UserError, StatisticalMethod } from '@unified-ad/core';
import type { FeatureSet, ModelContext, Prediction, Rng, StatisticalModel } from '@unified-ad/core';
import { PositionGaussians } from '@unified-ad/components';

export const PadimConfigSchema = z
  .object({
    /** random channels kept (PaDiM: 100); all channels when the features have fewer */
    numChannels: z.number().int().positive().default(100),
    /** ε of Σ + εI (PaDiM: 0.01) */
    regularization: z.number().min(0).default(0.01),
  })
  .strict();
export type PadimConfig = z.infer<typeof PadimConfigSchema>;

export class Padim implements StatisticalModel {
  readonly kind = 'statistical' as const;
  private gaussians: PositionGaussians | null = null;
  private channels: number[] = [];
  private grid: [number, number] = [0, 0];

  constructor(
    readonly config: PadimConfig,
    readonly inChannels: number,
  ) {}

  /** the channels the Gaussians use (sorted), after fit */
  get selectedChannels(): readonly number[] {
    return this.channels;
  }

  fit(train: FeatureSet, rng: Rng): void {
    const x = train.features;
    if (x.rank !== 4) throw new UserError(`padim: features must be [N, H, W, C], got [${x.shape}]`);
    const [n, h, w, c] = x.shape;
    if (c !== this.inChannels) throw new UserError(`padim: features have ${c} channels, the model was created for ${this.inChannels}`);
    if (n < 2) throw new UserError(`padim: needs at least 2 training images, got ${n}`);
    const d = Math.min(this.config.numChannels, c);
    const channels = d === c ? Array.from({ length: c }, (_, i) => i) : rng.permutation(c).slice(0, d).sort((a, b) => a - b);
    const emb = this.embed(x, channels);
    try {
      const g = PositionGaussians.fit(emb, { regularization: this.config.regularization });
      this.gaussians?.dispose();
      this.gaussians = g;
      this.channels = channels;
      this.grid = [h, w];
    } finally {
      emb.dispose();
    }
  }

  /** [N, H, W, C] → [N, H·W, d] with the selected channels */
  private embed(x: Tensor4D, channels: number[]): Tensor3D {
    return tf.tidy(() => {
      const [n, h, w, c] = x.shape;
      const flat = tf.reshape(x, [n, h * w, c]);
      return (channels.length === c ? flat : tf.gather(flat, channels, 2)) as Tensor3D;
    });
  }

  predict(batch: Tensor4D): Prediction {
    const g = this.gaussians;
    if (!g) throw new UserError('padim: predict() called before fit()');
    const [n, h, w, c] = batch.shape;
    if (c !== this.inChannels || h !== this.grid[0] || w !== this.grid[1]) {
      throw new UserError(`padim: expects features [*, ${this.grid[0]}, ${this.grid[1]}, ${this.inChannels}] but got [${batch.shape}]`);
    }
    return {
      maps: tf.tidy(() => {
        const emb = this.embed(batch, this.channels);
        return tf.reshape(g.mahalanobis(emb), [n, h, w]) as Tensor3D;
      }),
    };
  }

  state(): Record<string, Float32Array | number[] | number | string> {
    if (!this.gaussians) throw new UserError('padim: state() called before fit()');
    const s = this.gaussians.state();
    return { method: 'padim', channels: this.channels, height: this.grid[0], width: this.grid[1], dim: s.dim, mean: s.mean, whitening: s.whitening };
  }

  /** Restores a state() written by a fitted model with the same input channels. */
  loadState(s: Record<string, Float32Array | number[] | number | string>): void {
    if (s.method !== 'padim') throw new UserError(`padim: state is for method '${String(s.method)}'`);
    const channels = s.channels as number[];
    const height = s.height as number;
    const width = s.width as number;
    const dim = s.dim as number;
    const g = PositionGaussians.fromState({ mean: s.mean as Float32Array, whitening: s.whitening as Float32Array, positions: height * width, dim });
    this.gaussians?.dispose();
    this.gaussians = g;
    this.channels = channels;
    this.grid = [height, width];
  }

  /** stored statistics: P·(d + d(d+1)/2) (mean and symmetric covariance per position); 0 before fit */
  parameterCount(): number {
    if (!this.gaussians) return 0;
    const p = this.gaussians.positions;
    const d = this.gaussians.dim;
    return p * (d + (d * (d + 1)) / 2);
  }

  dispose(): void {
    this.gaussians?.dispose();
    this.gaussians = null;
  }
}

export const PADIM_DEFAULT_LAYERS = ['expanded_conv_3/add', 'expanded_conv_6/add', 'expanded_conv_13/add'];

registerModel<PadimConfig>({
  name: 'padim',
  description: 'PaDiM: per-position multivariate Gaussians of random-channel backbone features, Mahalanobis map',
  family: 'statistical',
  paperName: 'PaDiM',
  configSchema: PadimConfigSchema as never,
  inputs: { features: { backbone: 'mobilenet_v2', layers: PADIM_DEFAULT_LAYERS, size: 28 } },
  defaults: { eval: { imageScore: { kind: 'max' }, blurSigma: 4 } },
  smoke: { model: { numChannels: 16 } },
  create: (cfg: PadimConfig, ctx: ModelContext) => new StatisticalMethod('padim', new Padim(cfg, ctx.inChannels), ctx.rng),
});
