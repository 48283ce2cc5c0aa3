// Image-CNN layers with PyTorch semantics on TensorFlow's native kernels, NHWC throughout (tfjs's native layout).
// Weights are kept in TensorFlow's layouts: Conv2d [kh, kw, in, out], ConvTranspose2d [kh, kw, out, in]; a PyTorch
// weight maps to them by permute(2, 3, 1, 0). Initialisation is PyTorch's default (kaiming_uniform(a = √5), i.e.
// U(±1/√fanIn), for weights and U(±1/√fanIn) for biases), drawn from the framework Rng.
import type { Tensor, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import { tf } from '../engine';
import type { Rng } from '../rng';
import { Module, xavierUniform } from './module';
import { boolAttr, nativeKernels, runNative, tfTypes, typeAttr } from '../native-op';

export type Pair = number | [number, number];
export type Activation = 'linear' | 'relu';

function pair(v: Pair, what: string, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min))
    throw new Error(`${what} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  return p;
}

/**
 * Kaiming/He uniform as torch.nn.init.kaiming_uniform_ (leaky_relu gain with slope `a`): U(±gain·√(3/fanIn)),
 * gain = √(2/(1+a²)). With a = √5 (PyTorch's default for conv and linear layers) the bound is 1/√fanIn.
 */
export function kaimingUniform(shape: number[], fanIn: number, rng: Rng, a = Math.sqrt(5)): Tensor {
  const bound = Math.sqrt(2 / (1 + a * a)) * Math.sqrt(3 / fanIn);
  return rng.uniformTensor(shape, -bound, bound);
}

/** PyTorch's default bias init for conv/linear layers: U(±1/√fanIn). */
function biasUniform(n: number, fanIn: number, rng: Rng): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return rng.uniformTensor([n], -bound, bound);
}

export interface Conv2dOptions {
  stride?: Pair;
  /** zeros on each side (as torch's `padding`), or 'same' (stride 1 only; for even extents the extra row/column goes at the end, as torch) */
  padding?: Pair | 'same';
  dilation?: Pair;
  bias?: boolean;
  /** 'torch' (default): kaiming_uniform(a=√5) weight, U(±1/√fanIn) bias. 'xavier': xavier-uniform weight, zero bias. */
  init?: 'torch' | 'xavier';
}

/**
 * 2-D convolution, torch.nn.Conv2d semantics on NHWC tensors. Weight [kh, kw, in, out], bias [out].
 *
 * `new Conv2d(in, out, k, rng)` (no options object) is the feature-reconstructor layer this class replaces in
 * layers.ts: 'same' padding, xavier-uniform weight, zero bias (identical weights for the same Rng).
 */
export class Conv2d extends Module {
  readonly weight: Variable;
  readonly bias: Variable | null;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly dilation: [number, number];
  /** [top, bottom, left, right] */
  readonly pads: [number, number, number, number];

  constructor(inChannels: number, outChannels: number, kernel: Pair, rng: Rng);
  constructor(inChannels: number, outChannels: number, kernel: Pair, opts: Conv2dOptions, rng: Rng);
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: Pair,
    optsOrRng: Conv2dOptions | Rng,
    maybeRng?: Rng,
  ) {
    super();
    const legacy = maybeRng === undefined;
    const opts: Conv2dOptions = legacy ? { padding: 'same', init: 'xavier' } : (optsOrRng as Conv2dOptions);
    const rng = legacy ? (optsOrRng as Rng) : maybeRng;
    this.kernel = pair(kernel, 'Conv2d kernel', 1);
    this.stride = pair(opts.stride ?? 1, 'Conv2d stride', 1);
    this.dilation = pair(opts.dilation ?? 1, 'Conv2d dilation', 1);
    const [kh, kw] = this.kernel;
    if (opts.padding === 'same') {
      if (this.stride[0] !== 1 || this.stride[1] !== 1) throw new Error(`Conv2d padding 'same' needs stride 1, got stride ${JSON.stringify(opts.stride)}`);
      const th = this.dilation[0] * (kh - 1), tw = this.dilation[1] * (kw - 1);
      this.pads = [th >> 1, th - (th >> 1), tw >> 1, tw - (tw >> 1)];
    } else {
      const [ph, pw] = pair(opts.padding ?? 0, 'Conv2d padding', 0);
      this.pads = [ph, ph, pw, pw];
    }
    const fanIn = inChannels * kh * kw;
    const shape = [kh, kw, inChannels, outChannels];
    const bias = opts.bias ?? true;
    if ((opts.init ?? 'torch') === 'xavier') {
      this.weight = this.addParam('weight', xavierUniform(shape, fanIn, outChannels * kh * kw, rng));
      this.bias = bias ? this.addParam('bias', tf.zeros([outChannels])) : null;
    } else {
      this.weight = this.addParam('weight', kaimingUniform(shape, fanIn, rng));
      this.bias = bias ? this.addParam('bias', biasUniform(outChannels, fanIn, rng)) : null;
    }
  }

  /** Output height and width for an input of h × w (torch's formula). */
  outputSize(h: number, w: number): [number, number] {
    const [pt, pb, pl, pr] = this.pads;
    const o = (n: number, p: number, k: number, d: number, s: number) => Math.floor((n + p - d * (k - 1) - 1) / s) + 1;
    return [o(h, pt + pb, this.kernel[0], this.dilation[0], this.stride[0]), o(w, pl + pr, this.kernel[1], this.dilation[1], this.stride[1])];
  }

  forward(x: Tensor4D, activation: Activation = 'linear'): Tensor4D {
    const [, h, w, c] = x.shape;
    if (c !== this.inChannels) throw new Error(`Conv2d expects ${this.inChannels} input channels, got ${c} (input [${x.shape}])`);
    const [oh, ow] = this.outputSize(h, w);
    if (oh < 1 || ow < 1) throw new Error(`Conv2d: input ${h}×${w} is smaller than the (dilated) kernel after padding`);
    const [pt, pb, pl, pr] = this.pads;
    const [dh, dw] = this.dilation;
    const filter = this.weight as unknown as Tensor4D;
    const bias = this.bias ?? undefined;
    const padded = pt + pb + pl + pr > 0;
    if (dh === 1 && dw === 1) {
      // stride 1 with (k − 1)/2 on every side is TensorFlow's 'same': one kernel, no separate pad op
      const [kh, kw] = this.kernel;
      if (this.stride[0] === 1 && this.stride[1] === 1 && kh % 2 === 1 && kw % 2 === 1 && pt === (kh - 1) / 2 && pb === pt && pl === (kw - 1) / 2 && pr === pl)
        return tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', bias, activation });
      const xp = padded ? tf.pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]]) : x;
      return tf.fused.conv2d({ x: xp, filter, strides: this.stride, pad: 'valid', bias, activation });
    }
    if (this.stride[0] === 1 && this.stride[1] === 1) {
      // atrous convolution as TensorFlow's atrous_conv2d: space-to-batch (which also pads), an ordinary conv, batch-to-space;
      // tfjs has no gradient for dilated conv2d, and this costs no more arithmetic than the dilated conv itself
      const eh = (dh - ((h + pt + pb) % dh)) % dh, ew = (dw - ((w + pl + pr) % dw)) % dw;
      const xs = tf.spaceToBatchND(x, [dh, dw], [[pt, pb + eh], [pl, pr + ew]]) as Tensor4D;
      const y = tf.fused.conv2d({ x: xs, filter, strides: 1, pad: 'valid', bias, activation });
      return tf.batchToSpaceND(y, [dh, dw], [[0, eh], [0, ew]]) as Tensor4D;
    }
    // dilation with stride: the kernel with zeros inserted between taps, strided
    const [kh, kw] = this.kernel;
    const ci = this.inChannels, co = this.outChannels;
    const dilated = filter
      .reshape([kh, 1, kw, 1, ci, co])
      .pad([[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]])
      .reshape([kh * dh, kw * dw, ci, co])
      .slice([0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]) as Tensor4D;
    const xp = padded ? tf.pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]]) : x;
    return tf.fused.conv2d({ x: xp, filter: dilated, strides: this.stride, pad: 'valid', bias, activation });
  }

  /** forward() under the name the feature-reconstructor layer used. */
  apply(x: Tensor4D, activation: Activation = 'linear'): Tensor4D {
    return this.forward(x, activation);
  }
}

export interface ConvTranspose2dOptions {
  stride?: Pair;
  padding?: Pair;
  /** extra rows/columns at the bottom/right of the output (each < stride), as torch's output_padding */
  outputPadding?: Pair;
  bias?: boolean;
}

/**
 * Transposed 2-D convolution, torch.nn.ConvTranspose2d semantics on NHWC tensors (groups 1, dilation 1).
 * Output size (H − 1)·s − 2p + k + op. Weight [kh, kw, out, in] (TensorFlow's layout for it), bias [out].
 */
export class ConvTranspose2d extends Module {
  readonly weight: Variable;
  readonly bias: Variable | null;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: Pair,
    opts: ConvTranspose2dOptions,
    rng: Rng,
  ) {
    super();
    this.kernel = pair(kernel, 'ConvTranspose2d kernel', 1);
    this.stride = pair(opts.stride ?? 1, 'ConvTranspose2d stride', 1);
    this.padding = pair(opts.padding ?? 0, 'ConvTranspose2d padding', 0);
    this.outputPadding = pair(opts.outputPadding ?? 0, 'ConvTranspose2d outputPadding', 0);
    if (this.outputPadding[0] >= this.stride[0] || this.outputPadding[1] >= this.stride[1])
      throw new Error(`ConvTranspose2d outputPadding must be smaller than stride, got outputPadding ${this.outputPadding} with stride ${this.stride}`);
    const [kh, kw] = this.kernel;
    // torch computes fan-in from its weight [in, out, kh, kw] as out·kh·kw
    const fanIn = outChannels * kh * kw;
    this.weight = this.addParam('weight', kaimingUniform([kh, kw, outChannels, inChannels], fanIn, rng));
    this.bias = (opts.bias ?? true) ? this.addParam('bias', biasUniform(outChannels, fanIn, rng)) : null;
  }

  outputSize(h: number, w: number): [number, number] {
    const o = (n: number, i: 0 | 1) => (n - 1) * this.stride[i] - 2 * this.padding[i] + this.kernel[i] + this.outputPadding[i];
    return [o(h, 0), o(w, 1)];
  }

  forward(x: Tensor4D): Tensor4D {
    const [n, h, w, c] = x.shape;
    if (c !== this.inChannels) throw new Error(`ConvTranspose2d expects ${this.inChannels} input channels, got ${c} (input [${x.shape}])`);
    const [oh, ow] = this.outputSize(h, w);
    if (oh < 1 || ow < 1) throw new Error(`ConvTranspose2d: output size ${oh}×${ow} for input ${h}×${w} is empty`);
    const [ph, pw] = this.padding;
    // the un-cropped transposed conv (plus the output padding, which only the bias reaches), then crop p on each side
    const fh = oh + 2 * ph, fw = ow + 2 * pw;
    let y = tf.conv2dTranspose(x, this.weight as unknown as Tensor4D, [n, fh, fw, this.outChannels], this.stride, 'valid');
    if (ph > 0 || pw > 0) y = y.slice([0, ph, pw, 0], [n, oh, ow, this.outChannels]);
    return this.bias ? y.add(this.bias) : y;
  }
}

export interface BatchNorm2dOptions {
  eps?: number;
  /** weight of the new batch statistics in the running ones; null: cumulative average (torch's momentum=None) */
  momentum?: number | null;
  affine?: boolean;
}

/**
 * Batch normalisation over N, H, W per channel (torch.nn.BatchNorm2d semantics, NHWC). Parameters `weight`, `bias`
 * (when affine); buffers `running_mean`, `running_var`, `num_batches_tracked` (checkpoint keys as torch's).
 * Training normalises with the batch mean and biased variance and updates the running statistics with the unbiased
 * variance; eval uses the running statistics.
 */
export class BatchNorm2d extends Module {
  readonly weight: Variable | null;
  readonly bias: Variable | null;
  readonly runningMean: Variable;
  readonly runningVar: Variable;
  readonly numBatchesTracked: Variable;
  readonly eps: number;
  readonly momentum: number | null;

  constructor(
    readonly channels: number,
    opts: BatchNorm2dOptions = {},
  ) {
    super();
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    if (!(this.eps > 0)) throw new Error(`BatchNorm2d eps must be > 0, got ${this.eps}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) throw new Error(`BatchNorm2d momentum must be in [0, 1] or null, got ${this.momentum}`);
    const affine = opts.affine ?? true;
    this.weight = affine ? this.addParam('weight', tf.ones([channels])) : null;
    this.bias = affine ? this.addParam('bias', tf.zeros([channels])) : null;
    this.runningMean = this.addBuffer('running_mean', tf.zeros([channels]));
    this.runningVar = this.addBuffer('running_var', tf.ones([channels]));
    this.numBatchesTracked = this.addBuffer('num_batches_tracked', tf.scalar(0));
  }

  forward(x: Tensor4D, training: boolean): Tensor4D {
    const [n, h, w, c] = x.shape;
    if (c !== this.channels) throw new Error(`BatchNorm2d expects ${this.channels} channels, got ${c} (input [${x.shape}])`);
    if (!training) {
      // y = x·s + (β − μ·s), s = γ / √(σ² + ε): two per-channel vectors, one pass over x
      const scale = tf.rsqrt(this.runningVar.add(this.eps));
      const s = this.weight ? scale.mul(this.weight) : scale;
      const shift = this.bias ? this.bias.sub(this.runningMean.mul(s)) : this.runningMean.mul(s).neg();
      return x.mul(s).add(shift);
    }
    const count = n * h * w;
    if (count < 2) throw new Error(`BatchNorm2d needs more than one value per channel when training, got input [${x.shape}]`);
    return batchNormTrain(x, this.weight, this.bias, this.eps, (mean, variance) => {
      // torch: running ← (1 − f)·running + f·batch, f = momentum (or 1/num_batches_tracked), unbiased batch variance
      const nbt = this.numBatchesTracked.add(1);
      const f = this.momentum === null ? tf.scalar(1).div(nbt) : tf.scalar(this.momentum);
      const keep = tf.scalar(1).sub(f);
      this.runningMean.assign(mean.mul(f).add(this.runningMean.mul(keep)));
      this.runningVar.assign(variance.mul(f.mul(count / (count - 1))).add(this.runningVar.mul(keep)));
      this.numBatchesTracked.assign(nbt);
    });
  }
}

