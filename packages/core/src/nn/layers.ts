import type { Tensor, Tensor2D, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import { tf } from '../engine';
import type { Rng } from '../rng';
import { Module, xavierUniform } from './module';

/** y = x W + b over the last axis; W is [in, out] (xavier-uniform init, zero bias, as UniAD's initializer). */
export class Linear extends Module {
  readonly weight: Variable;
  readonly bias: Variable | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, rng: Rng, opts: { bias?: boolean } = {}) {
    super();
    this.weight = this.addParam('weight', xavierUniform([inFeatures, outFeatures], inFeatures, outFeatures, rng));
    this.bias = opts.bias === false ? null : this.addParam('bias', tf.zeros([outFeatures]));
  }

  apply(x: Tensor, activation: 'linear' | 'relu' = 'linear'): Tensor {
    const shape = x.shape;
    const x2 = shape.length === 2 ? (x as Tensor) : x.reshape([-1, this.inFeatures]);
    const y = tf.fused.matMul({ a: x2 as Tensor2D, b: this.weight as unknown as Tensor2D, bias: this.bias ?? undefined, activation });
    return shape.length === 2 ? y : y.reshape([...shape.slice(0, -1), this.outFeatures]);
  }
}

/** Layer normalisation over the last axis, from tf.moments (tf.layers.layerNormalization is ~80× slower to train). */
export class LayerNorm extends Module {
  readonly gamma: Variable;
  readonly beta: Variable;
  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.gamma = this.addParam('weight', tf.ones([dim]));
    this.beta = this.addParam('bias', tf.zeros([dim]));
  }

  apply(x: Tensor): Tensor {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      return x.sub(mean).mul(tf.rsqrt(variance.add(this.eps))).mul(this.gamma).add(this.beta);
    });
  }
}

/** Inverted dropout driven by the framework Rng (identity when not training or rate = 0). */
export function dropout(x: Tensor, rate: number, rng: Rng | null): Tensor {
  if (!rng || rate <= 0) return x;
  return tf.dropout(x, rate, undefined, rng.seed());
}

/** 3×3 (or k×k) convolution with 'same' padding, NHWC; weight [k, k, in, out] xavier-uniform, zero bias. */
export class Conv2d extends Module {
  readonly weight: Variable;
  readonly bias: Variable;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernel: number, rng: Rng) {
    super();
    const fanIn = inChannels * kernel * kernel;
    const fanOut = outChannels * kernel * kernel;
    this.weight = this.addParam('weight', xavierUniform([kernel, kernel, inChannels, outChannels], fanIn, fanOut, rng));
    this.bias = this.addParam('bias', tf.zeros([outChannels]));
  }

  apply(x: Tensor4D, activation: 'linear' | 'relu' = 'linear'): Tensor4D {
    return tf.fused.conv2d({ x, filter: this.weight as unknown as Tensor4D, strides: 1, pad: 'same', bias: this.bias, activation });
  }
}
