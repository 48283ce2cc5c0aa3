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
    const norms = nn.l2Norm(tokens, -1, true).div(c);
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

/** Encoder: the standard post-norm layer (core `nn.TransformerEncoderLayer`) with neighbor-masked self-attention. */
const EncoderLayer = nn.TransformerEncoderLayer;

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

  /** `q` [B, T, D], or [1, T, D] for a learned query (the same for every item: attention 1 projects it once);
   * `memK` = memory + pos (the same for every layer). */
  apply(q: Tensor, memory: Tensor, memK: Tensor, prev: Tensor, pos: Tensor, mask1: Tensor | null, mask2: Tensor | null, rng: Rng | null): Tensor {
    const b = memory.shape[0]!;
    const qB = q.shape[0] === b ? q : q.tile([b, 1, 1]);
    // x = norm(x + dropout(sublayer(x))) three times (nn.residualNorm: one fused kernel where built)
    let t = nn.residualNorm(this.norms[0], qB, this.attn1.applyParts(q.add(pos), memK, memory, mask1, rng), this.p, rng);
    t = nn.residualNorm(this.norms[1], t, this.attn2.applyParts(t.add(pos), prev.add(pos), prev, mask2, rng), this.p, rng);
    return nn.residualNorm(this.norms[2], t, this.ffn.applyParts(t, rng), this.p, rng);
  }
}

export class UniAD extends nn.Module implements Reconstructor {
  readonly kind = 'trainable' as const;
  readonly tokens: number;
  readonly jitter: FeatureJitter;
  readonly inputProj: nn.Linear;
  readonly outputProj: nn.Linear;
  readonly pos: nn.GridPositionEmbedding;
  readonly encoder: nn.TransformerEncoderLayer[];
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
    this.pos = this.addChild('pos_embed', new nn.GridPositionEmbedding(grid, grid, d, cfg.posEmbed, rng));
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
      const memK = memory.add(pos);
      this.decoder.forEach((layer, i) => {
        const learned = this.queries[i]?.weight;
        const query = learned ? learned.expandDims(0) : out;
        out = layer.apply(query, memory, memK, out, pos, nm.decoder1 ? this.mask : null, nm.decoder2 ? this.mask : null, rng);
      });
      const rec = this.outputProj.apply(this.decoderNorm.apply(out));
      return rec.reshape([b, h, w, c]) as Tensor4D;
    });
  }

  /** MSE between reconstructed and input features (Sec. 3.5). */
  loss(batch: Tensor4D, rng: Rng): Scalar {
    return tf.tidy(() => nn.mseLoss(batch, this.reconstruct(batch, rng)) as Scalar);
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
