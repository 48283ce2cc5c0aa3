import { describe, expect, it } from 'vitest';
import type { Scalar, Tensor } from '@tensorflow/tfjs-node';
import { Rng, tf, nn, engineInfo } from '../src';
import { FAST_KERNELS, installFastKernels, restoreTfjsNodeKernels } from '../src/fast-kernels';

const native = engineInfo.backend === 'tensorflow';

/** every case's outputs, read back (values, shape, dtype) */
function outputs(cases: (() => Tensor)[]): { values: number[]; shape: number[]; dtype: string }[] {
  return cases.map((f) => tf.tidy(() => {
    const y = f();
    return { values: Array.from(y.dataSync() as ArrayLike<number>), shape: y.shape, dtype: y.dtype };
  }));
}

describe('fast shape-like kernels (cached int32 arguments)', () => {
  it.skipIf(!native)('are installed on the native engine and give bit-identical results to tfjs-node\'s own', () => {
    const r = new Rng(3);
    const x = r.normalTensor([3, 4, 5]);
    const xi = tf.tidy(() => x.mul(10).round().cast('int32'));
    const xb = tf.tidy(() => x.greater(0));
    const cases: (() => Tensor)[] = [
      () => x.reshape([12, 5]), () => x.reshape([-1]), () => xi.reshape([5, 12]),
      () => x.sum(), () => x.sum(-1), () => x.sum([0, 2], true), () => xi.sum(1), () => xb.sum(0),
      () => x.mean(), () => x.mean(-1, true), () => x.mean([0, 1]), () => xi.mean(2), () => xb.mean(),
      () => x.max(1), () => x.max([0, 2], true), () => xi.max(), () => x.min(-2), () => xi.min([1, 2]), () => x.prod(2, true),
      () => x.transpose([2, 0, 1]), () => xi.transpose(), () => x.tile([2, 1, 3]), () => xi.tile([1, 2, 1]),
      () => x.expandDims(0), () => x.expandDims(-1), () => xb.expandDims(1),
      () => x.slice([1, 0, 2], [2, -1, 3]), () => xi.slice([0, 1], [1, 2]), () => x.slice(2),
      () => tf.concat([x, x.mul(2)], 1), () => tf.concat([xi, xi, xi], -1), () => tf.concat([xb, xb], 0),
    ];
    // the engine installed the fast kernels at load: these are its results
    const fast = outputs(cases);
    const again = outputs(cases); // from the cache this time
    for (const k of FAST_KERNELS) expect(tf.getKernel(k, 'tensorflow')!.kernelFunc.toString()).not.toMatch(/tensor1d|scalar\)\(/);
    // put tfjs-node's kernels back for the reference, then the fast ones again
    restoreTfjsNodeKernels(tf);
    try {
      for (const k of FAST_KERNELS) expect(tf.getKernel(k, 'tensorflow')!.kernelFunc.toString()).toMatch(/tensor1d|scalar\)\(/);
      const ref = outputs(cases);
      expect(fast).toEqual(ref);
      expect(again).toEqual(ref);
    } finally {
      installFastKernels(tf);
    }
    tf.dispose([x, xi, xb]);
  });

  it.skipIf(!native)('keep tf.memory() flat (the cached handles are outside the engine) and report bad shapes as tfjs does', () => {
    const x = tf.ones([2, 6]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) tf.tidy(() => x.reshape([3, 4]).transpose().sum(0).expandDims(0).tile([2, 1]).mean(-1)).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => x.reshape([5, 2])).toThrow(/reshape|size/i);
    x.dispose();
  });

  it.skipIf(!native)('past the cache\'s 4,096 distinct arguments, an argument is made and deleted per call, with the same results', () => {
    const v = tf.range(0, 4300);
    const before = tf.memory().numTensors;
    for (let n = 1; n <= 4300; n++) {
      const s = tf.tidy(() => v.slice(0, n).reshape([n, 1]).sum().dataSync()[0]!);
      expect(s).toBe((n * (n - 1)) / 2);
    }
    expect(tf.memory().numTensors).toBe(before);
    v.dispose();
  });
});

describe('mseLoss and l2Norm', () => {
  it('mseLoss equals tf.losses.meanSquaredError in value and gradient w.r.t. the prediction', () => {
    const r = new Rng(5);
    const target = r.normalTensor([4, 3, 3, 7]), pred = r.normalTensor([4, 3, 3, 7]);
    const ref = tf.valueAndGrad((p: Tensor) => tf.losses.meanSquaredError(target, p) as Scalar)(pred);
    const got = tf.valueAndGrad((p: Tensor) => nn.mseLoss(target, p) as Scalar)(pred);
    expect(got.value.dataSync()[0]).toBeCloseTo(ref.value.dataSync()[0]!, 6);
    const d = tf.tidy(() => got.grad.sub(ref.grad).abs().max().dataSync()[0]!);
    expect(d).toBeLessThan(1e-7);
    expect(tf.tidy(() => got.grad.abs().max().dataSync()[0]!)).toBeGreaterThan(1e-3);
    tf.dispose([target, pred, ref.value, ref.grad, got.value, got.grad]);
  });

  it('l2Norm equals tf.norm (euclidean) over an axis, with and without keepDims', () => {
    const x = new Rng(6).normalTensor([5, 9, 17]);
    for (const [axis, keep] of [[-1, true], [1, false], [0, true]] as const) {
      const a = nn.l2Norm(x, axis, keep), b = tf.norm(x, 'euclidean', axis, keep);
      expect(a.shape).toEqual(b.shape);
      expect(tf.tidy(() => a.sub(b).abs().div(b).max().dataSync()[0]!)).toBeLessThan(1e-6);
      tf.dispose([a, b]);
    }
    x.dispose();
  });
});
