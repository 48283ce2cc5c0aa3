// unified-ad's own fused CPU kernels (packages/core/native/uad_kernels.cc), TensorFlow ops registered through
// TensorFlow's C kernel API by a small Node addon that `npm run setup` compiles against tfjs-node's libtensorflow
// (scripts/build-kernels.js). Each replaces a chain of element-wise TensorFlow kernels by one pass over memory:
// LayerNorm and its gradient (9 + 12 kernels), the masked softmax of an attention map with its dropout and their
// gradient (6 + 5), dropout by a keep mask (2), a projection's bias add and head split (2, and 2 back), an Adam / AdamW step of a group of same-shaped parameters (~20). Where the addon is not built (or UNIFIED_AD_FUSED_KERNELS=0, or the
// generic ops are forced), every caller keeps its TensorFlow composition: same results up to float rounding
// (the tests compare both), slower.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor } from '@tensorflow/tfjs-node';
import { engineInfo, tf } from './engine';
import { UserError } from './errors';
import { nativeKernels, type NativeAttr, tfTypes } from './native-op';

/** Where `npm run setup` puts the compiled addon. */
export const FUSED_ADDON = path.join(__dirname, '..', 'native', 'build', 'uad_kernels.node');
const OPS = ['UadLayerNorm', 'UadLayerNormGrad', 'UadMaskedSoftmax', 'UadMaskedSoftmaxGrad', 'UadDropout', 'UadAdamStep', 'UadSumSquares', 'UadSplitHeads', 'UadMergeHeads', 'UadKeepMask', 'UadResidualLayerNorm', 'UadResidualLayerNormGrad', 'UadBiasReluDropout', 'UadBiasReluDropoutGrad'];

type MultiBackend = { executeMultipleOutputs(name: string, attrs: NativeAttr[], inputs: Tensor[], n: number): Tensor[] };
export const run = (op: string, attrs: NativeAttr[], inputs: Tensor[], n: number): Tensor[] =>
  (tf.backend() as unknown as MultiBackend).executeMultipleOutputs(op, attrs, inputs, n);
const floatAttr = (name: string, value: number): NativeAttr => ({ name, type: tfTypes().TF_ATTR_FLOAT, value });
const intAttr = (name: string, value: number): NativeAttr => ({ name, type: tfTypes().TF_ATTR_INT, value });
const boolAttr = (name: string, value: boolean): NativeAttr => ({ name, type: tfTypes().TF_ATTR_BOOL, value });

let loaded: boolean | null = null;
let loadError = '';
/** the ops the addon registered (optional ones, e.g. UadMatMulBf16, only where its compiler targeted the CPU feature) */
let addonOps: string[] = [];
let forcedOff = false;

/** Why the fused kernels are off ('' when on). */
export function fusedOpsStatus(): string {
  fusedOps();
  return loaded ? '' : loadError;
}

/**
 * True when the fused kernels are loaded and in use: the native engine, UNIFIED_AD_FUSED_KERNELS not 0, and the
 * addon built (`npm run setup`, or `npm run setup:kernels` alone).
 */
export function fusedOps(): boolean {
  if (forcedOff || !nativeKernels()) return false;
  if (loaded === null) {
    const env = process.env.UNIFIED_AD_FUSED_KERNELS;
    if (env !== undefined && env !== '' && env !== '0' && env !== '1') throw new UserError(`UNIFIED_AD_FUSED_KERNELS must be 0 or 1, got '${env}'`);
    if (env === '0') {
      loaded = false;
      loadError = 'off (UNIFIED_AD_FUSED_KERNELS=0)';
    } else if (engineInfo.package !== '@tensorflow/tfjs-node') {
      loaded = false; // the addon is built against @tensorflow/tfjs-node's libtensorflow, not another engine's
      loadError = `built for @tensorflow/tfjs-node, the engine is ${engineInfo.package}`;
    } else if (!fs.existsSync(FUSED_ADDON)) {
      loaded = false;
      loadError = `not built (${path.relative(process.cwd(), FUSED_ADDON) || FUSED_ADDON} missing: run npm run setup:kernels)`;
    } else {
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const addon = require(FUSED_ADDON) as { ops(): string[] };
        const have = addon.ops();
        addonOps = have;
        const missing = OPS.filter((o) => !have.includes(o));
        if (missing.length) {
          loaded = false;
          loadError = `addon lacks ${missing.join(', ')} (rebuild: npm run setup:kernels)`;
        } else {
          // the ops must run in this engine's TensorFlow (a second copy of the library would not see them)
          loaded = tf.tidy(() => fusedLayerNorm(tf.tensor2d([1, 3], [1, 2]), tf.ones([2]), tf.zeros([2]), 0).dataSync()[1]! > 0.99);
          if (!loaded) loadError = 'addon loaded but its LayerNorm gave a wrong value';
        }
      } catch (e) {
        loaded = false;
        loadError = `addon failed to load: ${(e as Error).message.split('\n')[0]}`;
      }
    }
  }
  return loaded;
}

