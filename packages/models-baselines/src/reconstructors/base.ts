// What the MLP, CNN and plain-Transformer baselines share with UniAD (Sec. 3.5 of the UniAD paper):
// the same MSE loss between reconstructed and input features, and the same anomaly map
// ‖f_rec − f‖₂ over channels at each feature-grid position. Only `reconstruct` differs.
import type { Scalar, Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, nn, UserError } from '@unified-ad/core';
import type { Prediction, Reconstructor, Rng } from '@unified-ad/core';

export abstract class FeatureReconstructor extends nn.Module implements Reconstructor {
  readonly kind = 'trainable' as const;

  /**
   * @param method registry name, for error messages
   * @param grid side of the square feature grid the model requires, or null when any size works
   */
  constructor(
    readonly method: string,
    readonly inChannels: number,
    readonly grid: number | null,
  ) {
    super();
  }

  /** [B, H, W, C] → reconstruction [B, H, W, C]; `rng` non-null = training mode (dropout). Called inside tidy. */
  protected abstract forward(features: Tensor4D, rng: Rng | null): Tensor4D;

  reconstruct(features: Tensor4D, rng: Rng | null): Tensor4D {
    const [, h, w, c] = features.shape;
    if (features.rank !== 4 || c !== this.inChannels || (this.grid !== null && (h !== this.grid || w !== this.grid))) {
      const g = this.grid === null ? '*, *' : `${this.grid}, ${this.grid}`;
      throw new UserError(`${this.method} expects features [*, ${g}, ${this.inChannels}] but got [${features.shape}]`);
    }
    return tf.tidy(() => this.forward(features, rng));
  }

  /** Mean squared error between reconstructed and input features, training mode. */
  loss(batch: Tensor4D, rng: Rng): Scalar {
    return tf.tidy(() => tf.losses.meanSquaredError(batch, this.reconstruct(batch, rng)) as Scalar);
  }

  /** Anomaly map ‖f_rec − f‖₂ over channels, [B, H, W]; eval mode (no dropout). */
  predict(batch: Tensor4D): Prediction {
    return { maps: tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.sub(this.reconstruct(batch, null), batch)), -1)) as Tensor3D) };
  }
}
