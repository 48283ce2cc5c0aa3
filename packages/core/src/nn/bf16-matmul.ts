// bfloat16 matrix products of unified-ad's kernels (UadMatMulBf16 in packages/core/native/uad_kernels.cc): the
// linear layers' products and the two products of attention, with their gradients, when the process runs in math
// mode bf16 (UNIFIED_AD_FPMATH=bf16) or UNIFIED_AD_MATMUL=bf16 on a CPU with AVX512-BF16 but no AMX. There,
// TensorFlow's own bf16 route is slower than its float32 one (oneDNN's kernel at about half PyTorch's speed, plus a
// cast around every product); this one reads float32, rounds each operand to bfloat16 as it packs it and writes
// float32, as oneDNN's math mode bf16 does, and reads the heads of a [B, T, H·hd] projection in place (no split
// or merge of heads).
// Numerics: each operand rounded to bfloat16 (round to nearest even), every product exact in float32, sums in
// float32 in a fixed order (deterministic whatever the thread count); outputs float32. The same rounding as the
// math mode bf16 of the rest of the engine, a different summation order.
import * as fs from 'node:fs';
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-node';
import { tf } from '../engine';
import { UserError } from '../errors';
import { custom, type Custom } from './custom-grad';
import { dropInputs, emptyInputs, fusedOpBuilt, run, type FusedDrop } from '../fused-ops';
import { runNative, tfTypes, type NativeAttr } from '../native-op';

/** A strided view of a batch of matrices: element (z0, z1, i, j) at z0·s0 + z1·s1 + i·row + j·col. */
type Strides = [s0: number, s1: number, row: number, col: number];
interface Product {
  /** [Z0, Z1, M, N, K] */
  dims: [number, number, number, number, number];
  a: Strides;
  b: Strides;
  c: Strides;
  out: number[];
  alpha?: number;
  relu?: boolean;
}

const floatType = (): NativeAttr => ({ name: 'T', type: tfTypes().TF_ATTR_TYPE, value: tfTypes().TF_FLOAT });
const intList = (name: string, value: number[]): NativeAttr => ({ name, type: tfTypes().TF_ATTR_INT, value });

/** C = alpha · A·B (+ bias) (ReLU) over the views of `p`, in bfloat16 products (no gradient). */
function product(a: Tensor, b: Tensor, bias: Tensor | null, p: Product): Tensor {
  return runNative('UadMatMulBf16', [
    intList('dims', p.dims), intList('a_strides', p.a), intList('b_strides', p.b), intList('c_strides', p.c), intList('out_shape', p.out),
    { name: 'alpha', type: tfTypes().TF_ATTR_FLOAT, value: p.alpha ?? 1 },
    { name: 'relu', type: tfTypes().TF_ATTR_BOOL, value: p.relu ?? false },
  ], [a, b, bias ?? emptyInputs().f]);
}

