// unified-ad's fused CPU kernels (packages/core/native/uad_kernels.cc, built by `npm run setup`) against the TensorFlow
// compositions they replace (the same functions with the kernels switched off), and hand-computed cases.
import * as path from 'node:path';
import { lastLineWithThreads } from './helpers';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs-node';
import { AdamW, Adam, Rng, tf, nn, engineInfo } from '../src';
import { FUSED_ADDON, fusedBiasReluDropout, fusedDropout, fusedKeepMask, fusedLayerNorm, fusedResidualLayerNorm, fusedMaskedSoftmax, fusedMergeHeads, fusedOps, fusedOpsStatus, fusedSplitHeads, setFusedOps } from '../src/fused-ops';

const native = engineInfo.backend === 'tensorflow';
const on = native && fusedOps();
if (native && !on) console.warn(`fused-ops tests skipped: the fused kernels are off (${fusedOpsStatus()})`);
const maxAbsDiff = (a: Tensor, b: Tensor) => tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);

/** f with the fused kernels off (the TensorFlow compositions) */
function composed<T>(f: () => T): T {
  const was = setFusedOps(false);
  try {
    return f();
  } finally {
    setFusedOps(was);
  }
}

/** value and gradients of sum(f(inputs) · w) */
function valueAndGrads(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], w: Tensor): { y: Tensor; grads: Tensor[] } {
  return { y: f(...inputs), grads: tf.grads((...xs: Tensor[]) => f(...xs).mul(w).sum())(inputs) };
}

