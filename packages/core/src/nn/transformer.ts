// Pieces shared by the transformer reconstructors (UniAD and the plain Transformer baseline): the 2-D grid position
// embedding and the post-norm encoder layer of DETR / the official UniAD code.
import type { Tensor } from '@tensorflow/tfjs-node';
import { tf } from '../engine';
import type { Rng } from '../rng';
import { Module } from './module';
import { LayerNorm, residualNorm } from './layers';
import { FeedForward, MultiHeadAttention } from './attention';

/**
 * Position embedding of an H×W token grid, [H·W, D]: `learned` — column and row embeddings of D/2 dims each
 * (U[0,1) init, as UniAD), concatenated column half first; `sine` — DETR's normalised 2-D sine, row half first.
 */
export class GridPositionEmbedding extends Module {
  private readonly fixed: Tensor | null = null;
  constructor(readonly h: number, readonly w: number, readonly dim: number, readonly kind: 'learned' | 'sine', rng: Rng) {
    super();
    if (kind === 'learned') {
      this.addParam('row_embed', rng.uniformTensor([h, dim / 2]));
      this.addParam('col_embed', rng.uniformTensor([w, dim / 2]));
    } else {
      this.fixed = tf.keep(tf.tensor2d(sineEmbedding(h, w, dim), [h * w, dim]));
    }
  }

  /** [H·W, D] */
  apply(): Tensor {
    if (this.fixed) return this.fixed;
    const vars = this.namedVariables();
    const col = vars.get('col_embed')!.expandDims(0).tile([this.h, 1, 1]); // H × W × D/2
    const row = vars.get('row_embed')!.expandDims(1).tile([1, this.w, 1]);
    return tf.concat([col, row], -1).reshape([this.h * this.w, this.dim]);
  }

  override dispose(): void {
    super.dispose();
    this.fixed?.dispose();
  }
}

function sineEmbedding(h: number, w: number, dim: number): Float32Array {
  const half = dim / 2, out = new Float32Array(h * w * dim), scale = 2 * Math.PI;
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      const ye = ((i + 1) / (h + 1e-6)) * scale, xe = ((j + 1) / (w + 1e-6)) * scale;
      for (let k = 0; k < half; k++) {
        const t = 10000 ** ((2 * Math.floor(k / 2)) / half);
        const f = k % 2 === 0 ? Math.sin : Math.cos;
        out[(i * w + j) * dim + k] = f(ye / t);
        out[(i * w + j) * dim + half + k] = f(xe / t);
      }
    }
  return out;
}

/** Post-norm encoder layer: x = LN(x + drop(SA(q = k = x + pos, v = x; mask))); x = LN(x + drop(FFN(x))). */
export class TransformerEncoderLayer extends Module {
  readonly attn: MultiHeadAttention;
  readonly ffn: FeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  constructor(d: number, heads: number, ffn: number, readonly p: number, rng: Rng) {
    super();
    this.attn = this.addChild('self_attn', new MultiHeadAttention(d, heads, p, rng));
    this.ffn = this.addChild('ffn', new FeedForward(d, ffn, p, rng));
    this.norm1 = this.addChild('norm1', new LayerNorm(d));
    this.norm2 = this.addChild('norm2', new LayerNorm(d));
  }

  /** `mask`: additive [T, T] attention mask or null; `rng` non-null = training (dropout). */
  apply(x: Tensor, pos: Tensor, mask: Tensor | null, rng: Rng | null): Tensor {
    const qk = x.add(pos);
    x = residualNorm(this.norm1, x, this.attn.applyParts(qk, qk, x, mask, rng), this.p, rng);
    return residualNorm(this.norm2, x, this.ffn.applyParts(x, rng), this.p, rng);
  }
}
