// Fused building blocks on TensorFlow's own kernels. tfjs composes a biased linear layer, its ReLU gradient and
// softmax out of generic broadcasting ops (a bias add is a broadcast Add, a bias gradient a Sum, a ReLU gradient
// Greater + Fill + Select); the native engine has one kernel for each (MatMul, BiasAdd, BiasAddGrad, ReluGrad,
// oneDNN's softmax), which a reconstruction transformer calls hundreds of times per step. Each function here has
// the generic tfjs composition as its fallback on other backends, and the tests check both agree in value and
// gradient. Set UNIFIED_AD_GENERIC_OPS=1 to force the generic path (to compare or to debug).
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-node';
import { engineInfo, tf } from '../engine';
import { UserError } from '../errors';
import { custom, type Custom, type Grad } from './custom-grad';
import { bf16Gemm, bf16GemmStatus, linearBf16 } from './bf16-matmul';
import { TF_BFLOAT16, boolAttr, castNative, fusedMatMulAttrs, listAttrs, nativeKernels, probeOnce, runNative, stringAttr, tfTypes, typeAttr } from '../native-op';

const T = () => typeAttr('T', tfTypes().TF_FLOAT);
const NHWC = () => stringAttr('data_format', 'NHWC');

/** True when the process runs oneDNN in math mode bf16 (UNIFIED_AD_FPMATH=bf16, read by engine.ts at start-up). */
const bf16Math = (): boolean => engineInfo.fpmath === 'bf16';

/**
 * a·b with optional transposes, no reshapes to a batch of one. TF's 2-D MatMul runs oneDNN's sgemm, which ignores
 * the math mode; in math mode bf16 the same product goes through BatchMatMulV2 (oneDNN's matmul primitive, which
 * honours it: AMX bf16 on a CPU that has it, e.g. 0.41 against 0.92 ms at [1568, 256]·[256, 256]).
 */
function matMul2d(a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor {
  if (bf16Math()) return runNative('BatchMatMulV2', [boolAttr('adj_x', ta), boolAttr('adj_y', tb), T()], [a, b]);
  return runNative('MatMul', [boolAttr('transpose_a', ta), boolAttr('transpose_b', tb), T()], [a, b]);
}

/** Precision of the linear layers' matrix products: 'fp32', or 'bf16' (inputs rounded to bfloat16, products on
 * oneDNN's bf16 kernels — AMX / AVX512-BF16 where the CPU has them — results and everything else in float32). */
export type MatmulPrecision = 'fp32' | 'bf16';
/** null until first asked: then UNIFIED_AD_MATMUL (unset = fp32), so a bad value fails with a one-line error, not at import */
let precision: MatmulPrecision | null = null;
export function envPrecision(): MatmulPrecision {
  const v = process.env.UNIFIED_AD_MATMUL;
  if (v === undefined || v === '' || v === 'fp32' || v === 'bf16') return v === 'bf16' ? 'bf16' : 'fp32';
  throw new UserError(`UNIFIED_AD_MATMUL must be fp32 or bf16, got '${v}'`);
}
/** The linear layers' matmul precision (process-wide). */
export const matmulPrecision = (): MatmulPrecision => (precision ??= envPrecision());
/** True when products asked in bfloat16 (this precision, or math mode bf16) run on unified-ad's own bf16 kernel
 * (bf16-matmul.ts: a CPU with AVX512-BF16 and no AMX). */
export const bf16Products = (): boolean => bf16Gemm(matmulPrecision() === 'bf16' || bf16Math());
/** This process's use of the bf16 kernels: 'on', 'unused (float32 products)', or why they are off. */
export function bf16ProductsStatus(): string {
  if (bf16Products()) return 'on';
  return matmulPrecision() === 'bf16' || bf16Math() ? bf16GemmStatus() : 'unused (float32 products)';
}
/** Sets the linear layers' matmul precision (process-wide; returns the previous one). */
export function setMatmulPrecision(p: MatmulPrecision): MatmulPrecision {
  const old = matmulPrecision();
  precision = p;
  return old;
}

const toBf16 = (x: Tensor) => castNative(x, tfTypes().TF_FLOAT, TF_BFLOAT16);
const fromBf16 = (x: Tensor) => castNative(x, TF_BFLOAT16, tfTypes().TF_FLOAT);
/** op(a)·op(b) in bfloat16 of two bfloat16 handles, as float32. */
function matMulBf16(a: Tensor, b: Tensor, ta: boolean, tb: boolean): Tensor {
  const y = runNative('MatMul', [boolAttr('transpose_a', ta), boolAttr('transpose_b', tb), typeAttr('T', TF_BFLOAT16)], [a, b]);
  const out = fromBf16(y);
  y.dispose();
  return out;
}

let fusedMatMul = true;
/** Turns the fused `_FusedMatMul` forward of the biased linear layers off or on (A/B timing, tests); returns the old setting. */
export function setFusedMatMul(on: boolean): boolean {
  const old = fusedMatMul;
  fusedMatMul = on;
  return old;
}

const linearFns = new Map<string, Custom>();
function linearFn(hasBias: boolean, relu: boolean, bf16: boolean, fused: boolean): Custom {
  const key = `${hasBias}|${relu}|${bf16}|${fused}`;
  let f = linearFns.get(key);
  if (f) return f;
  f = custom(([x, w, b], save) => {
    // bf16: x and W are rounded once; the backward pass reuses the rounded copies (and the rounded dy)
    const xs = bf16 ? toBf16(x!) : x!, ws = bf16 ? toBf16(w!) : w!;
    let y: Tensor;
    if (fused) {
      // one kernel for x·W + b (+ ReLU): TensorFlow's _FusedMatMul, bit-identical to MatMul, BiasAdd, Relu
      y = runNative('_FusedMatMul', [...fusedMatMulAttrs(relu ? ['BiasAdd', 'Relu'] : ['BiasAdd']), T()], [xs, ws, b!]);
    } else {
      y = bf16 ? matMulBf16(xs, ws, false, false) : matMul2d(xs, ws, false, false);
      if (hasBias) y = runNative('BiasAdd', [T(), NHWC()], [y, b!]);
      if (relu) y = runNative('Relu', [T()], [y]);
    }
    save(relu ? [xs, ws, y] : [xs, ws]);
    return {
      value: y,
      gradFunc: (dy, [xsv, wsv, ys]) => {
        const g = relu ? runNative('ReluGrad', [T()], [dy, ys!]) : dy;
        let grads: Tensor[];
        if (bf16) {
          const gb = toBf16(g);
          grads = [matMulBf16(gb, wsv!, false, true), matMulBf16(xsv!, gb, true, false)];
          gb.dispose();
        } else grads = [matMul2d(g, wsv!, false, true), matMul2d(xsv!, g, true, false)];
        if (hasBias) grads.push(runNative('BiasAddGrad', [T(), NHWC()], [g]));
        return grads;
      },
    };
  });
  linearFns.set(key, f);
  return f;
}

/** y = x W (+ b) (then ReLU) for x [N, in], W [in, out], b [out]. */
export function linear(x: Tensor2D, w: Tensor, b: Tensor | null, activation: 'linear' | 'relu' = 'linear'): Tensor2D {
  if (!nativeKernels()) return tf.fused.matMul({ a: x, b: w as Tensor2D, bias: b ?? undefined, activation }) as Tensor2D;
  if (bf16Products()) return linearBf16(x, w, b, activation === 'relu');
  const bf16 = matmulPrecision() === 'bf16';
  // (_FusedMatMul is sgemm too: not in math mode bf16)
  const f = linearFn(b !== null, activation === 'relu', bf16, fusedMatMul && !bf16 && !bf16Math() && b !== null && listAttrs());
  return (b ? f(x, w, b) : f(x, w)) as unknown as Tensor2D;
}

// oneDNN's softmax is registered under the 'MklNameChangeOp' kernel label
const mklSoftmax = (t: Tensor) => runNative('_MklSoftmax', [T(), stringAttr('_kernel', 'MklNameChangeOp')], [t]);
const hasMklSoftmax = probeOnce(() => (mklSoftmax(tf.zeros([1, 2])), true));
/** oneDNN's softmax kernel when this TensorFlow build has it (about 2× TF's Eigen softmax here), else TF's. */
function nativeSoftmax(x: Tensor): Tensor {
  return hasMklSoftmax() ? mklSoftmax(x) : runNative('Softmax', [T()], [x]);
}

const softmaxFn = custom(([x], save) => {
  const y = nativeSoftmax(x!);
  save([y]);
  // dx = y ⊙ (dy − Σ dy ⊙ y)
  return { value: y, gradFunc: (dy, [ys]) => [ys!.mul(dy.sub(dy.mul(ys!).sum(-1, true)))] };
});

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  return nativeKernels() ? softmaxFn(x) : tf.softmax(x, -1);
}