describe('fused kernels', () => {
  // (unless switched off on purpose: UNIFIED_AD_FUSED_KERNELS=0 runs the whole suite on the compositions)
  it.skipIf(!native || process.env.UNIFIED_AD_FUSED_KERNELS === '0')('are built by npm run setup and load (CI must not silently run without them)', () => {
    expect(fusedOpsStatus(), `addon ${FUSED_ADDON}`).toBe('');
    expect(fusedOps()).toBe(true);
  });

  it.skipIf(!on)('LayerNorm: a hand-computed row, and value and all three gradients equal the composition (rows of 256 and of 37)', () => {
    // x = [1, 3]: mean 2, variance 1 → x̂ = [−1, 1]; y = x̂ · γ + β
    const y = nn.layerNorm(tf.tensor2d([1, 3], [1, 2]), tf.tensor1d([2, 3]), tf.tensor1d([0.5, -1]), 0);
    expect(Array.from(y.dataSync())).toEqual([-1.5, 2]);
    const r = new Rng(7);
    for (const shape of [[8, 196, 256], [5, 3, 37]]) {
      const d = shape[shape.length - 1]!;
      const x = r.normalTensor(shape).mul(3).add(1), g = r.normalTensor([d]), b = r.normalTensor([d]), w = r.normalTensor(shape);
      const f = (xx: Tensor, gg: Tensor, bb: Tensor) => nn.layerNorm(xx, gg, bb);
      const fast = valueAndGrads(f, [x, g, b], w);
      const ref = composed(() => valueAndGrads(f, [x, g, b], w));
      expect(maxAbsDiff(fast.y, ref.y)).toBeLessThan(2e-5);
      expect(maxAbsDiff(fast.grads[0]!, ref.grads[0]!)).toBeLessThan(1e-4);
      // dγ, dβ sum over all rows: relative to their size
      for (const i of [1, 2]) expect(maxAbsDiff(fast.grads[i]!, ref.grads[i]!) / tf.tidy(() => ref.grads[i]!.abs().max().dataSync()[0]!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(fast.y, ref.y)).toBeGreaterThan(0); // a different kernel really ran
    }
  });

  it.skipIf(!on)('masked softmax: a masked entry is exactly 0, rows sum to 1; with / without mask and keep, value and gradient equal the composition', () => {
    const r = new Rng(8);
    for (const [tq, tk] of [[7, 7], [13, 13], [196, 196]] as const) {
      const shape = [2, 3, tq, tk];
      const s = r.normalTensor(shape).mul(3), w = r.normalTensor(shape);
      const mask = tf.tidy(() => r.uniformTensor([tq, tk]).less(0.3).cast('float32').mul(-1e9).mul(tf.oneHot(tf.range(0, tq, 1, 'int32'), tk).sub(1).neg()));
      const drop = { rate: 0.25, seed: 11 };
      const keep = fusedKeepMask(shape, drop.rate, drop.seed);
      for (const m of [null, mask]) {
        for (const k of [null, keep]) {
          const f = (x: Tensor) => fusedMaskedSoftmax(x, m, k ? drop : null);
          const g = (x: Tensor) => {
            const p = nn.softmax(m ? x.add(m) : x);
            return k ? p.mul(k.cast('float32')) : p;
          };
          const fast = valueAndGrads(f, [s], w);
          const ref = composed(() => valueAndGrads(g, [s], w));
          expect(maxAbsDiff(fast.y, ref.y)).toBeLessThan(2e-6);
          expect(maxAbsDiff(fast.grads[0]!, ref.grads[0]!)).toBeLessThan(2e-5);
          if (!k) expect(maxAbsDiff(fast.y.sum(-1), tf.onesLike(fast.y.sum(-1)))).toBeLessThan(2e-6);
          if (m && !k) {
            const masked = tf.tidy(() => fast.y.mul(m.less(-1).cast('float32')).abs().max().dataSync()[0]!);
            expect(masked).toBe(0);
          }
        }
      }
    }
  });

  it.skipIf(!on)('dropout: bit-identical to x · keep · scale with the kernels\' keep mask, and so is its gradient', () => {
    const r = new Rng(9);
    const x = r.normalTensor([3, 5, 1031]), w = r.normalTensor([3, 5, 1031]);
    const keep = fusedKeepMask(x.shape, 0.1, 3);
    const scale = 1 / (1 - 26 / 256); // 0.1 → 26/256
    const fast = valueAndGrads((t) => fusedDropout(t, 0.1, 3), [x], w);
    const ref = valueAndGrads((t) => t.mul(keep.cast('float32')).mul(scale), [x], w);
    expect(maxAbsDiff(fast.y, ref.y)).toBe(0);
    expect(maxAbsDiff(fast.grads[0]!, ref.grads[0]!)).toBe(0);
    // nn.dropout runs the kernel: the same decisions for the same Rng seed
    const seed = new Rng(4).seed();
    expect(maxAbsDiff(nn.dropout(x, 0.1, new Rng(4)), fusedDropout(x, 0.1, seed))).toBe(0);
  });

  it.skipIf(!on)('dropout decisions: the documented rate, independent of the neighbour and of the seed, the same for the same seed', () => {
    const n = 1 << 20;
    const rate = (t: Tensor) => t.cast('float32').mean().dataSync()[0]!;
    const a = fusedKeepMask([n], 0.1, 1), b = fusedKeepMask([n], 0.1, 2), a2 = fusedKeepMask([n], 0.1, 1);
    const p = 1 - 26 / 256;
    // binomial sd of the mean over 2^20 draws is 3e-4: 5 sd
    expect(Math.abs(rate(a) - p)).toBeLessThan(1.5e-3);
    expect(Math.abs(rate(b) - p)).toBeLessThan(1.5e-3);
    expect(rate(a.notEqual(a2))).toBe(0);
    expect(Math.abs(rate(a.logicalAnd(b)) - p * p)).toBeLessThan(2e-3); // two seeds: independent
    const next = tf.concat([a.slice(1), a.slice(0, 1)]); // element j and j + 1 (within and across hash words)
    expect(Math.abs(rate(a.logicalAnd(next)) - p * p)).toBeLessThan(2e-3);
    for (const r of [0.5, 0.9]) expect(Math.abs(rate(fusedKeepMask([n], r, 7)) - (1 - Math.round(r * 256) / 256))).toBeLessThan(1.5e-3);
  });

  it.skipIf(!on)('residual LayerNorm(x + dropout(h + b)) and dropout(relu(h + b)): forward bit-identical to their pieces, gradients as them', () => {
    const r = new Rng(15);
    const x = r.normalTensor([2, 9, 40]), h = r.normalTensor([2, 9, 40]), b = r.normalTensor([40]);
    const g = r.normalTensor([40]), be = r.normalTensor([40]), w = r.normalTensor([2, 9, 40]);
    for (const drop of [null, { rate: 0.1, seed: 77 }]) {
      const pieces = (xi: Tensor, hi: Tensor, bi: Tensor, gi: Tensor, bei: Tensor) => {
        const hb = hi.add(bi);
        return fusedLayerNorm(xi.add(drop ? fusedDropout(hb, drop.rate, drop.seed) : hb), gi, bei, 1e-5);
      };
      const fast = valueAndGrads((xi, hi, bi, gi, bei) => fusedResidualLayerNorm(xi, hi, bi, gi, bei, 1e-5, drop), [x, h, b, g, be], w);
      const ref = valueAndGrads(pieces, [x, h, b, g, be], w);
      expect(maxAbsDiff(fast.y, ref.y)).toBe(0);
      fast.grads.forEach((gr, i) => expect(maxAbsDiff(gr, ref.grads[i]!), `input ${i}`).toBeLessThan(1e-4));
      // without a bias
      const nb = valueAndGrads((xi, hi) => fusedResidualLayerNorm(xi, hi, null, g, be, 1e-5, drop), [x, h], w);
      const nbRef = valueAndGrads((xi, hi) => fusedLayerNorm(xi.add(drop ? fusedDropout(hi, drop.rate, drop.seed) : hi), g, be, 1e-5), [x, h], w);
      expect(maxAbsDiff(nb.y, nbRef.y)).toBe(0);
      nb.grads.forEach((gr, i) => expect(maxAbsDiff(gr, nbRef.grads[i]!)).toBeLessThan(1e-4));
      // the feed-forward hidden units
      const fh = valueAndGrads((hi, bi) => fusedBiasReluDropout(hi, bi, drop), [h, b], w);
      const fhRef = valueAndGrads((hi, bi) => {
        const t = hi.add(bi).relu();
        return drop ? fusedDropout(t, drop.rate, drop.seed) : t;
      }, [h, b], w);
      expect(maxAbsDiff(fh.y, fhRef.y)).toBe(0);
      expect(maxAbsDiff(fh.grads[0]!, fhRef.grads[0]!)).toBe(0);
      expect(maxAbsDiff(fh.grads[1]!, fhRef.grads[1]!)).toBeLessThan(1e-5);
    }
  });

  it.skipIf(!on)('attention head split (+ bias) and merge (× scale): bit-identical to BiasAdd + transpose, gradients as the composition', () => {
    const r = new Rng(14);
    const x = r.normalTensor([2, 7, 12]), bias = r.normalTensor([12]), w = r.normalTensor([2, 3, 7, 4]);
    const ref = (a: Tensor, b: Tensor) => a.add(b).reshape([2, 7, 3, 4]).transpose([0, 2, 1, 3]);
    const fast = valueAndGrads((a, b) => fusedSplitHeads(a, b, 3), [x, bias], w);
    const slow = valueAndGrads(ref, [x, bias], w);
    expect(maxAbsDiff(fast.y, slow.y)).toBe(0);
    expect(maxAbsDiff(fast.grads[0]!, slow.grads[0]!)).toBe(0);
    expect(maxAbsDiff(fast.grads[1]!, slow.grads[1]!)).toBeLessThan(1e-5);
    const h = r.normalTensor([2, 3, 7, 4]), w2 = r.normalTensor([2, 7, 12]);
    const m = valueAndGrads((a) => fusedMergeHeads(a, 3, 1.25), [h], w2);
    const mr = valueAndGrads((a) => a.transpose([0, 2, 1, 3]).reshape([2, 7, 12]).mul(1.25), [h], w2);
    expect(maxAbsDiff(m.y, mr.y)).toBe(0);
    expect(maxAbsDiff(m.grads[0]!, mr.grads[0]!)).toBe(0);
    expect(maxAbsDiff(fusedSplitHeads(x, null, 3), x.reshape([2, 7, 3, 4]).transpose([0, 2, 1, 3]))).toBe(0);
  });

  it.skipIf(!on)('a transformer layer trains on them without leaking tensors; without dropout its loss and gradients are the compositions\'', () => {
    const r = new Rng(10);
    const layer = new nn.TransformerEncoderLayer(64, 4, 128, 0, new Rng(1));
    const x = r.normalTensor([2, 49, 64]), pos = r.normalTensor([49, 64]);
    const vars = [...layer.namedVariables().values()];
    const mask = tf.tidy(() => r.uniformTensor([49, 49]).less(0.2).cast('float32').mul(-1e9));
    const lossWith = (l: nn.TransformerEncoderLayer, seed: number) =>
      tf.variableGrads(() => l.apply(x, pos, mask, new Rng(seed)).square().mean() as never, [...l.namedVariables().values()]);
    const lossOf = (seed: number) => lossWith(layer, seed);
    const fast = lossOf(5), ref = composed(() => lossOf(5));
    expect(Math.abs(fast.value.dataSync()[0]! - ref.value.dataSync()[0]!)).toBeLessThan(1e-5);
    for (const k of Object.keys(ref.grads)) expect(maxAbsDiff(fast.grads[k]!, ref.grads[k]!)).toBeLessThan(1e-4);
    tf.dispose([fast.value, ref.value, ...Object.values(fast.grads), ...Object.values(ref.grads)]);
    void vars;
    const dropping = new nn.TransformerEncoderLayer(64, 4, 128, 0.1, new Rng(1)); // every dropout kernel
    for (const l of [layer, dropping]) {
      lossWith(l, 0); // (first-call caches)
      const n0 = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const g = lossWith(l, i);
        tf.dispose([g.value, ...Object.values(g.grads)]);
      }
      expect(tf.memory().numTensors).toBe(n0);
    }
    layer.dispose();
    dropping.dispose();
  });

  it.skipIf(!on)('give the same numbers whatever the thread count (TF_NUM_INTRAOP_THREADS 1 and 2)', () => {
    const script = `
      const { tf, Rng, nn } = require(${JSON.stringify(path.join(__dirname, '..', 'src'))});
      const r = new Rng(12), x = r.normalTensor([8, 196, 256]), g = r.normalTensor([256]), b = r.normalTensor([256]);
      const [dx, dg] = tf.grads((a, c) => nn.layerNorm(a, c, b).square().sum())([x, g]);
      const s = r.normalTensor([8, 8, 196, 196]);
      const p = tf.grad((t) => nn.softmax(t).square().sum())(s);
      const h = require('crypto').createHash('sha256');
      for (const t of [dx, dg, p]) h.update(Buffer.from(t.dataSync().buffer));
      console.log(h.digest('hex'));`;
    expect(lastLineWithThreads(script, '1')).toBe(lastLineWithThreads(script, '2'));
  }, 240_000);

  it.skipIf(!on)('Adam / AdamW step: bit-identical to the composition without clipping, within float rounding with it; no leaks', () => {
    const shapes = [[16, 8], [16, 8], [8], [3, 5, 7], [8]];
    const make = () => new Map(shapes.map((s, i) => [`p${i}`, tf.variable(new Rng(100 + i).normalTensor(s))] as const));
    const gradsAt = (t: number) => new Map(shapes.map((s, i) => [`p${i}`, new Rng(1000 * t + i).normalTensor(s).mul(0.3)] as const));
    for (const [Opt, clip] of [[AdamW, null], [AdamW, 0.5], [Adam, null], [Adam, 0.5]] as const) {
      const va = make(), vb = make();
      const cfg = { lr: 1e-2, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: 0.05 };
      const a = new Opt(va, cfg), b = new Opt(vb, cfg);
      for (let t = 0; t < 4; t++) {
        const g = gradsAt(t);
        const na = a.apply(g, clip);
        const nb = composed(() => b.apply(g, clip));
        expect(Math.abs(na.dataSync()[0]! - nb.dataSync()[0]!) / nb.dataSync()[0]!).toBeLessThan(1e-6);
        tf.dispose([na, nb, ...g.values()]);
      }
      for (const [k, p] of va) {
        const d = maxAbsDiff(p, vb.get(k)!);
        if (clip === null) expect(d, `${Opt.name} ${k}`).toBe(0);
        else expect(d, `${Opt.name} ${k}`).toBeLessThan(1e-6);
      }
      const g = gradsAt(9);
      const n0 = tf.memory().numTensors;
      a.apply(g, clip).dispose();
      expect(tf.memory().numTensors).toBe(n0);
      tf.dispose([...g.values()]);
      a.dispose();
      b.dispose();
      tf.dispose([...va.values(), ...vb.values()]);
    }
  });

  it.skipIf(!on)('bad shapes give TensorFlow errors naming the op, not a crash', () => {
    expect(() => nn.layerNorm(tf.ones([2, 4]), tf.ones([3]), tf.zeros([3]))).toThrow(/UadLayerNorm/);
    expect(() => fusedMaskedSoftmax(tf.ones([2, 5]), tf.zeros([3, 4]), null)).toThrow(/UadMaskedSoftmax/);
    expect(() => fusedSplitHeads(tf.ones([2, 3, 10]), null, 4)).toThrow(/UadSplitHeads/);
    expect(() => fusedMergeHeads(tf.ones([2, 3, 5, 4]), 4)).toThrow(/UadMergeHeads/);
  });
});
