// UniAD — "A Unified Model for Multi-class Anomaly Detection" (You et al., NeurIPS 2022).
// A transformer reconstructs frozen-backbone feature tokens; the anomaly map is the reconstruction error.
// Read top to bottom: feature jittering → input projection → encoder with neighbor-masked attention →
// decoder with layer-wise learnable queries → output projection → anomaly map.
import type { Scalar, Tensor, Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, nn, Rng, UserError, type Prediction, type Reconstructor } from '@unified-ad/core';
import type { UniADConfig } from './config';

/** Sec. 3.4, Feature Jittering: D = N(0,1) · (‖f‖₂ / C) · α, added to each C-dim token with probability p. */
export class FeatureJitter {
  constructor(readonly scale: number, readonly prob: number) {}

  apply(tokens: Tensor3D, rng: Rng): Tensor3D {
    if (this.scale <= 0 || rng.next() > this.prob) return tokens;
    const c = tokens.shape[2];
    const norms = tokens.norm('euclidean', -1, true).div(c);
    return tokens.add(rng.normalTensor(tokens.shape).mul(norms).mul(this.scale));
  }
}

/**
 * Sec. 3.3, Neighbor Masked Attention: a token may not attend to the tokens in its own k×k neighbourhood
 * (itself included). Returned as an additive [T, T] mask: 0 = visible, −1e9 = hidden.
 */
export class NeighborMask {
  readonly values: Float32Array;
  constructor(readonly h: number, readonly w: number, readonly size: number) {
    const t = h * w;
    const m = new Float32Array(t * t);
    const r = Math.floor(size / 2);
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        const row = (i * w + j) * t;
        for (let y = Math.max(0, i - r); y <= Math.min(h - 1, i + r); y++)
          for (let x = Math.max(0, j - r); x <= Math.min(w - 1, j + r); x++) m[row + y * w + x] = -1e9;
      }
    for (let q = 0; q < t; q++) {
      let visible = 0;
      for (let k = 0; k < t; k++) if (m[q * t + k] === 0) visible++;
      if (visible === 0) throw new UserError(`neighborMask.size=${size} hides every token of the ${h}×${w} grid; use a smaller size`);
    }
    this.values = m;
  }

  tensor(): Tensor {
    return tf.tensor2d(this.values, [this.h * this.w, this.h * this.w]);
  }
}

/** Learned absolute position embedding: column and row embeddings of D/2 dims each, concatenated (x then y). */
export class PositionEmbedding extends nn.Module {
  constructor(readonly h: number, readonly w: number, readonly dim: number, readonly kind: 'learned' | 'sine', rng: Rng) {
    super();
    if (kind === 'learned') {
      this.addParam('row_embed', rng.uniformTensor([h, dim / 2]));
      this.addParam('col_embed', rng.uniformTensor([w, dim / 2]));
    }
  }

  /** [T, D] */
  apply(): Tensor {
    if (this.kind === 'learned') {
      const row = this.namedVariables().get('row_embed')!;
      const col = this.namedVariables().get('col_embed')!;
      const x = col.expandDims(0).tile([this.h, 1, 1]); // H × W × D/2
      const y = row.expandDims(1).tile([1, this.w, 1]);
      return tf.concat([x, y], -1).reshape([this.h * this.w, this.dim]);
    }
    return tf.tensor2d(sinePositions(this.h, this.w, this.dim), [this.h * this.w, this.dim]);
  }
}

function sinePositions(h: number, w: number, dim: number): Float32Array {
  // DETR-style normalised sine embedding (posEmbed: 'sine'), y then x halves.
  const half = dim / 2, out = new Float32Array(h * w * dim), scale = 2 * Math.PI;
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      const ye = ((i + 1) / (h + 1e-6)) * scale, xe = ((j + 1) / (w + 1e-6)) * scale;
      for (let k = 0; k < half; k++) {
        const dimT = 10000 ** ((2 * Math.floor(k / 2)) / half);
        const f = k % 2 === 0 ? Math.sin : Math.cos;
        out[(i * w + j) * dim + k] = f(ye / dimT);
        out[(i * w + j) * dim + half + k] = f(xe / dimT);
      }
    }
  return out;
}

