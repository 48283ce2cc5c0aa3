import type { Tensor, Tensor4D } from '@tensorflow/tfjs-node';
import { engineInfo, tf } from '../engine';
import type { Rng } from '../rng';
import { Module } from './module';
import { Linear, dropout, type Biased } from './layers';
import { effectiveDropoutRate, keepMask } from '../native-random';
import { bf16Products, softmax } from './kernels';
import { attentionBf16 } from './bf16-matmul';
import { fusedBiasReluDropout, fusedMaskedSoftmax, fusedMergeHeads, fusedOps, fusedSplitHeads } from '../fused-ops';

/**
 * Multi-head attention with PyTorch nn.MultiheadAttention semantics (separate q/k/v projections,
 * output projection, dropout on the attention weights). Inputs are batch-first [B, T, D].
 * `mask` is additive [Tq, Tk] (0 = attend, large negative = blocked).
 */
export class MultiHeadAttention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly out: Linear;
  readonly headDim: number;

  constructor(readonly dim: number, readonly heads: number, readonly attnDropout: number, rng: Rng) {
    super();
    if (dim % heads !== 0) throw new Error(`attention dim ${dim} is not divisible by heads ${heads}`);
    this.headDim = dim / heads;
    // PyTorch initialises the packed in-projection [3D, D] with xavier-uniform: bound sqrt(6 / (D + 3D)).
    const packed = { fanOut: 3 * dim };
    this.q = this.addChild('q_proj', new Linear(dim, dim, rng, packed));
    this.k = this.addChild('k_proj', new Linear(dim, dim, rng, packed));
    this.v = this.addChild('v_proj', new Linear(dim, dim, rng, packed));
    this.out = this.addChild('out_proj', new Linear(dim, dim, rng));
  }

  private split(x: Tensor, b: number, t: number): Tensor4D {
    return x.reshape([b, t, this.heads, this.headDim]).transpose([0, 2, 1, 3]) as Tensor4D;
  }

  /** x [B, T, D] → its projection by `lin` (times `scale`) as heads [B, H, T, hd]; the fused kernels add the bias
   * and split the heads in one pass */
  private project(lin: Linear, x: Tensor, b: number, t: number, scale = 1): Tensor4D {
    if (!fusedOps()) return this.split(lin.apply(x, 'linear', scale), b, t);
    const { value, bias } = lin.applyParts(x, scale);
    return fusedSplitHeads(value, bias, this.heads) as Tensor4D;
  }

  apply(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | null, rng: Rng | null): Tensor {
    const { value: y, bias } = this.applyParts(query, key, value, mask, rng);
    return bias ? y.add(bias) : y;
  }

  /** `apply`, the output projection's bias still to add (`Linear.applyParts`; for `nn.residualNorm`). `query` may be
   * [1, Tq, D] for a query shared by every item of the batch. */
  applyParts(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | null, rng: Rng | null): Biased {
    if (bf16Products()) return this.applyBf16(query, key, value, mask, rng);
    // a query of batch 1 serves the whole batch (a learned query): projected once on the bf16 kernels, tiled here
    if (query.shape[0] === 1 && key.shape[0]! > 1) query = query.tile([key.shape[0]!, 1, 1]);
    const [b, tq] = query.shape;
    const tk = key.shape[1]!;
    const q = this.project(this.q, query, b!, tq!, 1 / Math.sqrt(this.headDim));
    const k = this.project(this.k, key, b!, tk);
    const v = this.project(this.v, value, b!, tk);
    let scores: Tensor = tf.matMul(q, k, false, true); // [B, H, Tq, Tk]
    const drop = rng !== null && this.attnDropout > 0;
    // dropout on the attention weights; its 1/(1−p) rescaling is applied to the (smaller) context instead
    const keepScale = drop ? 1 / (1 - effectiveDropoutRate(this.attnDropout)) : 1;
    const fused = fusedOps();
    let attn: Tensor;
    if (fused) {
      // mask, softmax and dropout in one kernel (and one for their gradient)
      attn = fusedMaskedSoftmax(scores, mask, drop ? { rate: this.attnDropout, seed: rng.seed() } : null);
    } else {
      if (mask) scores = scores.add(mask);
      attn = softmax(scores);
      if (drop) attn = attn.mul(keepMask(attn.shape, this.attnDropout, rng.seed()).cast('float32'));
    }
    let ctx: Tensor;
    if (fused) ctx = fusedMergeHeads(tf.matMul(attn as Tensor4D, v), this.heads, keepScale); // [B, Tq, D], scaled
    else {
      ctx = tf.matMul(attn as Tensor4D, v).transpose([0, 2, 1, 3]).reshape([b!, tq!, this.dim]);
      if (keepScale !== 1) ctx = ctx.mul(keepScale);
    }
    return this.out.applyParts(ctx);
  }

  /** `applyParts` on the bfloat16 kernels (bf16-matmul.ts): both products read the heads of the [B, T, D]
   * projections in place, the 1/√hd scale and dropout's 1/(1−p) are their output scales, and the whole attention of
   * a head is one kernel (scores, masked softmax with its dropout, product with V). */
  private applyBf16(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | null, rng: Rng | null): Biased {
    const q = this.q.apply(query), k = this.k.apply(key), v = this.v.apply(value);
    const drop = rng !== null && this.attnDropout > 0;
    const keepScale = drop ? 1 / (1 - effectiveDropoutRate(this.attnDropout)) : 1;
    const ctx = attentionBf16(q, k, v, mask, this.heads, 1 / Math.sqrt(this.headDim), drop ? { rate: this.attnDropout, seed: rng.seed() } : null, keepScale);
    return this.out.applyParts(ctx);
  }
}

/** Position-wise feed-forward: Linear(D→F) · ReLU · dropout · Linear(F→D). */
export class FeedForward extends Module {
  readonly l1: Linear;
  readonly l2: Linear;
  constructor(dim: number, hidden: number, readonly rate: number, rng: Rng) {
    super();
    this.l1 = this.addChild('linear1', new Linear(dim, hidden, rng));
    this.l2 = this.addChild('linear2', new Linear(hidden, dim, rng));
  }

  apply(x: Tensor, rng: Rng | null): Tensor {
    return this.l2.apply(this.hidden(x, rng));
  }

  /** `apply`, the second layer's bias still to add (`Linear.applyParts`; for `nn.residualNorm`). */
  applyParts(x: Tensor, rng: Rng | null): Biased {
    return this.l2.applyParts(this.hidden(x, rng));
  }

  /** dropout(relu(x W1 + b1)); with the fused kernels the bias, ReLU and dropout are one pass (unless float32
   * inference, where TensorFlow's fused product already adds the bias and ReLU inside the matmul) */
  private hidden(x: Tensor, rng: Rng | null): Tensor {
    const drop = rng !== null && this.rate > 0;
    // (inference on the bf16 kernels: their product adds the bias and applies the ReLU as it stores)
    if (fusedOps() && this.l1.bias && (drop || (engineInfo.fpmath === 'bf16' && !bf16Products()))) {
      const { value, bias } = this.l1.applyParts(x); // (bias: the fused kernels are on and l1 has one)
      return fusedBiasReluDropout(value, bias!, drop ? { rate: this.rate, seed: rng!.seed() } : null);
    }
    return dropout(this.l1.apply(x, 'relu'), this.rate, rng);
  }
}
