// Patch SVDD (Yi & Yoon, ACCV 2020), after the official nuclearboy95/Anomaly-Detection-PatchSVDD-PyTorch:
// a hierarchical encoder trained from scratch with self-supervised position classification (which of 8
// neighbours a second patch came from) at K = 64 and K = 32 plus λ·SVDD' (L2 between embeddings of nearby
// patches). Test: every patch's distance to its nearest training patch (K = 64 at stride 16, K = 32 at stride 4),
// spread back over the pixels it covers (mean of the covering patches), the two maps multiplied; image score = max.
//
// The encoder has no padding, so it is evaluated densely (fully convolutionally): EncoderDeep on a whole image gives
// the K = 32 embedding of every patch at even offsets, and the hierarchical head — a 2×2 convolution over the four
// 32-px sub-patch embeddings — is the same 2×2 convolution dilated by 16 cells on that dense map. Per-patch and dense
// embeddings are identical (test/psvdd.test.ts).
import { z } from 'zod';
import type { Scalar, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import {
  tf, nn, registerModel, fitGradient, fitReport, needImages, variablesState, loadVariablesState, UserError,
  Rng, type Batch, type FitContext, type FitData, type FitReport, type Method, type MethodPrediction, type MethodState, type ModelContext,
} from '@unified-ad/core';
import { nearestDistance, rowNormsSquared } from '@unified-ad/components';
import { checkImages, fixedVariable } from '../common';

export const PsvddConfigSchema = z
  .object({
    /** image side (Patch SVDD: 256) */
    size: z.number().int().min(64).default(256),
    /** embedding dimension D (64) */
    D: z.number().int().positive().default(64),
    /** channel multiplier of the 8-conv encoder (1 = the official 32-64-128-128-64-32-32 channels) */
    width: z.number().positive().default(1),
    /** λ of SVDD' (the README example: 1e-3; main_train.py's default: 1) */
    lambda: z.number().min(0).default(1e-3),
    /** test-time strides of the K = 64 and K = 32 patch grids (16 and 4); must be even */
    stride64: z.number().int().positive().default(16),
    stride32: z.number().int().positive().default(4),
    /** memory bank per K: at most this many training patches, drawn at random (seeded) without replacement; null = all */
    bankSize: z.number().int().positive().nullable().default(null),
    /** images per batch of the dense embedding pass */
    embedBatch: z.number().int().positive().default(8),
  })
  .strict();
export type PsvddConfig = z.infer<typeof PsvddConfigSchema>;

/** Neighbour index → (row, column) direction, as pos_to_diff of the official datasets.py. */
export const POS_TO_DIFF: readonly [number, number][] = [[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]];

/** generate_coords_position: patch 1 uniform, patch 2 in direction `pos` at 3K/4 + U{0..K/4−1} per axis, clipped. */
export function positionPair(H: number, W: number, K: number, rng: Rng): { p1: [number, number]; p2: [number, number]; pos: number } {
  const h1 = rng.int(H - K + 1), w1 = rng.int(W - K + 1);
  const pos = rng.int(8);
  const J = Math.floor(K / 4), K34 = Math.floor((3 * K) / 4);
  const [hd, wd] = POS_TO_DIFF[pos];
  const hDel = rng.int(J), wDel = rng.int(J);
  const h2 = Math.min(Math.max(h1 + hd * (hDel + K34), 0), H - K), w2 = Math.min(Math.max(w1 + wd * (wDel + K34), 0), W - K);
  return { p1: [h1, w1], p2: [h2, w2], pos };
}

/** generate_coords_svdd: patch 2 jittered by U{−J..J}² \ (0, 0), J = K/32, clipped. */
export function svddPair(H: number, W: number, K: number, rng: Rng): { p1: [number, number]; p2: [number, number] } {
  const h1 = rng.int(H - K + 1), w1 = rng.int(W - K + 1);
  const J = Math.floor(K / 32);
  let hj = 0, wj = 0;
  while (hj === 0 && wj === 0) { hj = rng.int(2 * J + 1) - J; wj = rng.int(2 * J + 1) - J; }
  return { p1: [h1, w1], p2: [Math.min(Math.max(h1 + hj, 0), H - K), Math.min(Math.max(w1 + wj, 0), W - K)] };
}

/** Crops [K, K] patches at (h, w) of images[b] exactly (nearest sampling at integer pixel positions). */
export function cropPatches(images: Tensor4D, coords: { b: number; h: number; w: number }[], K: number): Tensor4D {
  const [, H, W] = images.shape;
  const boxes = coords.map(({ h, w }) => [h / (H - 1), w / (W - 1), (h + K - 1) / (H - 1), (w + K - 1) / (W - 1)]);
  return tf.image.cropAndResize(images, tf.tensor2d(boxes.flat(), [coords.length, 4]), tf.tensor1d(coords.map((c) => c.b), 'int32'), [K, K], 'nearest') as Tensor4D;
}

class Dense extends nn.Module {
  readonly weight: Variable;
  readonly bias: Variable;
  constructor(inF: number, outF: number, rng: Rng, trainableWeight = true) {
    super();
    const w = nn.kaimingUniform([inF, outF], inF, rng);
    const b = rng.uniformTensor([outF], -1 / Math.sqrt(inF), 1 / Math.sqrt(inF));
    // NormalizedLinear's weight is used under torch.no_grad() (never trained): a buffer here
    this.weight = trainableWeight ? this.addParam('weight', w) : this.addBuffer('weight', w);
    this.bias = this.addParam('bias', b);
  }
  forward(x: Tensor2D, normalized = false): Tensor2D {
    // NormalizedLinear: W / ‖W‖ over the output axis (torch dim 0 of [out, in] = axis 1 of [in, out] here)
    const w = normalized ? tf.div(this.weight, tf.norm(this.weight, 2, 1, true)) : this.weight;
    return tf.add(tf.matMul(x, w), this.bias) as Tensor2D;
  }
}

/** PositionClassifier: (h1 − h2) → fc 128 → LReLU(0.1) → fc 128 → LReLU(0.1) → NormalizedLinear 8. */
class PositionClassifier extends nn.Module {
  private readonly fc1: Dense;
  private readonly fc2: Dense;
  private readonly fc3: Dense;
  constructor(D: number, rng: Rng) {
    super();
    this.fc1 = this.addChild('fc1', new Dense(D, 128, rng));
    this.fc2 = this.addChild('fc2', new Dense(128, 128, rng));
    this.fc3 = this.addChild('fc3', new Dense(128, 8, rng, false));
  }
  forward(h1: Tensor2D, h2: Tensor2D): Tensor2D {
    const h = nn.leakyRelu(this.fc1.forward(tf.sub(h1, h2) as Tensor2D), 0.1);
    return this.fc3.forward(nn.leakyRelu(this.fc2.forward(h), 0.1), true);
  }
}

/** EncoderHier(64) with its EncoderDeep(32), plus the two position classifiers. */
export class PsvddNet extends nn.Module {
  private readonly deep: nn.Conv2d[];
  private readonly hier1: nn.Conv2d;
  private readonly hier2: nn.Conv2d;
  readonly cls64: PositionClassifier;
  readonly cls32: PositionClassifier;

  constructor(readonly D: number, width: number, rng: Rng) {
    super();
    const c = (n: number) => Math.max(1, Math.round(n * width));
    const chans = [3, c(32), c(64), c(128), c(128), c(64), c(32), c(32), D];
    this.deep = chans.slice(1).map((out, i) => this.addChild(`enc.conv${i + 1}`, new nn.Conv2d(chans[i], out, 3, { stride: i === 0 ? 2 : 1 }, rng)));
    // forward_hier concatenates the four 1×1 embeddings into a 2×2 map; conv k2 over it = dilation 16 on the dense stride-2 map
    this.hier1 = this.addChild('conv1', new nn.Conv2d(D, 128, 2, { dilation: 16 }, rng));
    this.hier2 = this.addChild('conv2', new nn.Conv2d(128, D, 1, {}, rng));
    this.cls64 = this.addChild('cls64', new PositionClassifier(D, rng));
    this.cls32 = this.addChild('cls32', new PositionClassifier(D, rng));
  }

  /** EncoderDeep densely: [N, S, S, 3] → [N, o, o, D], cell i = the 32-px patch at pixel 2i (o = ⌊(S−3)/2⌋ − 13). */
  encode32(x: Tensor4D): Tensor4D {
    let h = x;
    this.deep.forEach((conv, i) => {
      h = conv.forward(h);
      h = i < this.deep.length - 1 ? nn.leakyRelu(h, 0.1) : (tf.tanh(h) as Tensor4D);
    });
    return h;
  }

  /** EncoderHier(64) densely: cell i = the 64-px patch at pixel 2i. */
  encode64(x: Tensor4D): Tensor4D {
    return this.hierHead(this.encode32(x));
  }

  hierHead(e32: Tensor4D): Tensor4D {
    return tf.tanh(this.hier2.forward(nn.leakyRelu(this.hier1.forward(e32), 0.1))) as Tensor4D;
  }
}

/** forward_hier per patch, literally: four 32-px quadrants through EncoderDeep, concatenated 2×2, hier convs. */
export function encode64PerPatch(net: PsvddNet, patches: Tensor4D): Tensor4D {
  return tf.tidy(() => {
    const n = patches.shape[0];
    const q = (r: number, c: number) => tf.slice(patches, [0, r * 32, c * 32, 0], [n, 32, 32, 3]);
    const e = [q(0, 0), q(0, 1), q(1, 0), q(1, 1)].map((p) => net.encode32(p as Tensor4D)); // [n,1,1,D] each
    const grid = tf.concat([tf.concat([e[0], e[1]], 2), tf.concat([e[2], e[3]], 2)], 1) as Tensor4D; // [n,2,2,D]
    // the same weights applied without dilation on the 2×2 map
    const w = net.namedVariables();
    const h = tf.conv2d(grid, w.get('conv1.weight')! as unknown as Tensor4D, 1, 'valid').add(w.get('conv1.bias')!);
    const h2 = tf.conv2d(nn.leakyRelu(h as Tensor4D, 0.1), w.get('conv2.weight')! as unknown as Tensor4D, 1, 'valid').add(w.get('conv2.bias')!);
    return tf.tanh(h2) as Tensor4D;
  });
}

/** distribute_score: each pixel = mean of the scores of the K×K patches (stride S) covering it, 0 where none. [N,H,W] */
export function distributeScores(scores: Tensor3D, outSize: number, K: number, S: number): Tensor3D {
  return tf.tidy(() => {
    const [n, I, J] = scores.shape;
    const ones = tf.ones([K, K, 1, 1]) as Tensor4D;
    const full = [(I - 1) * S + K, (J - 1) * S + K];
    const sum = tf.conv2dTranspose(tf.reshape(scores, [n, I, J, 1]) as Tensor4D, ones, [n, full[0], full[1], 1], S, 'valid');
    const cnt = tf.conv2dTranspose(tf.ones([1, I, J, 1]) as Tensor4D, ones, [1, full[0], full[1], 1], S, 'valid');
    const pad = (t: Tensor4D) => tf.pad(t, [[0, 0], [0, outSize - full[0]], [0, outSize - full[1]], [0, 0]]) as Tensor4D;
    const c = pad(cnt);
    return tf.reshape(tf.div(pad(sum), tf.maximum(c, 1)), [n, outSize, outSize]) as Tensor3D;
  });
}

/** Subsamples a dense stride-2 grid at pixel stride S (S even): cells 0, S/2, 2·S/2, … */
function subsample(e: Tensor4D, S: number): Tensor4D {
  const step = S / 2;
  return tf.stridedSlice(e, [0, 0, 0, 0], [e.shape[0], e.shape[1], e.shape[2], e.shape[3]], [1, step, step, 1]) as Tensor4D;
}

export class PatchSvdd implements Method {
  readonly net: PsvddNet;
  /** per-channel mean of the training images (0..255), subtracted before /255 (get_x_standardized) */
  readonly mean: Variable;
  private banks: { k64: Tensor2D; k32: Tensor2D; n64: Tensor2D; n32: Tensor2D } | null = null;

  private readonly bankSeed: number;

  constructor(readonly config: PsvddConfig, rng: Rng) {
    for (const [k, v] of [['stride64', config.stride64], ['stride32', config.stride32]] as const)
      if (v % 2) throw new UserError(`psvdd: model.config.${k} must be even (the dense grid has stride 2), got ${v}`);
    this.net = new PsvddNet(config.D, config.width, rng);
    this.mean = fixedVariable(tf.zeros([3]));
    this.bankSeed = rng.int(2 ** 31);
  }

  private standardize(images: Tensor4D): Tensor4D {
    checkImages('psvdd', images, this.config.size);
    return tf.div(tf.sub(images, this.mean), 255) as Tensor4D;
  }

  /** Loss of one batch of images: pos64 + pos32 + λ(svdd64 + svdd32), one pair of each kind per image. */
  loss(batch: Batch, rng: Rng): Scalar {
    return tf.tidy(() => {
      const x = this.standardize(needImages(batch, 'psvdd'));
      const [n, H, W] = x.shape;
      const pos = (K: number) => {
        const pairs = Array.from({ length: n }, (_, b) => ({ b, ...positionPair(H, W, K, rng) }));
        const perturb = (p: Tensor4D) => tf.add(tf.add(p, rng.normalTensor([n, 1, 1, 3], 0, 0.02)), rng.normalTensor([n, K, K, 3], 0, 0.02)) as Tensor4D;
        const a = perturb(cropPatches(x, pairs.map((p) => ({ b: p.b, h: p.p1[0], w: p.p1[1] })), K));
        const b = perturb(cropPatches(x, pairs.map((p) => ({ b: p.b, h: p.p2[0], w: p.p2[1] })), K));
        const enc = (t: Tensor4D) => tf.reshape(K === 64 ? this.net.encode64(t) : this.net.encode32(t), [n, this.config.D]) as Tensor2D;
        const logits = (K === 64 ? this.net.cls64 : this.net.cls32).forward(enc(a), enc(b));
        const labels = tf.oneHot(tf.tensor1d(pairs.map((p) => p.pos), 'int32'), 8);
        return tf.losses.softmaxCrossEntropy(labels, logits);
      };
      const svdd = (K: number) => {
        const pairs = Array.from({ length: n }, (_, b) => ({ b, ...svddPair(H, W, K, rng) }));
        const enc = (t: Tensor4D) => tf.reshape(K === 64 ? this.net.encode64(t) : this.net.encode32(t), [n, this.config.D]);
        const a = enc(cropPatches(x, pairs.map((p) => ({ b: p.b, h: p.p1[0], w: p.p1[1] })), K));
        const b = enc(cropPatches(x, pairs.map((p) => ({ b: p.b, h: p.p2[0], w: p.p2[1] })), K));
        // ‖h1 − h2‖ (torch's norm has gradient 0 at 0; tf.norm's is NaN: ε inside the root)
        return tf.mean(tf.sqrt(tf.add(tf.sum(tf.square(tf.sub(a, b)), 1), 1e-12)));
      };
      return tf.addN([pos(64), pos(32), tf.mul(tf.add(svdd(64), svdd(32)), this.config.lambda)]) as Scalar;
    });
  }

  /** Dense test-time embeddings: K64 at stride64 [N, I64, I64, D] and K32 at stride32 [N, I32, I32, D]. */
  embed(images: Tensor4D): { e64: Tensor4D; e32: Tensor4D } {
    return tf.tidy(() => {
      const e32dense = this.net.encode32(this.standardize(images));
      return { e64: subsample(this.net.hierHead(e32dense), this.config.stride64), e32: subsample(e32dense, this.config.stride32) };
    });
  }

  async fit(data: FitData, ctx: FitContext): Promise<FitReport> {
    const n = data.samples.length;
    // per-channel mean of the training images
    const sum = new Float64Array(3);
    for (let i = 0; i < n; i++) {
      const im = data.image(i);
      for (let j = 0; j < im.length; j++) sum[j % 3] += im[j];
    }
    const px = (n * this.config.size * this.config.size) || 1;
    tf.tidy(() => this.mean.assign(tf.tensor1d(Array.from(sum, (s) => s / px))));
    // periodic evaluation (the official evaluates after every epoch) needs the banks of the encoder as it is then
    const evaluate = ctx.evaluate;
    const inner: FitContext = evaluate ? { ...ctx, evaluate: async (epoch) => { this.buildBanks(data); return evaluate(epoch); } } : ctx;
    const report = fitReport(await fitGradient({ net: this.net, loss: (b, rng) => this.loss(b, rng), data, ctx: inner }));
    this.buildBanks(data);
    return report;
  }

  /** A training checkpoint's encoder (the image mean is the one fit computed), then the memory banks under it. */
  async loadTrainingCheckpoint(checkpoint: MethodState, source: string, data: FitData): Promise<void> {
    loadVariablesState(checkpoint, source, this.net.namedVariables(), this.net.namedBuffers());
    this.buildBanks(data);
  }

  /** Memory banks of every training patch embedding (or a seeded random subset of bankSize per K). */
  private buildBanks(data: FitData): void {
    this.disposeBanks();
    const p64: Tensor2D[] = [], p32: Tensor2D[] = [];
    const n = data.samples.length, bs = this.config.embedBatch;
    for (let i0 = 0; i0 < n; i0 += bs) {
      const idx = Array.from({ length: Math.min(bs, n - i0) }, (_, k) => i0 + k);
      const [a, b] = tf.tidy(() => {
        const { e64, e32 } = this.embed(needImages(data.batch(idx), 'psvdd'));
        return [tf.reshape(e64, [-1, this.config.D]) as Tensor2D, tf.reshape(e32, [-1, this.config.D]) as Tensor2D];
      });
      p64.push(a); p32.push(b);
    }
    // a generator of its own per bank build: the same draw however often the banks were built before (evaluation, resume)
    const rng = new Rng(this.bankSeed);
    const pick = (parts: Tensor2D[]) => {
      const all = tf.concat(parts, 0) as Tensor2D;
      tf.dispose(parts);
      const m = all.shape[0], size = this.config.bankSize;
      if (size === null || size >= m) return all;
      const idx = rng.permutation(m).slice(0, size).sort((x, y) => x - y);
      const sub = tf.tidy(() => tf.gather(all, tf.tensor1d(idx, 'int32')) as Tensor2D);
      all.dispose();
      return sub;
    };
    const k64 = pick(p64), k32 = pick(p32);
    this.banks = { k64, k32, n64: rowNormsSquared(k64), n32: rowNormsSquared(k32) };
  }

  private disposeBanks(): void {
    if (this.banks) tf.dispose([this.banks.k64, this.banks.k32, this.banks.n64, this.banks.n32]);
    this.banks = null;
  }

  /** Bank sizes (after subsampling). */
  bankSizes(): { k64: number; k32: number } {
    return { k64: this.banks?.k64.shape[0] ?? 0, k32: this.banks?.k32.shape[0] ?? 0 };
  }

  /** Each test patch's distance to its nearest bank patch: K64 grid [N, I64, I64] and K32 grid [N, I32, I32]. */
  patchScores(images: Tensor4D): { s64: Tensor3D; s32: Tensor3D } {
    if (!this.banks) throw new UserError('psvdd: predict before fit (no memory bank; fit or load a state first)');
    const banks = this.banks;
    return tf.tidy(() => {
      const { e64, e32 } = this.embed(images);
      const nnMap = (e: Tensor4D, bank: Tensor2D, norms: Tensor2D) => {
        const [n, I, J, D] = e.shape;
        const { distance, index } = nearestDistance(tf.reshape(e, [-1, D]) as Tensor2D, bank, norms);
        index.dispose();
        return tf.reshape(distance as Tensor1D, [n, I, J]) as Tensor3D;
      };
      return { s64: nnMap(e64, banks.k64, banks.n64), s32: nnMap(e32, banks.k32, banks.n32) };
    });
  }

  /** The memory banks (K64, K32) as stored. */
  bankTensors(): { k64: Tensor2D; k32: Tensor2D } | null {
    return this.banks ? { k64: this.banks.k64, k32: this.banks.k32 } : null;
  }

  predict(batch: Batch): MethodPrediction {
    const images = needImages(batch, 'psvdd');
    checkImages('psvdd', images, this.config.size);
    return tf.tidy(() => {
      const S = this.config.size;
      const { s64, s32 } = this.patchScores(images);
      const m64 = distributeScores(s64, S, 64, this.config.stride64);
      const m32 = distributeScores(s32, S, 32, this.config.stride32);
      const maps = tf.mul(m64, m32) as Tensor3D;
      return { maps, scores: tf.max(maps, [1, 2]) as Tensor1D };
    });
  }

  state(): MethodState {
    const st = variablesState(this.net.namedVariables(), new Map([...this.net.namedBuffers(), ['image_mean', this.mean]]), { method: 'psvdd' });
    if (this.banks) {
      for (const [name, t] of [['bank/k64', this.banks.k64], ['bank/k32', this.banks.k32]] as const)
        st.tensors.push({ name, shape: t.shape, data: t.dataSync() as Float32Array });
    }
    return st;
  }

  loadState(state: MethodState, source: string): void {
    loadVariablesState(state, source, this.net.namedVariables(), new Map([...this.net.namedBuffers(), ['image_mean', this.mean]]));
    const get = (name: string) => {
      const t = state.tensors.find((x) => x.name === name);
      if (!t) throw new UserError(`${source}: has no tensor '${name}' (a psvdd state saved before fit?)`);
      if (t.shape.length !== 2 || t.shape[1] !== this.config.D) throw new UserError(`${source}: '${name}' has shape [${t.shape}], expected [M, ${this.config.D}]`);
      return tf.tensor2d(t.data, t.shape as [number, number]);
    };
    const k64 = get('bank/k64'), k32 = get('bank/k32');
    this.disposeBanks();
    this.banks = { k64, k32, n64: rowNormsSquared(k64), n32: rowNormsSquared(k32) };
  }

  parameterCount(): number {
    return this.net.parameterCount();
  }

  dispose(): void {
    this.disposeBanks();
    this.net.dispose();
    this.mean.dispose();
  }
}

registerModel<PsvddConfig>({
  name: 'psvdd',
  description: 'Patch SVDD: hierarchical patch encoder (position classification + SVDD\'), nearest-training-patch distance maps at K 64 × 32',
  family: 'self-supervised',
  paperName: 'PSVDD',
  configSchema: PsvddConfigSchema as never,
  inputs: (cfg) => ({ images: { size: cfg.size } }),
  defaults: { train: { lr: 1e-4, clipNorm: null, optimizer: { name: 'adam' }, schedule: { kind: 'constant' } }, eval: { imageScore: { kind: 'max' }, blurSigma: 0 } },
  smoke: { model: { size: 72, D: 8, width: 0.125, stride64: 8, stride32: 8, bankSize: 200 } },
  create: (cfg: PsvddConfig, ctx: ModelContext) => new PatchSvdd(cfg, ctx.rng),
});
