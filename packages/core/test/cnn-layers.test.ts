import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import * as nn from '../src/nn';
import { Rng } from '../src/rng';
import { tf } from '../src/engine';
import { Conv2d as ReconstructorConv2d } from '../src/nn/layers';

// PyTorch golden values: test/golden/cnn_layers_golden.py (float64; NHWC activations, TF weight layouts)
type Case = Record<string, unknown> & { name: string; op: string; x_shape: number[]; out_shape: number[]; x: number[]; r: number[]; y: number[]; dx: number[] };
type ConvCase = Case & {
  in: number; out: number; kernel: number | number[]; stride: number; padding: number | number[] | 'same'; dilation: number; output_padding: number;
  bias: boolean; weight: number[]; bias_value: number[] | null; dweight: number[]; dbias: number[] | null;
};
type BnStep = { training: boolean; x: number[]; r: number[]; y: number[]; dx: number[]; dweight: number[] | null; dbias: number[] | null; running_mean: number[]; running_var: number[]; num_batches_tracked: number };
type BnCase = Case & { channels: number; momentum: number | null; affine: boolean; eps: number; init: { running_mean: number[]; running_var: number[]; weight: number[] | null; bias: number[] | null }; steps: BnStep[] };
const golden = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden', 'cnn_layers_golden.json'), 'utf8')) as { cases: Case[] };
const cases = (op: string) => golden.cases.filter((c) => c.op === op);

/** max |got − want| ≤ 1e-5 · max(1, max |want|): relative to the tensor's scale (float32 against float64). */
function expectClose(got: Tensor | Float32Array | number[], want: number[], what: string, tol = 1e-5) {
  const g = Array.from(got instanceof Float32Array || Array.isArray(got) ? got : (got.dataSync() as Float32Array));
  expect(g.length, `${what}: length`).toBe(want.length);
  const scale = Math.max(1, ...want.map(Math.abs));
  let worst = 0;
  g.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[i]!))));
  expect(worst / scale, `${what}: max error ${worst} at scale ${scale}`).toBeLessThanOrEqual(tol);
}

/** Output of f(x) and the gradients of sum(f(x) · R) with respect to x and `params`. */
function outAndGrads(f: (x: Tensor4D) => Tensor4D, c: { x_shape: number[]; x: number[]; r: number[] }, params: Variable[]) {
  const x = tf.variable(tf.tensor(c.x, c.x_shape));
  const r = tf.tensor(c.r);
  let y: Tensor | null = null;
  const { grads } = tf.variableGrads(() => {
    const out = f(x as unknown as Tensor4D);
    y = tf.keep(out.clone());
    return out.mul(r.reshape(out.shape)).sum() as never;
  }, [x, ...params]);
  const res = { y: y! as Tensor, shape: (y! as Tensor).shape, dx: grads[x.name]!, dp: params.map((p) => grads[p.name]!) };
  x.dispose();
  r.dispose();
  return res;
}

function convModule(c: ConvCase, rng = new Rng(1)): nn.Conv2d | nn.ConvTranspose2d {
  const k = (Array.isArray(c.kernel) ? c.kernel : [c.kernel, c.kernel]) as [number, number];
  const m =
    c.op === 'conv2d'
      ? new nn.Conv2d(c.in, c.out, k, { stride: c.stride, padding: (c.padding === 'same' ? 'same' : c.padding) as nn.Pair | 'same', dilation: c.dilation, bias: c.bias }, rng)
      : new nn.ConvTranspose2d(c.in, c.out, k, { stride: c.stride, padding: c.padding as nn.Pair, outputPadding: c.output_padding, bias: c.bias }, rng);
  m.weight.assign(tf.tensor(c.weight, m.weight.shape));
  if (m.bias) m.bias.assign(tf.tensor(c.bias_value!, m.bias.shape));
  return m;
}