/** Sec. 3.2, Layer-wise Query: the learned query embedding of one decoder layer, [T, D] ~ N(0, 1). */
export class LayerwiseQuery extends nn.Module {
  constructor(tokens: number, dim: number, rng: Rng) {
    super();
    this.addParam('weight', rng.normalTensor([tokens, dim]));
  }
  get weight(): Tensor {
    return this.namedVariables().get('weight')!;
  }
}

/** Post-norm encoder layer: self-attention (q = k = x + pos, v = x), then FFN. */
class EncoderLayer extends nn.Module {
  attn: nn.MultiHeadAttention;
  ffn: nn.FeedForward;
  norm1: nn.LayerNorm;
  norm2: nn.LayerNorm;
  constructor(d: number, heads: number, ffn: number, readonly p: number, rng: Rng) {
    super();
    this.attn = this.addChild('self_attn', new nn.MultiHeadAttention(d, heads, p, rng));
    this.ffn = this.addChild('ffn', new nn.FeedForward(d, ffn, p, rng));
    this.norm1 = this.addChild('norm1', new nn.LayerNorm(d));
    this.norm2 = this.addChild('norm2', new nn.LayerNorm(d));
  }

  apply(x: Tensor, pos: Tensor, mask: Tensor | null, rng: Rng | null): Tensor {
    const qk = x.add(pos);
    x = this.norm1.apply(x.add(nn.dropout(this.attn.apply(qk, qk, x, mask, rng), this.p, rng)));
    return this.norm2.apply(x.add(nn.dropout(this.ffn.apply(x, rng), this.p, rng)));
  }
}

/**
 * Post-norm decoder layer, as in the official code:
 *   attention 1: query = q + pos, key = encoder output + pos, value = encoder output  (mask: decoder1)
 *   attention 2: query = ·  + pos, key = previous layer output + pos, value = previous layer output (mask: decoder2)
 *   FFN. `q` is this layer's learned query, or the previous output when the layer has none.
 */
class DecoderLayer extends nn.Module {
  attn1: nn.MultiHeadAttention;
  attn2: nn.MultiHeadAttention;
  ffn: nn.FeedForward;
  norms: nn.LayerNorm[];
  constructor(d: number, heads: number, ffn: number, readonly p: number, rng: Rng) {
    super();
    this.attn1 = this.addChild('attn1', new nn.MultiHeadAttention(d, heads, p, rng));
    this.attn2 = this.addChild('attn2', new nn.MultiHeadAttention(d, heads, p, rng));
    this.ffn = this.addChild('ffn', new nn.FeedForward(d, ffn, p, rng));
    this.norms = [1, 2, 3].map((i) => this.addChild(`norm${i}`, new nn.LayerNorm(d)));
  }

  apply(q: Tensor, memory: Tensor, prev: Tensor, pos: Tensor, mask1: Tensor | null, mask2: Tensor | null, rng: Rng | null): Tensor {
    const memK = memory.add(pos);
    let t = this.norms[0].apply(q.add(nn.dropout(this.attn1.apply(q.add(pos), memK, memory, mask1, rng), this.p, rng)));
    t = this.norms[1].apply(t.add(nn.dropout(this.attn2.apply(t.add(pos), prev.add(pos), prev, mask2, rng), this.p, rng)));
    return this.norms[2].apply(t.add(nn.dropout(this.ffn.apply(t, rng), this.p, rng)));
  }
}

export class UniAD extends nn.Module implements Reconstructor {
  readonly kind = 'trainable' as const;
  readonly tokens: number;
  readonly jitter: FeatureJitter;
  readonly inputProj: nn.Linear;
  readonly outputProj: nn.Linear;
  readonly pos: PositionEmbedding;
  readonly encoder: EncoderLayer[];
  readonly decoder: DecoderLayer[];
  readonly queries: (LayerwiseQuery | null)[];
  readonly decoderNorm: nn.LayerNorm;
  private readonly mask: Tensor | null;

