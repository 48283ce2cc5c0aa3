// Plain Transformer feature reconstructor, the third network of UniAD's "identical shortcut" analysis
// (Sec. 3.1, Fig. 3): UniAD's encoder–decoder (input projection, learned position embedding, 4 + 4
// post-norm layers, d = 256, 8 heads, FFN 1024, dropout 0.1, output projection) with none of its three
// ideas: no learned (layer-wise) query — the decoder starts from the tokens themselves (the encoder
// output) and each layer queries with the previous layer's output, as in a vanilla transformer —, no
// neighbour mask, no feature jittering. Decoder layers are the standard self-attention → cross-attention
// (to the encoder output) → FFN of Vaswani et al. / DETR, with the position embedding added to queries and keys.
import { z } from 'zod';
import type { Tensor, Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, nn, registerModel, UserError } from '@unified-ad/core';
import type { ModelContext, Rng } from '@unified-ad/core';
import { FeatureReconstructor } from './base';

export const TransformerConfigSchema = z
  .object({
    hiddenDim: z.number().int().positive().default(256),
    heads: z.number().int().positive().default(8),
    encoderLayers: z.number().int().min(0).default(4),
    decoderLayers: z.number().int().min(0).default(4),
    ffnDim: z.number().int().positive().default(1024),
    dropout: z.number().min(0).max(0.99).default(0.1),
    /** positional embedding: learned row + column halves (UniAD's default) or fixed 2-D sine */
    posEmbed: z.enum(['learned', 'sine']).default('learned'),
  })
  .strict();
export type TransformerConfig = z.infer<typeof TransformerConfigSchema>;

/** 2-D position embedding [H·W, D]: column half then row half (learned: U[0,1) init as UniAD), or DETR's normalised sine. */
export class GridPositionEmbedding extends nn.Module {
  private readonly fixed: Tensor | null = null;
  constructor(
    readonly h: number,
    readonly w: number,
    readonly dim: number,
    readonly kind: 'learned' | 'sine',
    rng: Rng,
  ) {
    super();
    if (kind === 'learned') {
      this.addParam('row_embed', rng.uniformTensor([h, dim / 2]));
      this.addParam('col_embed', rng.uniformTensor([w, dim / 2]));
    } else {
      this.fixed = tf.keep(tf.tensor2d(sineEmbedding(h, w, dim), [h * w, dim]));
    }
  }

  apply(): Tensor {
    if (this.fixed) return this.fixed;
    const vars = this.namedVariables();
    const col = tf.tile(tf.expandDims(vars.get('col_embed')!, 0), [this.h, 1, 1]); // [H, W, D/2]
    const row = tf.tile(tf.expandDims(vars.get('row_embed')!, 1), [1, this.w, 1]);
    return tf.reshape(tf.concat([col, row], -1), [this.h * this.w, this.dim]);
  }

  override dispose(): void {
    super.dispose();
    this.fixed?.dispose();
  }
}

function sineEmbedding(h: number, w: number, dim: number): Float32Array {
  const half = dim / 2;
  const out = new Float32Array(h * w * dim);
  const scale = 2 * Math.PI;
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      const ye = ((i + 1) / (h + 1e-6)) * scale;
      const xe = ((j + 1) / (w + 1e-6)) * scale;
      for (let k = 0; k < half; k++) {
        const t = 10000 ** ((2 * Math.floor(k / 2)) / half);
        const f = k % 2 === 0 ? Math.sin : Math.cos;
        out[(i * w + j) * dim + k] = f(ye / t);
        out[(i * w + j) * dim + half + k] = f(xe / t);
      }
    }
  return out;
}

/** Post-norm encoder layer: x = LN(x + drop(SA(x + pos, x + pos, x))); x = LN(x + drop(FFN(x))). */
class EncoderLayer extends nn.Module {
  readonly attn: nn.MultiHeadAttention;
  readonly ffn: nn.FeedForward;
  readonly norm1: nn.LayerNorm;
  readonly norm2: nn.LayerNorm;
  constructor(d: number, heads: number, ffn: number, readonly p: number, rng: Rng) {
    super();
    this.attn = this.addChild('self_attn', new nn.MultiHeadAttention(d, heads, p, rng));
    this.ffn = this.addChild('ffn', new nn.FeedForward(d, ffn, p, rng));
    this.norm1 = this.addChild('norm1', new nn.LayerNorm(d));
    this.norm2 = this.addChild('norm2', new nn.LayerNorm(d));
  }