/**
 * Training-mode batch norm with a hand-written backward pass over the batch statistics:
 * dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = dy·γ, dγ = Σ dy·x̂, dβ = Σ dy (sums and means over N, H, W).
 * `update(mean, biasedVar)` runs once per call, inside a tidy and off the gradient tape.
 */
function batchNormTrain(x: Tensor4D, gamma: Tensor | null, beta: Tensor | null, eps: number, update: (mean: Tensor, variance: Tensor) => void): Tensor4D {
  const affine = gamma !== null && beta !== null;
  const f = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as (t: Tensor[]) => void;
    const [xi, g, b] = args as Tensor[];
    const mean = xi!.mean([0, 1, 2]);
    const xc = xi!.sub(mean);
    const variance = xc.square().mean([0, 1, 2]);
    const rstd = tf.rsqrt(variance.add(eps));
    const xhat = xc.mul(rstd);
    tf.tidy(() => update(mean, variance));
    save(affine ? [xhat, rstd, g!] : [xhat, rstd]);
    return {
      value: affine ? xhat.mul(g!).add(b!) : xhat,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [xh, rs, g2] = saved;
        const dxhat = affine ? dy.mul(g2!) : dy;
        const dx = rs!.mul(dxhat.sub(dxhat.mean([0, 1, 2])).sub(xh!.mul(dxhat.mul(xh!).mean([0, 1, 2]))));
        return affine ? [dx, dy.mul(xh!).sum([0, 1, 2]), dy.sum([0, 1, 2])] : [dx];
      },
    };
  }) as never) as unknown as (...t: Tensor[]) => Tensor;
  return (affine ? f(x, gamma, beta) : f(x)) as Tensor4D;
}

