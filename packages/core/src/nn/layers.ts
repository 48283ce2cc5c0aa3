import type { Tensor, Tensor2D, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import { tf } from '../engine';
import type { Rng } from '../rng';
import { Module, xavierUniform } from './module';
import { nativeDropout } from '../native-random';
import { layerNormInference, linear } from './kernels';
import { fusedLayerNorm, fusedOps, fusedResidualLayerNorm } from '../fused-ops';

/** y = x W + b over the last axis; W is [in, out] (xavier-uniform init, zero bias, as UniAD's initializer). */
export class Linear extends Module {
  readonly weight: Variable;
  readonly bias: Variable | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, rng: Rng, opts: { bias?: boolean; fanOut?: number } = {}) {
    super();
    this.weight = this.addParam('weight', xavierUniform([inFeatures, outFeatures], inFeatures, opts.fanOut ?? outFeatures, rng));
    this.bias = opts.bias === false ? null : this.addParam('bias', tf.zeros([outFeatures]));
  }

  /**
   * (x W + b)·scale as { value: x W·scale, bias: b·scale } with the bias still to add: with the fused kernels the bias
   * goes to the consumer (`residualNorm`, the attention head split, the FFN block), which adds it in its own pass;
   * otherwise (or without a bias) this is `apply`, and bias is null.
   */
  applyParts(x: Tensor, scale = 1): Biased {
    if (!fusedOps() || !this.bias) return { value: this.apply(x, 'linear', scale), bias: null };
    const { w, b } = this.scaled(scale);
    return { value: this.product(x, w, null), bias: b };
  }

  /** `scale` multiplies the output, folded into W and b (a pass over the small weights, not over the output). */
  apply(x: Tensor, activation: 'linear' | 'relu' = 'linear', scale = 1): Tensor {
    const { w, b } = this.scaled(scale);
    return this.product(x, w, b, activation);
  }

  private scaled(scale: number): { w: Tensor; b: Tensor | null } {
    if (scale === 1) return { w: this.weight, b: this.bias };
    return { w: this.weight.mul(scale), b: this.bias ? this.bias.mul(scale) : null };
  }

  /** x w (+ b) over the last axis of x, any rank */
  private product(x: Tensor, w: Tensor, b: Tensor | null, activation: 'linear' | 'relu' = 'linear'): Tensor {
    const shape = x.shape;
    const y = linear((shape.length === 2 ? x : x.reshape([-1, this.inFeatures])) as Tensor2D, w, b, activation);
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
    return layerNorm(x, this.gamma, this.beta, this.eps);
  }
}

/**
 * y = (x − μ) / sqrt(σ² + ε) · γ + β over the last axis. Outside gradient recording (inference), oneDNN's one-kernel
 * `_MklLayerNorm` where available; otherwise the composition below with a hand-written backward pass
 * (dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)), dx̂ = dy · γ): about 2× faster than differentiating tf.moments.
 * With unified-ad's fused kernels built (fused-ops.ts), the same maths in one kernel each way (about 2× faster than
 * `_MklLayerNorm` forward at [1568, 256] here), in training and inference.
 */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  if (fusedOps()) return fusedLayerNorm(x, gamma, beta, eps); // unified-ad's kernel, forward (and backward)
  const fast = layerNormInference(x, gamma, beta, eps); // one oneDNN kernel when no gradient is recorded
  if (fast) return fast;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const f = tf.customGrad(((xi: Tensor, g: Tensor, b: Tensor, save: (t: Tensor[]) => void) => {
    const d = xi.shape[xi.shape.length - 1];
    const xc = xi.sub(xi.mean(-1, true));
    const rstd = tf.rsqrt(xc.square().mean(-1, true).add(eps));
    const xhat = xc.mul(rstd);
    save([xhat, rstd, g]);
    return {
      value: xhat.mul(g).add(b),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xh, rs, g2] = saved;
        const dxhat = dy.mul(g2);
        const dx = rs.mul(dxhat.sub(dxhat.mean(-1, true)).sub(xh.mul(dxhat.mul(xh).mean(-1, true))));
        return [dx, dy.mul(xh).reshape([-1, d]).sum(0), dy.reshape([-1, d]).sum(0)];
      },
    };
  }) as never);
  return (f as unknown as (a: Tensor, b: Tensor, c: Tensor) => Tensor)(x, gamma, beta);
}

/** A layer's output without its bias, and the bias (null: none, or already added). */
export interface Biased {
  value: Tensor;
  bias: Tensor | null;
}

/**
 * norm(x + dropout(h)) — the residual of a post-norm transformer layer — where h may come with its bias not yet added
 * (`Biased`, from `Linear.applyParts`). With the fused kernels one pass each way (bias add, dropout, residual add and
 * LayerNorm); otherwise exactly the composition.
 */
export function residualNorm(norm: LayerNorm, x: Tensor, h: Tensor | Biased, rate: number, rng: Rng | null): Tensor {
  const parts: Biased = h instanceof tf.Tensor ? { value: h, bias: null } : h;
  if (fusedOps()) {
    const drop = rng && rate > 0 ? { rate, seed: rng.seed() } : null;
    return fusedResidualLayerNorm(x, parts.value, parts.bias, norm.gamma, norm.beta, norm.eps, drop);
  }
  const hv = parts.bias ? parts.value.add(parts.bias) : parts.value;
  return norm.apply(x.add(dropout(hv, rate, rng)));
}

/** Inverted dropout driven by the framework Rng (identity when not training or rate = 0). */
export function dropout(x: Tensor, rate: number, rng: Rng | null): Tensor {
  if (!rng || rate <= 0) return x;
  return nativeDropout(x, rate, rng.seed());
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

/**
 * mean((pred − target)²) over all elements, differentiated w.r.t. `pred` only (the target is data): 2 kernels forward
 * and 2 backward, where tf.losses.meanSquaredError's gradient broadcasts a JS-filled ones tensor of the input's size.
 */
export function mseLoss(target: Tensor, pred: Tensor): Tensor {
  const n = pred.size;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const f = tf.customGrad(((p: Tensor, save: (t: Tensor[]) => void) => {
    const diff = p.sub(target);
    save([diff]);
    return { value: diff.square().mean(), gradFunc: (dy: Tensor, [d]: Tensor[]) => [d!.mul(dy.mul(2 / n))] };
  }) as never);
  return (f as unknown as (p: Tensor) => Tensor)(pred);
}

/** ‖x‖₂ over `axis` as sqrt(Σ x²) (tf.norm runs Abs + Pow + Sum + Pow, ~10× slower on a [8, 196, 272] batch). */
export function l2Norm(x: Tensor, axis: number, keepDims = false): Tensor {
  return x.square().sum(axis, keepDims).sqrt();
}