/** True when this CPU has AMX (oneDNN's own bf16 kernels are then the faster route): /proc/cpuinfo's amx_bf16 flag. */
function cpuHasAmx(): boolean {
  try {
    return /\bamx_bf16\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

let choice: boolean | null = null;
/**
 * True when the bfloat16 products here replace TensorFlow's: the addon built with them (a compiler targeting
 * AVX512-BF16), the process asking for bf16 products (UNIFIED_AD_FPMATH=bf16 or UNIFIED_AD_MATMUL=bf16), and
 * UNIFIED_AD_BF16_GEMM: unset / 'auto' (on where the CPU has no AMX), '1' (on) or '0' (off, TensorFlow's route).
 */
export function bf16Gemm(wanted: boolean): boolean {
  if (!wanted) return false;
  if (choice === null) {
    const env = process.env.UNIFIED_AD_BF16_GEMM ?? 'auto';
    if (!['auto', '', '0', '1'].includes(env)) throw new UserError(`UNIFIED_AD_BF16_GEMM must be auto, 0 or 1, got '${env}'`);
    choice = env !== '0' && fusedOpBuilt('UadMatMulBf16') && (env === '1' || !cpuHasAmx());
  }
  return choice;
}

/** 'on' when a process asking for bf16 products gets these kernels, else why not (the bench's engine record). */
export function bf16GemmStatus(): string {
  if (!fusedOpBuilt('UadMatMulBf16')) return 'not built (the compiler does not target AVX512-BF16)';
  return bf16Gemm(true) ? 'on' : (process.env.UNIFIED_AD_BF16_GEMM === '0' ? 'off (UNIFIED_AD_BF16_GEMM=0)' : 'off (AMX: oneDNN)');
}

// ---------------------------------------------------------------------------------------------------------------
// y = x W (+ b) (then ReLU): x [N, in], W [in, out]

const linearFns = new Map<string, Custom>();
function linearFn(hasBias: boolean, relu: boolean): Custom {
  const key = `${hasBias}|${relu}`;
  let f = linearFns.get(key);
  if (f) return f;
  f = custom(([x, w, b], save) => {
    const [n, din] = x!.shape as [number, number];
    const dout = w!.shape[1]!;
    const y = product(x!, w!, hasBias ? b! : null, { dims: [1, 1, n, dout, din], a: [0, 0, din, 1], b: [0, 0, dout, 1], c: [0, 0, dout, 1], out: [n, dout], relu });
    save(relu ? [x!, w!, y] : [x!, w!]);
    return {
      value: y,
      gradFunc: (dy, [xs, ws, ys]) => {
        const g = relu ? runNative('ReluGrad', [floatType()], [dy, ys!]) : dy;
        // dx = g Wᵀ (W read transposed), dW = xᵀ g (x read transposed)
        const dx = product(g, ws!, null, { dims: [1, 1, n, din, dout], a: [0, 0, dout, 1], b: [0, 0, 1, dout], c: [0, 0, din, 1], out: [n, din] });
        const dw = product(xs!, g, null, { dims: [1, 1, din, dout, n], a: [0, 0, 1, din], b: [0, 0, dout, 1], c: [0, 0, dout, 1], out: [din, dout] });
        const grads = [dx, dw];
        if (hasBias) grads.push(runNative('BiasAddGrad', [floatType(), { name: 'data_format', type: tfTypes().TF_ATTR_STRING, value: 'NHWC' }], [g]));
        return grads;
      },
    };
  });
  linearFns.set(key, f);
  return f;
}

/** x W (+ b) (then ReLU) in bfloat16 products, for x [N, in], W [in, out], b [out]. */
export function linearBf16(x: Tensor2D, w: Tensor, b: Tensor | null, relu: boolean): Tensor2D {
  const f = linearFn(b !== null, relu);
  return (b ? f(x, w, b) : f(x, w)) as Tensor2D;
}

// ---------------------------------------------------------------------------------------------------------------
// Attention over the heads of [B, T, H·hd] projections, read in place: head h of token t is columns h·hd.. of row t.

/** View of a [B, T, H·hd] projection as B × H matrices [T, hd] (`transposed`: as [hd, T]). */
const heads = (t: number, d: number, hd: number, transposed = false): Strides => (transposed ? [t * d, hd, 1, d] : [t * d, hd, d, 1]);
/** View of [B, H, Tq, Tk] maps (`transposed`: each as [Tk, Tq]). */
const maps = (h: number, tq: number, tk: number, transposed = false): Strides => (transposed ? [h * tq * tk, tq * tk, 1, tk] : [h * tq * tk, tq * tk, tk, 1]);

/** The views of a head's attention from the shapes of q [qb, Tq, D] (qb = 1: one query for the whole batch, read with batch stride 0),
 * k and v [B, Tk, D], H heads of hd = D / H. */
function attentionViews(qShape: number[], kShape: number[], nHeads: number) {
  const [qb, tq, dm] = qShape as [number, number, number];
  const b = kShape[0]!, tk = kShape[1]!, hd = dm / nHeads;
  const shared = qb === 1 && b > 1;
  const qView = heads(tq, dm, hd);
  if (shared) qView[0] = 0;
  return { b, tq, tk, dm, hd, shared, qView };
}
type Views = ReturnType<typeof attentionViews>;

/** The scores' gradient: dq = alpha · dS K (summed over the batch for a shared query), dk = alpha · dSᵀ Q. */
function scoresGrad(ds: Tensor, q: Tensor, k: Tensor, nHeads: number, alpha: number, v: Views): [Tensor, Tensor] {
  const { b, tq, tk, dm, hd } = v;
  const dq = product(ds, k, null, { dims: [b, nHeads, tq, hd, tk], a: maps(nHeads, tq, tk), b: heads(tk, dm, hd), c: heads(tq, dm, hd), out: [b, tq, dm], alpha });
  const dk = product(ds, q, null, { dims: [b, nHeads, tk, hd, tq], a: maps(nHeads, tq, tk, true), b: v.qView, c: heads(tk, dm, hd), out: [b, tk, dm], alpha });
  return [v.shared ? dq.sum(0, true) : dq, dk];
}

/** The context's gradient: dP = alpha · dO Vᵀ, dV = alpha · Pᵀ dO. */
function contextGrad(dout: Tensor, p: Tensor, val: Tensor, nHeads: number, alpha: number, v: Views): [Tensor, Tensor] {
  const { b, tq, tk, dm, hd } = v;
  return [
    product(dout, val, null, { dims: [b, nHeads, tq, tk, hd], a: heads(tq, dm, hd), b: heads(tk, dm, hd, true), c: maps(nHeads, tq, tk), out: [b, nHeads, tq, tk], alpha }),
    product(p, dout, null, { dims: [b, nHeads, tk, hd, tq], a: maps(nHeads, tq, tk, true), b: heads(tq, dm, hd), c: heads(tk, dm, hd), out: [b, tk, dm], alpha }),
  ];
}

const scoreFns = new Map<string, Custom>();
/**
 * alpha · Q Kᵀ per head: q [B, Tq, H·hd] (or [1, Tq, H·hd], shared), k [B, Tk, H·hd] → scores [B, H, Tq, Tk]; its
 * gradient gives dq and dk in the projections' layout.
 */
export function attentionScoresBf16(q: Tensor, k: Tensor, nHeads: number, alpha: number): Tensor {
  const key = `${nHeads}|${alpha}`;
  let f = scoreFns.get(key);
  if (!f) {
    f = custom(([qi, ki], save) => {
      const v = attentionViews(qi!.shape, ki!.shape, nHeads);
      const s = product(qi!, ki!, null, { dims: [v.b, nHeads, v.tq, v.tk, v.hd], a: v.qView, b: heads(v.tk, v.dm, v.hd, true), c: maps(nHeads, v.tq, v.tk), out: [v.b, nHeads, v.tq, v.tk], alpha });
      save([qi!, ki!]);
      return { value: s, gradFunc: (ds, [qs, ks]) => scoresGrad(ds, qs!, ks!, nHeads, alpha, v) };
    });
    scoreFns.set(key, f);
  }
  return f(q, k);
}

/** True while tfjs records operations for a gradient (tf.grads / variableGrads): its engine's tape is on. */
function recording(): boolean {
  const e = tf.engine() as unknown as { isTapeOn?: () => boolean };
  return typeof e.isTapeOn === 'function' ? e.isTapeOn() : true; // (unknown engine: keep what a gradient needs)
}

/**
 * The whole attention over heads read in place: out_scale · dropout(softmax(alpha · Q Kᵀ + mask)) V, merged,
 * for q [B, Tq, H·hd] (or [1, Tq, H·hd], shared), k and v [B, Tk, H·hd] → [B, Tq, H·hd]. One kernel
 * (UadAttentionBf16): per head and panel of query rows, the scores, their masked softmax and dropout and the
 * product with V, while in L1; the probabilities reach memory only when a gradient is being recorded. The same
 * numbers as attentionScoresBf16, fusedMaskedSoftmax and attentionContextBf16 in turn, and the same gradient.
 */
export function attentionBf16(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, nHeads: number, alpha: number, drop: FusedDrop | null, outScale: number): Tensor {
  const d = dropInputs(drop);
  const vw = attentionViews(q.shape, k.shape, nHeads);
  const { b, tq, tk, dm, hd } = vw;
  const attrs = (keep: boolean): NativeAttr[] => [
    intList('dims', [b, nHeads, tq, tk, hd]), intList('q_strides', vw.qView), intList('k_strides', heads(tk, dm, hd, true)),
    intList('v_strides', heads(tk, dm, hd)), intList('o_strides', heads(tq, dm, hd)), intList('out_shape', [b, tq, dm]),
    { name: 'alpha', type: tfTypes().TF_ATTR_FLOAT, value: alpha }, { name: 'out_scale', type: tfTypes().TF_ATTR_FLOAT, value: outScale },
    d.threshold, { name: 'keep_probs', type: tfTypes().TF_ATTR_BOOL, value: keep },
  ];
  const inputs = (qi: Tensor, ki: Tensor, vi: Tensor) => [qi, ki, vi, mask ?? emptyInputs().f, d.seed];
  if (!recording()) {
    const [o, y, dropped] = run('UadAttentionBf16', attrs(false), inputs(q, k, v), 3);
    tf.dispose([y!, dropped!]);
    d.release();
    return o!;
  }
  const f = custom(([qi, ki, vi], save) => {
    const [o, y, dropped] = run('UadAttentionBf16', attrs(true), inputs(qi!, ki!, vi!), 3);
    save([qi!, ki!, vi!, y!, d.on ? dropped! : y!, d.seed]);
    if (!d.on) dropped!.dispose();
    return {
      value: o!,
      gradFunc: (dout, [qs, ks, vs, ys, ps, sd]) => {
        const [dp, dv] = contextGrad(dout, ps!, vs!, nHeads, outScale, vw);
        const ds = run('UadMaskedSoftmaxGrad', [d.threshold], [dp, ys!, sd!], 1)[0]!;
        const [dq, dk] = scoresGrad(ds, qs!, ks!, nHeads, alpha, vw);
        return [dq, dk, dv];
      },
    };
  });
  const o = f(q, k, v);
  d.release();
  return o;
}

const contextFns = new Map<string, Custom>();
/**
 * alpha · P V per head, merged: p [B, H, Tq, Tk], v [B, Tk, H·hd] → [B, Tq, H·hd]; its gradient gives dp and dv.
 */
export function attentionContextBf16(p: Tensor, v: Tensor, nHeads: number, alpha: number): Tensor {
  const key = `${nHeads}|${alpha}`;
  let f = contextFns.get(key);
  if (!f) {
    f = custom(([pi, vi], save) => {
      const [b, , tq] = pi!.shape as [number, number, number, number];
      const vw = attentionViews([b, tq, vi!.shape[2]!], vi!.shape, nHeads); // (q of p's batch and length)
      const { tk, dm, hd } = vw;
      const o = product(pi!, vi!, null, { dims: [b, nHeads, tq, hd, tk], a: maps(nHeads, tq, tk), b: heads(tk, dm, hd), c: heads(tq, dm, hd), out: [b, tq, dm], alpha });
      save([pi!, vi!]);
      return { value: o, gradFunc: (dout, [ps, vs]) => contextGrad(dout, ps!, vs!, nHeads, alpha, vw) };
    });
    contextFns.set(key, f);
  }
  return f(p, v);
}

/** The raw product, for tests: C = alpha · A·B (+ bias) (ReLU) over strided views. */
export const matMulBf16View = product;
export type { Product as Bf16Product };
