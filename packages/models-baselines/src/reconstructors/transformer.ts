// Plain Transformer feature reconstructor, the third network of UniAD's "identical shortcut" analysis
// (Sec. 3.1, Fig. 3): UniAD's encoder–decoder (input projection, learned position embedding, 4 + 4
// post-norm layers, d = 256, 8 heads, FFN 1024, dropout 0.1, output projection) with none of its three
// ideas: no learned (layer-wise) query — the decoder starts from the tokens themselves (the encoder
// output) and each layer queries with the previous layer's output, as in a vanilla transformer —, no
// neighbour mask, no feature jittering. Decoder layers are the standard self-attention → cross-attention
// (to the encoder output) → FFN of Vaswani et al. / DETR, with the position embedding added to queries and keys.
import { z } from 'zod';
import type { Tensor, Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, nn, registerModel, UserError, FeatureReconstructorMethod } from '@unified-ad/core';
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
  readonly pos: nn.GridPositionEmbedding;
  readonly encoder: nn.TransformerEncoderLayer[];
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
    this.pos = this.addChild('pos_embed', new nn.GridPositionEmbedding(grid, grid, d, config.posEmbed, rng));
    this.encoder = Array.from({ length: config.encoderLayers }, (_, i) =>
      this.addChild(`encoder.${i}`, new nn.TransformerEncoderLayer(d, config.heads, config.ffnDim, config.dropout, rng)),
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
    for (const layer of this.encoder) memory = layer.apply(memory, pos, null, rng);
    let out = memory; // vanilla decoder: the query is the (encoded) input itself
    for (const layer of this.decoder) out = layer.apply(out, memory, pos, rng);
    const rec = this.outputProj.apply(this.decoderNorm.apply(out));
    return tf.reshape(rec, [b, h, w, c]) as Tensor4D;
  }
}

registerModel<TransformerConfig>({
  name: 'transformer',
  description: 'plain Transformer feature reconstructor (no layer-wise query, mask or jitter), identical-shortcut baseline of UniAD Fig. 3',
  family: 'reconstruction',
  configSchema: TransformerConfigSchema as never,
  inputs: { features: { layers: [], size: 14 } },
  defaults: { eval: { imageScore: { kind: 'avgpool-max', window: 16 }, blurSigma: 0 } },
  smoke: { model: { hiddenDim: 32, heads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 64, dropout: 0 } },
  create: (cfg: TransformerConfig, ctx: ModelContext) => new FeatureReconstructorMethod('transformer', new TransformerReconstructor(cfg, ctx.inChannels, ctx.gridSize, ctx.rng)),
});