function pads2(padding: Pair, kernel: [number, number], what: string): [number, number] {
  const p = pair(padding, `${what} padding`, 0);
  if (p[0] * 2 > kernel[0] || p[1] * 2 > kernel[1]) throw new Error(`${what} padding must be at most half the kernel, got padding ${p} for kernel ${kernel}`);
  return p;
}

/** torch F.max_pool2d (ceil_mode false): padding counts as −∞, at most half the kernel. */
export function maxPool2d(x: Tensor4D, kernel: Pair, stride: Pair = kernel, padding: Pair = 0): Tensor4D {
  const k = pair(kernel, 'maxPool2d kernel', 1), s = pair(stride, 'maxPool2d stride', 1);
  const [ph, pw] = pads2(padding, k, 'maxPool2d');
  const xp = ph + pw > 0 ? tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]], -Infinity) : x;
  return tf.maxPool(xp, k, s, 'valid');
}

/**
 * torch F.avg_pool2d (ceil_mode false): zero padding, at most half the kernel; with countIncludePad (torch's default)
 * every window is divided by kh·kw, otherwise by the number of its elements inside the input.
 */
export function avgPool2d(x: Tensor4D, kernel: Pair, stride: Pair = kernel, padding: Pair = 0, countIncludePad = true): Tensor4D {
  const k = pair(kernel, 'avgPool2d kernel', 1), s = pair(stride, 'avgPool2d stride', 1);
  const [ph, pw] = pads2(padding, k, 'avgPool2d');
  if (ph + pw === 0) return tf.avgPool(x, k, s, 'valid');
  const p: [number, number][] = [[0, 0], [ph, ph], [pw, pw], [0, 0]];
  const y = tf.avgPool(tf.pad(x, p), k, s, 'valid');
  if (countIncludePad) return y;
  // fraction of each window inside the input (a constant: no gradient flows through it)
  const frac = tf.tidy(() => tf.avgPool(tf.pad(tf.ones([1, x.shape[1], x.shape[2], 1]), p) as Tensor4D, k, s, 'valid'));
  const out = y.div(frac) as Tensor4D;
  frac.dispose();
  return out;
}

