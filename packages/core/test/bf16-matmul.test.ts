// unified-ad's bfloat16 products (UadMatMulBf16, packages/core/native/uad_kernels.cc; nn/bf16-matmul.ts) against a
// float64 reference on the same bfloat16-rounded operands, and their gradients against the float32 compositions.
import * as path from 'node:path';
import { lastLineWithThreads } from './helpers';
import { describe, expect, it } from 'vitest';
import type { Tensor, Tensor2D } from '@tensorflow/tfjs-node';
import { Rng, tf, engineInfo, nn } from '../src';
import { fusedMaskedSoftmax, fusedOpBuilt, fusedOpsStatus } from '../src/fused-ops';
import { attentionBf16, attentionContextBf16, attentionScoresBf16, bf16Gemm, linearBf16, matMulBf16View } from '../src/nn/bf16-matmul';

const on = engineInfo.backend === 'tensorflow' && fusedOpBuilt('UadMatMulBf16');
if (!on) console.warn(`bf16-matmul tests skipped: UadMatMulBf16 is not built (${fusedOpsStatus() || 'the compiler does not target AVX512-BF16'})`);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** float32 → bfloat16 (round to nearest even) → float32 */
function bf16(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  u32[0] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) << 16;
  return f32[0]!;
}
const roundBf16 = (t: Tensor) => tf.tensor(Array.from(t.dataSync(), bf16), t.shape);
/** ‖a − b‖ / ‖b‖ */
const relErr = (a: Tensor, b: Tensor) => tf.tidy(() => a.sub(b).norm().div(b.norm()).dataSync()[0]!);