/** True when the fused kernels are in use and the addon has the optional op `name` (e.g. 'UadMatMulBf16'). */
export function fusedOpBuilt(name: string): boolean {
  return fusedOps() && addonOps.includes(name);
}

/** Turns the fused kernels off or on for this process (A/B timing, tests); returns whether they were on. */
export function setFusedOps(on: boolean): boolean {
  const old = fusedOps();
  forcedOff = !on;
  return old;
}

type Grad = (dy: Tensor, saved: Tensor[]) => Tensor[];
function custom1(forward: (x: Tensor, save: (t: Tensor[]) => void) => { value: Tensor; gradFunc: Grad }): (x: Tensor) => Tensor {
  return tf.customGrad(forward as never) as unknown as (x: Tensor) => Tensor;
}

const layerNormFns = new Map<number, (x: Tensor, g: Tensor, b: Tensor) => Tensor>();
/** LayerNorm over the last axis in one kernel, its gradient (dx, dγ, dβ) in one more. */
export function fusedLayerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
  let f = layerNormFns.get(eps);
  if (!f) {
    f = tf.customGrad(((xi: Tensor, g: Tensor, b: Tensor, save: (t: Tensor[]) => void) => {
      const [y, mean, rstd] = run('UadLayerNorm', [floatAttr('epsilon', eps)], [xi, g, b], 3);
      save([xi, mean!, rstd!, g]);
      mean!.dispose(); // (save() keeps its own references; unused when no gradient is recorded)
      rstd!.dispose();
      return {
        value: y!,
        gradFunc: (dy: Tensor, [xs, m, r, gs]: Tensor[]) => run('UadLayerNormGrad', [], [dy, xs!, m!, r!, gs!], 3),
      };
    }) as never) as unknown as (x: Tensor, g: Tensor, b: Tensor) => Tensor;
    layerNormFns.set(eps, f);
  }
  return f(x, gamma, beta);
}

let empty: { f: Tensor; i: Tensor } | null = null;
const none = () => (empty ??= { f: tf.keep(tf.zeros([0])), i: tf.keep(tf.zeros([0], 'int32')) });
/** The empty float and int32 tensors the kernels take for an absent mask / seed. */
export const emptyInputs = none;

/** Dropout in the fused kernels: the rate and the seed of its decisions. */
export interface FusedDrop {
  rate: number;
  seed: number;
}
/** The kernels' threshold (a drop is a random byte below it: rate rounded to 1/256, as effectiveDropoutRate) */
const threshold = (rate: number) => Math.round(rate * 256);
/** The kernels' seed input: two 32-bit keys from one Rng seed. */
const seedTensor = (seed: number) => tf.tensor1d([seed | 0, Math.imul(seed, 0x9e3779b1) ^ 0x5bd1e995], 'int32');

/**
 * A dropout-taking kernel's inputs: `on` (a rate that rounds to no drop is none), the threshold and 1/(1 − p) scale
 * attributes, and the seed tensor (empty without dropout); `release()` frees the seed once the op is recorded (the
 * gradient keeps its own reference through save()).
 */
export function dropInputs(drop: FusedDrop | null): { on: boolean; threshold: NativeAttr; scale: NativeAttr; seed: Tensor; release(): void } {
  const thr = drop ? threshold(drop.rate) : 0;
  const seed = thr ? seedTensor(drop!.seed) : none().i;
  return {
    on: thr > 0,
    threshold: intAttr('threshold', thr),
    scale: floatAttr('scale', thr ? 1 / (1 - thr / 256) : 1),
    seed,
    release: () => void (thr && seed.dispose()),
  };
}

/**
 * softmax(scores + mask) over the last axis, with dropout on it when `drop` is given (without its 1/(1−p), which the
 * caller applies), differentiable in `scores`. mask: additive [Tq, Tk] or null. The dropout decisions are a hash of
 * (seed, element index) computed inside the kernels — nothing is stored; the gradient recomputes them.
 */