/**
 * torch F.interpolate(mode='bilinear', size, align_corners) (no antialiasing), for up- and downsampling.
 * torch's align_corners=False is TensorFlow's half-pixel centres. tfjs drops half_pixel_centers from the gradient
 * kernel, so that mode gets its own gradient (TensorFlow's ResizeBilinearGrad with the flag, on the native engine; a
 * gather-and-lerp formulation elsewhere or with UNIFIED_AD_GENERIC_OPS=1).
 */
export function upsampleBilinear(x: Tensor4D, size: [number, number], alignCorners = false): Tensor4D {
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && v >= 1))
    throw new Error(`upsampleBilinear size must be two positive integers, got ${JSON.stringify(size)}`);
  if (!nativeKernels()) return resizeBilinearGeneric(x, size, alignCorners);
  if (alignCorners) return tf.image.resizeBilinear(x, size, true, false);
  return halfPixelResize(size)(x) as Tensor4D;
}

function halfPixelResize(size: [number, number]): (x: Tensor) => Tensor {
  return tf.customGrad(((x: Tensor, save: (t: Tensor[]) => void) => {
    save([x]);
    return {
      value: tf.image.resizeBilinear(x as Tensor4D, size, false, true),
      gradFunc: (dy: Tensor, [images]: Tensor[]) =>
        runNative('ResizeBilinearGrad', [typeAttr('T', tfTypes().TF_FLOAT), boolAttr('align_corners', false), boolAttr('half_pixel_centers', true)], [dy, images!]),
    };
  }) as never) as unknown as (x: Tensor) => Tensor;
}