describe('bfloat16 products (UadMatMulBf16)', () => {
  it.skipIf(!on)('alpha · op(A) op(B) + bias, ReLU: within float32 summation error of a float64 reference on bf16-rounded operands, every transpose, ragged sizes', () => {
    const rng = new Rng(3);
    for (const [m, n, k] of [[1, 1, 1], [13, 33, 17], [25, 70, 64], [50, 17, 3], [7, 100, 41]] as const) {
      for (const ta of [false, true]) {
        for (const tb of [false, true]) {
          const a = rng.normalTensor(ta ? [k, m] : [m, k]), b = rng.normalTensor(tb ? [n, k] : [k, n]), bias = rng.normalTensor([n]);
          const c = matMulBf16View(a, b, bias, {
            dims: [1, 1, m, n, k], a: ta ? [0, 0, 1, m] : [0, 0, k, 1], b: tb ? [0, 0, 1, k] : [0, 0, n, 1], c: [0, 0, n, 1], out: [m, n], alpha: 0.5, relu: true,
          }).dataSync();
          const av = a.dataSync(), bv = b.dataSync(), bi = bias.dataSync();
          let err = 0;
          for (let i = 0; i < m; i++)
            for (let j = 0; j < n; j++) {
              let s = 0, mag = 0;
              for (let q = 0; q < k; q++) {
                const p = bf16(av[ta ? q * m + i : i * k + q]!) * bf16(bv[tb ? j * k + q : q * n + j]!);
                s += p;
                mag += Math.abs(p);
              }
              const ref = Math.max(0, 0.5 * s + bi[j]!);
              // float32 sums of k exact products: at most ~k ulp of the magnitude
              err = Math.max(err, Math.abs(ref - c[i * n + j]!) / (mag * 2 ** -23 * (k + 1) + 1e-30));
            }
          expect(err, `${m}×${n}×${k} ta=${ta} tb=${tb}`).toBeLessThanOrEqual(1);
          tf.dispose([a, b, bias]);
        }
      }
    }
  });

  it.skipIf(!on)('linear layer: value and gradients (x, W, b) match float32 on bf16-rounded operands to bf16 precision, with and without ReLU', () => {
    const rng = new Rng(5);
    const x = rng.normalTensor([70, 48]) as Tensor2D, w = rng.normalTensor([48, 40]), b = rng.normalTensor([40]), up = rng.normalTensor([70, 40]);
    for (const relu of [false, true]) {
      const f = (xi: Tensor, wi: Tensor, bi: Tensor) => linearBf16(xi as Tensor2D, wi, bi, relu).mul(up).sum();
      // the float32 composition, differentiated at the rounded operands
      const ref = (xi: Tensor, wi: Tensor, bi: Tensor) => {
        const y = tf.matMul(xi as Tensor2D, wi as Tensor2D).add(bi);
        return (relu ? y.relu() : y).mul(up).sum();
      };
      const y = linearBf16(x, w, b, relu), yRef = tf.matMul(roundBf16(x) as Tensor2D, roundBf16(w) as Tensor2D).add(b);
      expect(relErr(y, relu ? yRef.relu() : yRef)).toBeLessThan(1e-6);
      const g = tf.grads(f)([x, w, b]), gRef = tf.grads(ref)([roundBf16(x), roundBf16(w), b]);
      // the backward pass rounds the upstream gradient and the operands to bfloat16 too: ~2^-9 relative
      for (let i = 0; i < 3; i++) expect(relErr(g[i]!, gRef[i]!), `gradient ${i}`).toBeLessThan(1e-2);
    }
  });

  it.skipIf(!on)('attention: scores per head read in place from [B, T, H·hd], context merged back; values and gradients match the float32 composition', () => {
    const rng = new Rng(7);
    const [bn, h, tq, tk, hd] = [2, 4, 9, 11, 8];
    const q = rng.normalTensor([bn, tq, h * hd]), k = rng.normalTensor([bn, tk, h * hd]), v = rng.normalTensor([bn, tk, h * hd]);
    const split = (t: Tensor, n: number) => t.reshape([bn, n, h, hd]).transpose([0, 2, 1, 3]);
    const scoresRef = (qi: Tensor, ki: Tensor) => tf.matMul(split(qi, tq) as never, split(ki, tk) as never, false, true).mul(0.3);
    const s = attentionScoresBf16(q, k, h, 0.3);
    expect(s.shape).toEqual([bn, h, tq, tk]);
    expect(relErr(s, scoresRef(roundBf16(q), roundBf16(k)))).toBeLessThan(1e-6);
    const p = tf.softmax(rng.normalTensor([bn, h, tq, tk]));
    const ctxRef = (pi: Tensor, vi: Tensor) => tf.matMul(pi as never, split(vi, tk) as never).transpose([0, 2, 1, 3]).reshape([bn, tq, h * hd]).mul(1.25);
    const c = attentionContextBf16(p, v, h, 1.25);
    expect(c.shape).toEqual([bn, tq, h * hd]);
    expect(relErr(c, ctxRef(roundBf16(p), roundBf16(v)))).toBeLessThan(1e-6);
    const ws = rng.normalTensor(s.shape), wc = rng.normalTensor(c.shape);
    const gs = tf.grads((a: Tensor, b: Tensor) => attentionScoresBf16(a, b, h, 0.3).mul(ws).sum())([q, k]);
    const gsRef = tf.grads((a: Tensor, b: Tensor) => scoresRef(a, b).mul(ws).sum())([roundBf16(q), roundBf16(k)]);
    const gc = tf.grads((a: Tensor, b: Tensor) => attentionContextBf16(a, b, h, 1.25).mul(wc).sum())([p, v]);
    const gcRef = tf.grads((a: Tensor, b: Tensor) => ctxRef(a, b).mul(wc).sum())([roundBf16(p), roundBf16(v)]);
    for (const [g, r, name] of [[gs[0], gsRef[0], 'dq'], [gs[1], gsRef[1], 'dk'], [gc[0], gcRef[0], 'dp'], [gc[1], gcRef[1], 'dv']] as const)
      expect(relErr(g!, r!), name).toBeLessThan(1e-2);
  });

  it.skipIf(!on)('the whole attention in one kernel: bit-identical to scores, masked softmax and context in turn (mask, dropout, a shared query), with or without a gradient recorded, and so are the gradients', () => {
    const rng = new Rng(17);
    const [bn, h, tq, tk, hd] = [3, 2, 14, 25, 8];
    const k = rng.normalTensor([bn, tk, h * hd]), v = rng.normalTensor([bn, tk, h * hd]), w = rng.normalTensor([bn, tq, h * hd]);
    const mask = tf.tensor2d(Array.from({ length: tq * tk }, (_, i) => (i % 7 === 3 ? -1e9 : 0)), [tq, tk]);
    for (const qb of [bn, 1]) {
      const q = rng.normalTensor([qb, tq, h * hd]);
      for (const m of [null, mask]) {
        for (const drop of [null, { rate: 0.2, seed: 5 }]) {
          const one = (a: Tensor, b: Tensor, c: Tensor) => attentionBf16(a, b, c, m, h, 0.35, drop, drop ? 1.25 : 1);
          const two = (a: Tensor, b: Tensor, c: Tensor) => attentionContextBf16(fusedMaskedSoftmax(attentionScoresBf16(a, b, h, 0.35), m, drop), c, h, drop ? 1.25 : 1);
          const ref = Array.from(two(q, k, v).dataSync());
          expect(Array.from(one(q, k, v).dataSync())).toEqual(ref); // inference: the probabilities stay in L1
          const g = tf.grads((a: Tensor, b: Tensor, c: Tensor) => one(a, b, c).mul(w).sum())([q, k, v]);
          const gRef = tf.grads((a: Tensor, b: Tensor, c: Tensor) => two(a, b, c).mul(w).sum())([q, k, v]);
          for (let i = 0; i < 3; i++) expect(Array.from(g[i]!.dataSync()), `gradient ${i}, query batch ${qb}`).toEqual(Array.from(gRef[i]!.dataSync()));
        }
      }
    }
  });

  it.skipIf(!on)('an attention layer and an FFN in bf16 precision (these kernels) track their float32 selves to bf16 precision, values and gradients', () => {
    const rng = new Rng(11);
    const attn = new nn.MultiHeadAttention(64, 4, 0, rng), ffn = new nn.FeedForward(64, 128, 0, rng);
    const x = rng.normalTensor([2, 30, 64]), mem = rng.normalTensor([2, 20, 64]);
    const forward = () => ffn.apply(attn.apply(x, mem, mem, null, null), null);
    const f = () => {
      const vars = [...attn.namedVariables().values(), ...ffn.namedVariables().values()];
      const { grads } = tf.variableGrads(() => forward().square().mean() as never, vars as never);
      return { y: forward(), grads: vars.map((v) => grads[v.name]!) };
    };
    const ref = f();
    const old = nn.setMatmulPrecision('bf16');
    try {
      expect(bf16Gemm(true)).toBe(true);
      const got = f();
      expect(relErr(got.y, ref.y)).toBeLessThan(1e-2);
      // relative to the largest gradient: the key bias's gradient is 0 in exact arithmetic (softmax ignores a
      // constant per row), so only rounding noise remains of it, in either precision
      const scale = Math.max(...ref.grads.map((g) => g.norm().dataSync()[0]!));
      got.grads.forEach((g, i) => expect(g.sub(ref.grads[i]!).norm().dataSync()[0]! / scale, `gradient ${i}`).toBeLessThan(1e-2));
    } finally {
      nn.setMatmulPrecision(old);
    }
  });

  it.skipIf(!on)('repeated training products do not leak tensors', () => {
    const rng = new Rng(9);
    const x = rng.normalTensor([30, 16]) as Tensor2D, w = rng.normalTensor([16, 8]), b = rng.normalTensor([8]);
    const q = rng.normalTensor([2, 5, 16]);
    const step = () => tf.tidy(() => {
      tf.grads((a: Tensor, c: Tensor) => linearBf16(a as Tensor2D, c, b, true).sum())([x, w]);
      tf.grads((a: Tensor) => attentionContextBf16(tf.softmax(attentionScoresBf16(a, a, 2, 0.5)), a, 2, 1).sum())([q]);
    });
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
  });

  it.skipIf(!on)('the same numbers whatever the thread count (TF_NUM_INTRAOP_THREADS 1 and 2)', () => {
    const script = `
      const { tf, Rng, fusedOps } = require(${JSON.stringify(path.join(__dirname, '..', 'src'))});
      fusedOps(); // loads the addon, which registers the ops
      const m = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'nn', 'bf16-matmul'))});
      const r = new Rng(12), x = r.normalTensor([1568, 256]), w = r.normalTensor([256, 256]), q = r.normalTensor([8, 196, 256]);
      const [dx, dw] = tf.grads((a, c) => m.linearBf16(a, c, null, false).square().sum())([x, w]);
      const [dq] = tf.grads((a) => m.attentionContextBf16(m.attentionScoresBf16(a, a, 8, 0.2), a, 8, 1).square().sum())([q]);
      const h = require('crypto').createHash('sha256');
      for (const t of [dx, dw, dq]) h.update(Buffer.from(t.dataSync().buffer));
      console.log(h.digest('hex'));`;
    expect(lastLineWithThreads(script, '1')).toBe(lastLineWithThreads(script, '2'));
  }, 240_000);

  it.skipIf(!on)('views that do not fit their tensors give an error naming the op, not a crash', () => {
    const a = tf.ones([4, 4]), b = tf.ones([4, 4]);
    const fit = { dims: [1, 1, 4, 4, 4] as [number, number, number, number, number], a: [0, 0, 4, 1] as [number, number, number, number], b: [0, 0, 4, 1] as [number, number, number, number], c: [0, 0, 4, 1] as [number, number, number, number], out: [4, 4] };
    expect(matMulBf16View(a, b, null, fit).dataSync()[0]).toBe(4);
    expect(() => matMulBf16View(a, b, null, { ...fit, dims: [1, 1, 4, 4, 5] })).toThrow(/UadMatMulBf16/);
    expect(() => matMulBf16View(a, b, null, { ...fit, out: [4, 3] })).toThrow(/UadMatMulBf16/);
    expect(() => matMulBf16View(a, b, tf.ones([3]), fit)).toThrow(/UadMatMulBf16/);
    expect(() => matMulBf16View(a, b, null, { ...fit, a: [0, 0, -4, 1] })).toThrow(/UadMatMulBf16/);
  });
});