export function fusedMaskedSoftmax(scores: Tensor, mask: Tensor | null, drop: FusedDrop | null): Tensor {
  const d = dropInputs(drop);
  const attrs = [d.threshold];
  const f = custom1((s, save) => {
    const [y, out] = run('UadMaskedSoftmax', attrs, [s, mask ?? none().f, d.seed], 2);
    save([y!, d.seed]); // the engine holds saved tensors until the backward pass
    const grad: Grad = (dy, [ys, sd]) => run('UadMaskedSoftmaxGrad', attrs, [dy, ys!, sd!], 1);
    if (d.on) return { value: out!, gradFunc: grad };
    out!.dispose();
    return { value: y!, gradFunc: grad };
  });
  const y = f(scores);
  d.release();
  return y;
}

/** Inverted dropout x · keep / (1 − rate) in one kernel, differentiable in x (the same decisions as fusedKeepMask). */
export function fusedDropout(x: Tensor, rate: number, seed: number): Tensor {
  const d = dropInputs({ rate, seed });
  if (!d.on) return x;
  const attrs = [d.threshold, d.scale];
  const f = custom1((xi, save) => {
    save([d.seed]);
    return { value: run('UadDropout', attrs, [xi, d.seed], 1)[0]!, gradFunc: (dy, [k]) => run('UadDropout', attrs, [dy, k!], 1) };
  });
  const y = f(x);
  d.release();
  return y;
}

/** The fused kernels' keep decisions for a tensor of `shape` (bool; P(keep) = 1 − rate rounded to 1/256). */
export function fusedKeepMask(shape: number[], rate: number, seed: number): Tensor {
  return tf.tidy(() => run('UadKeepMask', [intAttr('threshold', threshold(rate))], [tf.zeros(shape), seedTensor(seed)], 1)[0]!);
}

/** Σ x² over all the tensors (double accumulation), a scalar: the squared global gradient norm. */
export function fusedSumSquares(xs: Tensor[]): Tensor {
  return run('UadSumSquares', [intAttr('N', xs.length)], xs, 1)[0]!;
}

/** The constants of one Adam / AdamW step (see optim/adam.ts). */
export interface AdamStepConstants {
  b1: number;
  b2: number;
  eps: number;
  stepSize: number;
  invSqrtBc2: number;
  decay: number;
  wd: number;
  l2: boolean;
  decoupled: boolean;
  clipping: boolean;
}

/**
 * One Adam / AdamW step of a group of same-shaped parameters in one kernel: the stacked moments m, v ([N, ...shape]),
 * the N parameters and their gradients, the clip coefficient (a scalar tensor) → new m, v and parameters. The same
 * arithmetic in the same order as the composition in optim/adam.ts (bit-identical without clipping).
 */
export function fusedAdamStep(coef: Tensor, m: Tensor, v: Tensor, params: Tensor[], grads: Tensor[], c: AdamStepConstants): { m: Tensor; v: Tensor; params: Tensor[] } {
  const n = params.length;
  const attrs = [
    intAttr('N', n),
    floatAttr('b1', c.b1),
    floatAttr('one_minus_b1', 1 - c.b1),
    floatAttr('b2', c.b2),
    floatAttr('one_minus_b2', 1 - c.b2),
    floatAttr('eps', c.eps),
    floatAttr('step_size', c.stepSize),
    floatAttr('inv_sqrt_bc2', c.invSqrtBc2),
    floatAttr('decay', c.decay),
    floatAttr('wd', c.wd),
    boolAttr('l2', c.l2),
    boolAttr('decoupled', c.decoupled),
    boolAttr('clipping', c.clipping),
  ];
  const out = run('UadAdamStep', attrs, [coef, m, v, ...params, ...grads], 2 + n);
  return { m: out[0]!, v: out[1]!, params: out.slice(2) };
}

const headsAttrs = (heads: number, scale: number, sum?: boolean): NativeAttr[] =>
  [intAttr('heads', heads), floatAttr('scale', scale), ...(sum === undefined ? [] : [boolAttr('sum', sum)])];

/**
 * [B, T, H·hd] (+ bias [H·hd]) → [B, H, T, hd]: a projection's bias add and the head split (reshape + transpose) in one
 * pass; its gradient merges back and sums the bias gradient in one more. Differentiable in x and bias.
 */