describe('Conv2d / ConvTranspose2d against PyTorch', () => {
  for (const c of [...cases('conv2d'), ...cases('conv_transpose2d')] as ConvCase[]) {
    it(c.name, () => {
      const m = convModule(c);
      expect(m.bias === null).toBe(!c.bias);
      const params = m.bias ? [m.weight, m.bias] : [m.weight];
      const r = outAndGrads((x) => m.forward(x), c, params);
      expect(r.shape).toEqual(c.out_shape);
      expect(m.outputSize(c.x_shape[1]!, c.x_shape[2]!)).toEqual(c.out_shape.slice(1, 3));
      expectClose(r.y, c.y, 'output');
      expectClose(r.dx, c.dx, 'd input');
      expectClose(r.dp[0]!, c.dweight, 'd weight');
      if (c.bias) expectClose(r.dp[1]!, c.dbias!, 'd bias');
      tf.dispose([r.y, r.dx, ...r.dp]);
      m.dispose();
    });
  }

  it('fused ReLU equals relu(forward) on every convolution path (plain, atrous, dilated + strided)', () => {
    for (const c of cases('conv2d') as ConvCase[]) {
      const m = convModule(c) as nn.Conv2d;
      const x = tf.tensor4d(c.x, c.x_shape as [number, number, number, number]);
      expectClose(m.forward(x, 'relu'), Array.from(m.forward(x).relu().dataSync()), `${c.name}: relu`, 1e-6);
      m.dispose();
    }
  });
});

describe('BatchNorm2d against PyTorch', () => {
  for (const c of cases('batch_norm2d') as BnCase[]) {
    it(c.name, () => {
      const bn = new nn.BatchNorm2d(c.channels, { eps: c.eps, momentum: c.momentum, affine: c.affine });
      bn.runningMean.assign(tf.tensor(c.init.running_mean));
      bn.runningVar.assign(tf.tensor(c.init.running_var));
      if (c.affine) {
        bn.weight!.assign(tf.tensor(c.init.weight!));
        bn.bias!.assign(tf.tensor(c.init.bias!));
      }
      const params = c.affine ? [bn.weight!, bn.bias!] : [];
      for (const [t, st] of c.steps.entries()) {
        const what = `step ${t} (${st.training ? 'train' : 'eval'})`;
        const r = outAndGrads((x) => bn.forward(x, st.training), { x_shape: c.x_shape, x: st.x, r: st.r }, params);
        expectClose(r.y, st.y, `${what}: output`);
        expectClose(r.dx, st.dx, `${what}: d input`);
        if (c.affine) {
          expectClose(r.dp[0]!, st.dweight!, `${what}: d weight`);
          expectClose(r.dp[1]!, st.dbias!, `${what}: d bias`);
        }
        expectClose(bn.runningMean, st.running_mean, `${what}: running_mean`);
        expectClose(bn.runningVar, st.running_var, `${what}: running_var`);
        expect(bn.numBatchesTracked.dataSync()[0]).toBe(st.num_batches_tracked);
        tf.dispose([r.y, r.dx, ...r.dp]);
      }
      bn.dispose();
    });
  }

  it('running statistics are buffers: in namedBuffers, not in namedVariables; dispose frees both', () => {
    class Net extends nn.Module {
      conv = this.addChild('conv', new nn.Conv2d(3, 4, 3, { padding: 1 }, new Rng(0)));
      bn = this.addChild('bn', new nn.BatchNorm2d(4));
      plain = this.addChild('plain', new nn.BatchNorm2d(4, { affine: false }));
    }
    const net = new Net();
    expect([...net.namedVariables().keys()].sort()).toEqual(['bn.bias', 'bn.weight', 'conv.bias', 'conv.weight']);
    expect([...net.namedBuffers('m.').keys()].sort()).toEqual(
      ['bn.num_batches_tracked', 'bn.running_mean', 'bn.running_var', 'plain.num_batches_tracked', 'plain.running_mean', 'plain.running_var'].map((k) => `m.${k}`),
    );
    for (const v of net.namedBuffers().values()) expect(v.trainable).toBe(false);
    for (const v of net.namedVariables().values()) expect(v.trainable).toBe(true);
    expect(net.parameterCount()).toBe(3 * 3 * 3 * 4 + 4 + 8);
    // gradients of everything trainable never include the buffers
    const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 3) as Tensor4D;
    const { grads } = tf.variableGrads(() => net.bn.forward(net.conv.forward(x), true).square().mean() as never, [...net.namedVariables().values()]);
    expect(Object.keys(grads).length).toBe(4);
    tf.dispose(Object.values(grads));
    const all = [...net.namedVariables().values(), ...net.namedBuffers().values()];
    net.dispose();
    expect(all.every((v) => v.isDisposed)).toBe(true);
  });

  it('eval leaves the running statistics alone; a one-value batch is refused in training', () => {
    const bn = new nn.BatchNorm2d(2, { momentum: 0.5 });
    const x = tf.randomNormal([2, 3, 3, 2], 1, 2, 'float32', 4) as Tensor4D;
    bn.forward(x, false);
    expect(Array.from(bn.runningMean.dataSync())).toEqual([0, 0]);
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(0);
    bn.forward(x, true);
    expect(bn.runningMean.dataSync()[0]).not.toBe(0);
    expect(() => bn.forward(tf.zeros([1, 1, 1, 2]) as Tensor4D, true)).toThrow(/more than one value per channel/);
    expect(() => bn.forward(tf.zeros([2, 1, 1, 3]) as Tensor4D, true)).toThrow(/expects 2 channels/);
    bn.dispose();
  });
});