  apply(x: Tensor, pos: Tensor, rng: Rng | null): Tensor {
    const qk = tf.add(x, pos);
    x = this.norm1.apply(tf.add(x, nn.dropout(this.attn.apply(qk, qk, x, null, rng), this.p, rng)));
    return this.norm2.apply(tf.add(x, nn.dropout(this.ffn.apply(x, rng), this.p, rng)));
  }
}

/** Post-norm decoder layer: self-attention over t, cross-attention to the encoder output, FFN. */
class DecoderLayer extends nn.Module {
  readonly selfAttn: nn.MultiHeadAttention;
  readonly crossAttn: nn.MultiHeadAttention;
  readonly ffn: nn.FeedForward;
  readonly norms: nn.LayerNorm[];
  constructor(d: number, heads: number, ffn: number, readonly p: number, rng: Rng) {
    super();
    this.selfAttn = this.addChild('self_attn', new nn.MultiHeadAttention(d, heads, p, rng));
    this.crossAttn = this.addChild('cross_attn', new nn.MultiHeadAttention(d, heads, p, rng));
    this.ffn = this.addChild('ffn', new nn.FeedForward(d, ffn, p, rng));
    this.norms = [1, 2, 3].map((i) => this.addChild(`norm${i}`, new nn.LayerNorm(d)));
  }

  apply(t: Tensor, memory: Tensor, pos: Tensor, rng: Rng | null): Tensor {
    const qk = tf.add(t, pos);
    t = this.norms[0].apply(tf.add(t, nn.dropout(this.selfAttn.apply(qk, qk, t, null, rng), this.p, rng)));
    const c = this.crossAttn.apply(tf.add(t, pos), tf.add(memory, pos), memory, null, rng);
    t = this.norms[1].apply(tf.add(t, nn.dropout(c, this.p, rng)));
    return this.norms[2].apply(tf.add(t, nn.dropout(this.ffn.apply(t, rng), this.p, rng)));
  }
}

export class TransformerReconstructor extends FeatureReconstructor {
  readonly inputProj: nn.Linear;
  readonly pos: GridPositionEmbedding;
  readonly encoder: EncoderLayer[];
  readonly decoder: DecoderLayer[];
  readonly decoderNorm: nn.LayerNorm;
  readonly outputProj: nn.Linear;

  constructor(
    readonly config: TransformerConfig,
    inChannels: number,
    grid: number,
    rng: Rng,
  ) {
    super('transformer', inChannels, grid);
    const d = config.hiddenDim;
    if (d % 2 !== 0) throw new UserError(`transformer.hiddenDim must be even, got ${d}`);
    if (d % config.heads !== 0) throw new UserError(`transformer.hiddenDim ${d} must be divisible by transformer.heads ${config.heads}`);
    this.inputProj = this.addChild('input_proj', new nn.Linear(inChannels, d, rng));
    this.pos = this.addChild('pos_embed', new GridPositionEmbedding(grid, grid, d, config.posEmbed, rng));
    this.encoder = Array.from({ length: config.encoderLayers }, (_, i) =>
      this.addChild(`encoder.${i}`, new EncoderLayer(d, config.heads, config.ffnDim, config.dropout, rng)),
    );
    this.decoder = Array.from({ length: config.decoderLayers }, (_, i) =>
      this.addChild(`decoder.${i}`, new DecoderLayer(d, config.heads, config.ffnDim, config.dropout, rng)),
    );
    this.decoderNorm = this.addChild('decoder_norm', new nn.LayerNorm(d));
    this.outputProj = this.addChild('output_proj', new nn.Linear(d, inChannels, rng));
  }

  protected forward(x: Tensor4D, rng: Rng | null): Tensor4D {
    const [b, h, w, c] = x.shape;
    const tokens = tf.reshape(x, [b, h * w, c]) as Tensor3D;
    const pos = this.pos.apply();
    let memory = this.inputProj.apply(tokens);
    for (const layer of this.encoder) memory = layer.apply(memory, pos, rng);
    let out = memory; // vanilla decoder: the query is the (encoded) input itself
    for (const layer of this.decoder) out = layer.apply(out, memory, pos, rng);
    const rec = this.outputProj.apply(this.decoderNorm.apply(out));
    return tf.reshape(rec, [b, h, w, c]) as Tensor4D;
  }
}

registerModel<TransformerConfig>({
  name: 'transformer',
  description: 'plain Transformer feature reconstructor (no layer-wise query, mask or jitter), identical-shortcut baseline of UniAD Fig. 3',
  kind: 'trainable',
  configSchema: TransformerConfigSchema as never,
  defaultFeatures: { layers: [], size: 14 },
  create: (cfg: TransformerConfig, ctx: ModelContext) => new TransformerReconstructor(cfg, ctx.inChannels, ctx.gridSize, ctx.rng),
});