/** Source indices and weights of one axis: out[i] = (1 − w)·in[i0] + w·in[i1] (torch's upsample_bilinear2d). */
function lerpTable(n: number, m: number, alignCorners: boolean): { i0: number[]; i1: number[]; w: number[] } {
  const i0: number[] = [], i1: number[] = [], w: number[] = [];
  for (let i = 0; i < m; i++) {
    const src = alignCorners ? (m > 1 ? (i * (n - 1)) / (m - 1) : 0) : Math.max(((i + 0.5) * n) / m - 0.5, 0);
    const lo = Math.min(Math.floor(src), n - 1);
    i0.push(lo);
    i1.push(Math.min(lo + 1, n - 1));
    w.push(src - lo);
  }
  return { i0, i1, w };
}

function resizeBilinearGeneric(x: Tensor4D, [h, w]: [number, number], alignCorners: boolean): Tensor4D {
  const lerpAxis = (t: Tensor, axis: 1 | 2, n: number, m: number): Tensor => {
    const tab = lerpTable(n, m, alignCorners);
    const a = tf.gather(t, tf.tensor1d(tab.i0, 'int32'), axis);
    const b = tf.gather(t, tf.tensor1d(tab.i1, 'int32'), axis);
    const wt = tf.tensor(tab.w, axis === 1 ? [1, m, 1, 1] : [1, 1, m, 1]);
    return a.add(b.sub(a).mul(wt));
  };
  return lerpAxis(lerpAxis(x, 1, x.shape[1], h), 2, x.shape[2], w) as Tensor4D;
}

/** max(x, slope·x), torch F.leaky_relu (default slope 0.01). */
export function leakyRelu<T extends Tensor>(x: T, slope = 0.01): T {
  return tf.leakyRelu(x, slope);
}