describe('pooling, bilinear resize, leaky ReLU against PyTorch', () => {
  const fns: Record<string, (c: Case) => (x: Tensor4D) => Tensor4D> = {
    max_pool2d: (c) => (x) => nn.maxPool2d(x, c.kernel as number, c.stride as number, c.padding as number),
    avg_pool2d: (c) => (x) => nn.avgPool2d(x, c.kernel as number, c.stride as number, c.padding as number, c.count_include_pad as boolean),
    upsample_bilinear: (c) => (x) => nn.upsampleBilinear(x, c.size as [number, number], c.align_corners as boolean),
    leaky_relu: (c) => (x) => nn.leakyRelu(x, c.slope as number),
  };
  for (const c of golden.cases.filter((k) => k.op in fns)) {
    // the bilinear resize has a native and a generic (gather + lerp) implementation: both must match
    for (const generic of c.op === 'upsample_bilinear' ? [false, true] : [false]) {
      it(`${c.name}${generic ? ' (generic ops)' : ''}`, () => {
        if (generic) process.env.UNIFIED_AD_GENERIC_OPS = '1';
        try {
          const r = outAndGrads(fns[c.op]!(c), c, []);
          expect(r.shape).toEqual(c.out_shape);
          expectClose(r.y, c.y, 'output');
          expectClose(r.dx, c.dx, 'd input');
          tf.dispose([r.y, r.dx]);
        } finally {
          delete process.env.UNIFIED_AD_GENERIC_OPS;
        }
      });
    }
  }

  it('refuses padding over half the kernel (as torch)', () => {
    const x = tf.zeros([1, 4, 4, 1]) as Tensor4D;
    expect(() => nn.maxPool2d(x, 2, 2, 2)).toThrow(/at most half the kernel/);
    expect(() => nn.avgPool2d(x, 3, 1, 2)).toThrow(/at most half the kernel/);
    expect(() => nn.upsampleBilinear(x, [0, 3])).toThrow(/size must be two positive integers/);
  });
});