let mklLayerNormOn = true;
/** Turns the one-kernel inference LayerNorm off or on (A/B timing, tests); returns the old setting. */
export function setInferenceLayerNorm(on: boolean): boolean {
  const old = mklLayerNormOn;
  mklLayerNormOn = on;
  return old;
}
/** True when no gradient is being recorded (outside tf.grad / variableGrads): a forward-only kernel is then safe. */
const tapeOff = (): boolean => !(tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
/**
 * Layer normalisation over the last axis in ONE kernel, oneDNN's `_MklLayerNorm` (~7× faster than the 9-kernel
 * composition at [1568, 256] here), when no gradient is recorded and this TensorFlow build has it; else null
 * (the caller then runs the differentiable composition). Forward only: inference and evaluation use it, training
 * keeps the hand-written backward pass (and its exact numerics).
 */
export function layerNormInference(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor | null {
  if (!mklLayerNormOn || !nativeKernels() || !tapeOff() || !hasMklLayerNorm()) return null;
  const d = x.shape[x.shape.length - 1]!;
  return tf.tidy(() => mklLayerNorm(x.shape.length === 2 ? x : x.reshape([-1, d]), gamma, beta, eps).reshape(x.shape));
}
// Which kernel label reaches oneDNN's LayerNorm differs by host: on some (AMD EPYC, 2026-12-02) the op runs as is,
// on others (Intel Xeon with AMX, same TF build) the eager rewrite labels it 'MklNameChangeOp', which no LayerNorm
// kernel carries, unless an empty label is given. Tried in that order, the first that runs is kept.
const LN_LABELS: (string | null)[] = ['', null];
let lnLabel: string | null | undefined;
const mklLayerNorm = (t: Tensor, g: Tensor, b: Tensor, eps: number, label = lnLabel ?? null) =>
  runNative('_MklLayerNorm', [T(), { name: 'epsilon', type: tfTypes().TF_ATTR_FLOAT, value: eps }, ...(label === null ? [] : [stringAttr('_kernel', label)])], [t, g, b]);
const hasMklLayerNorm = probeOnce(() => {
  for (const label of LN_LABELS) {
    try {
      mklLayerNorm(tf.zeros([1, 2]), tf.ones([2]), tf.zeros([2]), 1e-5, label).dataSync();
      lnLabel = label;
      return true;
    } catch {
      /* the next label */
    }
  }
  return false;
});