export function fusedSplitHeads(x: Tensor, bias: Tensor | null, heads: number): Tensor {
  if (!bias) {
    const f = custom1((xi) => ({
      value: run('UadSplitHeads', headsAttrs(heads, 1), [xi, none().f], 1)[0]!,
      gradFunc: (dy) => {
        const [dx, colsum] = run('UadMergeHeads', headsAttrs(heads, 1, false), [dy], 2);
        colsum!.dispose();
        return [dx!];
      },
    }));
    return f(x);
  }
  const f = tf.customGrad(((xi: Tensor, b: Tensor) => ({
    value: run('UadSplitHeads', headsAttrs(heads, 1), [xi, b], 1)[0]!,
    gradFunc: (dy: Tensor) => run('UadMergeHeads', headsAttrs(heads, 1, true), [dy], 2),
  })) as never) as unknown as (a: Tensor, b: Tensor) => Tensor;
  return f(x, bias);
}

/** [B, H, T, hd] → [B, T, H·hd] times `scale` (the inverse of the head split), differentiable. */
export function fusedMergeHeads(x: Tensor, heads: number, scale = 1): Tensor {
  const f = custom1((xi) => {
    const [y, colsum] = run('UadMergeHeads', headsAttrs(heads, scale, false), [xi], 2);
    colsum!.dispose();
    return { value: y!, gradFunc: (dy) => [run('UadSplitHeads', headsAttrs(heads, scale), [dy, none().f], 1)[0]!] };
  });
  return f(x);
}

/**
 * LayerNorm(x + dropout(h + bias)) over the last axis — a post-norm transformer layer's residual — in one kernel and
 * its gradient in one more; forward bit-identical to BiasAdd, dropout (these kernels' decisions), Add and LayerNorm in
 * turn. Differentiable in x, h, bias (when given), gamma and beta.
 */
export function fusedResidualLayerNorm(x: Tensor, h: Tensor, bias: Tensor | null, gamma: Tensor, beta: Tensor, eps: number, drop: FusedDrop | null): Tensor {
  const d = dropInputs(drop);
  const attrs = [d.threshold, d.scale];
  const forward = (xi: Tensor, hi: Tensor, b: Tensor | null, g: Tensor, be: Tensor, save: (t: Tensor[]) => void) => {
    const [y, z, mean, rstd] = run('UadResidualLayerNorm', [...attrs, floatAttr('epsilon', eps)], [xi, hi, b ?? none().f, d.seed, g, be], 4);
    save([z!, mean!, rstd!, g, d.seed]);
    tf.dispose([z!, mean!, rstd!]); // (save() keeps its own references)
    return {
      value: y!,
      gradFunc: (dy: Tensor, [zs, m, r, gs, sd]: Tensor[]) => {
        const [dx, dh, dg, dbeta, dbias] = run('UadResidualLayerNormGrad', attrs, [dy, zs!, m!, r!, gs!, sd!], 5);
        if (b) return [dx!, dh!, dbias!, dg!, dbeta!];
        dbias!.dispose();
        return [dx!, dh!, dg!, dbeta!];
      },
    };
  };
  const y = bias
    ? (tf.customGrad(((xi: Tensor, hi: Tensor, b: Tensor, g: Tensor, be: Tensor, save: (t: Tensor[]) => void) => forward(xi, hi, b, g, be, save)) as never) as unknown as (...t: Tensor[]) => Tensor)(x, h, bias, gamma, beta)
    : (tf.customGrad(((xi: Tensor, hi: Tensor, g: Tensor, be: Tensor, save: (t: Tensor[]) => void) => forward(xi, hi, null, g, be, save)) as never) as unknown as (...t: Tensor[]) => Tensor)(x, h, gamma, beta);
  d.release();
  return y;
}

/** dropout(relu(h + bias)) — a feed-forward block's hidden units — in one kernel (its gradient in one more, from the
 * output alone); bit-identical to BiasAdd, Relu and dropout in turn. Differentiable in h and bias. */
export function fusedBiasReluDropout(h: Tensor, bias: Tensor, drop: FusedDrop | null): Tensor {
  const d = dropInputs(drop);
  const attrs = [d.threshold, d.scale];
  const f = tf.customGrad(((hi: Tensor, b: Tensor, save: (t: Tensor[]) => void) => {
    const y = run('UadBiasReluDropout', attrs, [hi, b, d.seed], 1)[0]!;
    save([y]);
    return { value: y, gradFunc: (dy: Tensor, [ys]: Tensor[]) => run('UadBiasReluDropoutGrad', attrs, [dy, ys!], 2) };
  }) as never) as unknown as (a: Tensor, b: Tensor) => Tensor;
  const y = f(h, bias);
  d.release();
  return y;
}