describe('initialisation and options', () => {
  const stats = (t: Tensor) => {
    const v = Array.from(t.dataSync());
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    return { max: Math.max(...v.map(Math.abs)), std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length), mean };
  };

  it("PyTorch's default init: U(±1/√fanIn) for weight and bias, reproducible from the Rng", () => {
    const conv = new nn.Conv2d(32, 64, 3, {}, new Rng(5));
    const bound = 1 / Math.sqrt(32 * 9);
    const w = stats(conv.weight);
    expect(conv.weight.shape).toEqual([3, 3, 32, 64]);
    expect(w.max).toBeLessThanOrEqual(bound);
    expect(w.max).toBeGreaterThan(0.99 * bound);
    expect(Math.abs(w.std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.03); // 18k samples of U(±b): std b/√3
    expect(stats(conv.bias!).max).toBeLessThanOrEqual(bound);
    const again = new nn.Conv2d(32, 64, 3, {}, new Rng(5));
    expect(Array.from(again.weight.dataSync())).toEqual(Array.from(conv.weight.dataSync()));
    expect(Array.from(again.bias!.dataSync())).toEqual(Array.from(conv.bias!.dataSync()));
    // torch's fan-in of a transposed conv is out·kh·kw (its weight is [in, out, kh, kw])
    const ct = new nn.ConvTranspose2d(64, 16, 4, { stride: 2, padding: 1 }, new Rng(6));
    const tb = 1 / Math.sqrt(16 * 16);
    expect(ct.weight.shape).toEqual([4, 4, 16, 64]);
    expect(stats(ct.weight).max).toBeLessThanOrEqual(tb);
    expect(stats(ct.weight).max).toBeGreaterThan(0.99 * tb);
    expect(stats(ct.bias!).max).toBeLessThanOrEqual(tb);
    expect(new nn.Conv2d(3, 4, 3, { bias: false }, new Rng(0)).bias).toBeNull();
    tf.dispose([conv, again, ct].flatMap((m) => [...m.namedVariables().values()]));
  });

  it("the 4-argument form is layers.ts's reconstructor conv: same weights and output for the same Rng", () => {
    const a = new nn.Conv2d(6, 5, 3, new Rng(9));
    const b = new ReconstructorConv2d(6, 5, 3, new Rng(9));
    expect(Array.from(a.weight.dataSync())).toEqual(Array.from(b.weight.dataSync()));
    expect(Array.from(a.bias!.dataSync())).toEqual(Array.from(b.bias.dataSync()));
    const x = tf.randomNormal([2, 7, 7, 6], 0, 1, 'float32', 2) as Tensor4D;
    expectClose(a.apply(x, 'relu'), Array.from(b.apply(x, 'relu').dataSync()), 'output', 1e-6);
    expect(a.apply(x).shape).toEqual([2, 7, 7, 5]);
    a.dispose();
    b.dispose();
  });

  it('wrong options and inputs fail with a message naming them', () => {
    const rng = new Rng(0);
    expect(() => new nn.Conv2d(3, 4, 3, { stride: 2, padding: 'same' }, rng)).toThrow(/padding 'same' needs stride 1/);
    expect(() => new nn.Conv2d(3, 4, 0, {}, rng)).toThrow(/Conv2d kernel must be an integer ≥ 1/);
    expect(() => new nn.Conv2d(3, 4, 3, { dilation: [1, 0] }, rng)).toThrow(/Conv2d dilation/);
    expect(() => new nn.ConvTranspose2d(3, 4, 3, { stride: 2, outputPadding: 2 }, rng)).toThrow(/outputPadding must be smaller than stride/);
    expect(() => new nn.BatchNorm2d(3, { momentum: 2 })).toThrow(/momentum/);
    const conv = new nn.Conv2d(3, 4, 5, {}, rng);
    expect(() => conv.forward(tf.zeros([1, 6, 6, 2]) as Tensor4D)).toThrow(/expects 3 input channels, got 2/);
    expect(() => conv.forward(tf.zeros([1, 4, 6, 3]) as Tensor4D)).toThrow(/smaller than the \(dilated\) kernel/);
    conv.dispose();
  });
});

describe('memory', () => {
  it('repeated forward/backward through every layer leaves the tensor count flat', () => {
    const rng = new Rng(3);
    const layers = {
      c1: new nn.Conv2d(3, 8, 3, { stride: 2, padding: 1 }, rng),
      c2: new nn.Conv2d(8, 8, 3, { padding: 2, dilation: 2 }, rng),
      c3: new nn.Conv2d(8, 8, 3, { stride: 2, padding: 2, dilation: 2, bias: false }, rng),
      bn: new nn.BatchNorm2d(8),
      up: new nn.ConvTranspose2d(8, 4, 3, { stride: 2, padding: 1, outputPadding: 1 }, rng),
    };
    const vars = Object.values(layers).flatMap((m) => [...m.namedVariables().values()]);
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 1) as Tensor4D;
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => {
          let h = layers.c1.forward(x, 'relu');
          h = nn.leakyRelu(layers.bn.forward(layers.c2.forward(h), true), 0.2);
          h = nn.maxPool2d(layers.c3.forward(h), 3, 1, 1);
          h = layers.up.forward(nn.avgPool2d(h, 3, 1, 1, false));
          return nn.upsampleBilinear(h, [16, 16], false).square().mean() as never;
        }, vars);
        // an eval forward too
        layers.bn.forward(layers.c2.forward(layers.c1.forward(x)), false);
        return [value, ...Object.values(grads)];
      });
    tf.dispose(step());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.dispose(step());
    expect(tf.memory().numTensors).toBe(before);
    for (const m of Object.values(layers)) m.dispose();
    x.dispose();
  });
});