  constructor(readonly cfg: UniADConfig, readonly inChannels: number, readonly grid: number, rng: Rng) {
    super();
    const d = cfg.hiddenDim;
    if (d % 2 !== 0) throw new UserError(`uniad.hiddenDim must be even (got ${d})`);
    if (d % cfg.heads !== 0) throw new UserError(`uniad.hiddenDim ${d} must be divisible by uniad.heads ${cfg.heads}`);
    this.tokens = grid * grid;
    this.jitter = new FeatureJitter(cfg.jitter.scale, cfg.jitter.prob);
    this.inputProj = this.addChild('input_proj', new nn.Linear(inChannels, d, rng));
    this.pos = this.addChild('pos_embed', new PositionEmbedding(grid, grid, d, cfg.posEmbed, rng));
    this.encoder = Array.from({ length: cfg.encoderLayers }, (_, i) =>
      this.addChild(`encoder.${i}`, new EncoderLayer(d, cfg.heads, cfg.ffnDim, cfg.dropout, rng)));
    this.decoder = Array.from({ length: cfg.decoderLayers }, (_, i) =>
      this.addChild(`decoder.${i}`, new DecoderLayer(d, cfg.heads, cfg.ffnDim, cfg.dropout, rng)));
    const shared = cfg.query === 'shared' ? this.addChild('query', new LayerwiseQuery(this.tokens, d, rng)) : null;
    this.queries = this.decoder.map((_, i) => {
      if (cfg.query === 'layerwise') return this.addChild(`decoder.${i}.query`, new LayerwiseQuery(this.tokens, d, rng));
      if (cfg.query === 'shared') return shared;
      if (cfg.query === 'first' && i === 0) return this.addChild('decoder.0.query', new LayerwiseQuery(this.tokens, d, rng));
      return null;
    });
    this.decoderNorm = this.addChild('decoder_norm', new nn.LayerNorm(d));
    this.outputProj = this.addChild('output_proj', new nn.Linear(d, inChannels, rng));
    const nm = cfg.neighborMask;
    this.mask = nm.encoder || nm.decoder1 || nm.decoder2 ? tf.keep(new NeighborMask(grid, grid, nm.size).tensor()) : null;
  }

  /** Reconstructs features [B, H, W, C]; `rng` non-null = training mode (jitter + dropout). */
  reconstruct(features: Tensor4D, rng: Rng | null): Tensor4D {
    return tf.tidy(() => {
      const [b, h, w, c] = features.shape;
      if (c !== this.inChannels || h !== this.grid || w !== this.grid)
        throw new UserError(`uniad expects features [*, ${this.grid}, ${this.grid}, ${this.inChannels}] but got [${features.shape}]`);
      let tokens = features.reshape([b, h * w, c]) as Tensor3D;
      if (rng) tokens = this.jitter.apply(tokens, rng);
      const src = this.inputProj.apply(tokens);
      const pos = this.pos.apply();
      const nm = this.cfg.neighborMask;
      let memory = src;
      for (const layer of this.encoder) memory = layer.apply(memory, pos, nm.encoder ? this.mask : null, rng);
      let out = memory;
      this.decoder.forEach((layer, i) => {
        const learned = this.queries[i]?.weight;
        const query = learned ? learned.expandDims(0).tile([b, 1, 1]) : out;
        out = layer.apply(query, memory, out, pos, nm.decoder1 ? this.mask : null, nm.decoder2 ? this.mask : null, rng);
      });
      const rec = this.outputProj.apply(this.decoderNorm.apply(out));
      return rec.reshape([b, h, w, c]) as Tensor4D;
    });
  }

  /** MSE between reconstructed and input features (Sec. 3.5). */
  loss(batch: Tensor4D, rng: Rng): Scalar {
    return tf.tidy(() => tf.losses.meanSquaredError(batch, this.reconstruct(batch, rng)) as Scalar);
  }

  /** Anomaly map: ‖f_rec − f‖₂ over channels at the feature grid ([B, H, W]); eval mode. */
  predict(batch: Tensor4D): Prediction {
    return { maps: tf.tidy(() => this.reconstruct(batch, null).sub(batch).square().sum(-1).sqrt() as Tensor3D) };
  }

  override dispose(): void {
    super.dispose();
    this.mask?.dispose();
  }
}
