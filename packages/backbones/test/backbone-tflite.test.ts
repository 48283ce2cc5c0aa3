// The TFLite reader and float graph runner: a tiny hand-built flatbuffer checked against naive
// reference ops written here (TF SAME padding rule, OHWI filters, per-channel dequantisation, depth
// multiplier), then the real MobileNetV2 file from ../shared (cat.bmp → "Egyptian cat").
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Builder } from 'flatbuffers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { sharedPath, tf, UserError } from '@unified-ad/core';
import {
  createBackbone,
  decodeBmp,
  dequantize,
  loadMobileNetV2,
  MOBILENET_V2_DEFAULT_LAYERS,
  parseTflite,
  readBmp,
  TfliteGraph,
  type MobileNetV2,
} from '../src';

// ---------------------------------------------------------------- a tiny TFLite model, built by hand
type TensorDef = { name: string; shape: number[]; type: number; data?: Uint8Array; scale?: number[]; zp?: number[]; qdim?: number };
type OpDef = { code: number; deprecatedOnly?: boolean; inputs: number[]; outputs: number[]; optType: number; opt?: (b: Builder) => number };

const INT8 = 9;
const INT32 = 2;
const FLOAT32 = 0;

function i32vec(b: Builder, xs: number[]): number {
  b.startVector(4, xs.length, 4);
  for (let i = xs.length - 1; i >= 0; i--) b.addInt32(xs[i]);
  return b.endVector();
}
function f32vec(b: Builder, xs: number[]): number {
  b.startVector(4, xs.length, 4);
  for (let i = xs.length - 1; i >= 0; i--) b.addFloat32(xs[i]);
  return b.endVector();
}
function i64vec(b: Builder, xs: number[]): number {
  b.startVector(8, xs.length, 8);
  for (let i = xs.length - 1; i >= 0; i--) b.addInt64(BigInt(xs[i]));
  return b.endVector();
}
function offVec(b: Builder, xs: number[]): number {
  b.startVector(4, xs.length, 4);
  for (let i = xs.length - 1; i >= 0; i--) b.addOffset(xs[i]);
  return b.endVector();
}

function buildModel(tensors: TensorDef[], ops: OpDef[], inputs: number[], outputs: number[]): Uint8Array {
  const b = new Builder(4096);
  b.forceDefaults(true);
  // buffers: 0 = empty, then one per constant tensor
  const bufferData: (Uint8Array | null)[] = [null];
  const tensorBuffer = tensors.map((t) => (t.data ? bufferData.push(t.data) - 1 : 0));
  const buffers = bufferData.map((d) => {
    const v = d ? b.createByteVector(d) : 0;
    b.startObject(1);
    if (d) b.addFieldOffset(0, v, 0);
    return b.endObject();
  });
  const tOffs = tensors.map((t, i) => {
    const name = b.createString(t.name);
    const shape = i32vec(b, t.shape);
    let q = 0;
    if (t.scale) {
      const sc = f32vec(b, t.scale);
      const zp = i64vec(b, t.zp ?? t.scale.map(() => 0));
      b.startObject(7);
      b.addFieldOffset(2, sc, 0);
      b.addFieldOffset(3, zp, 0);
      b.addFieldInt32(6, t.qdim ?? 0, 0);
      q = b.endObject();
    }
    b.startObject(5);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, t.type, 0);
    b.addFieldInt32(2, tensorBuffer[i], 0);
    b.addFieldOffset(3, name, 0);
    if (q) b.addFieldOffset(4, q, 0);
    return b.endObject();
  });
  const codes = [...new Set(ops.map((o) => `${o.code}|${o.deprecatedOnly ? 1 : 0}`))];
  const codeOffs = codes.map((c) => {
    const [code, depOnly] = c.split('|').map(Number);
    b.startObject(4);
    b.addFieldInt8(0, Math.min(code, 127), 0);
    if (!depOnly) b.addFieldInt32(3, code, 0);
    return b.endObject();
  });
  const opOffs = ops.map((o) => {
    const ins = i32vec(b, o.inputs);
    const outs = i32vec(b, o.outputs);
    const opt = o.opt ? o.opt(b) : 0;
    b.startObject(5);
    b.addFieldInt32(0, codes.indexOf(`${o.code}|${o.deprecatedOnly ? 1 : 0}`), 0);
    b.addFieldOffset(1, ins, 0);
    b.addFieldOffset(2, outs, 0);
    b.addFieldInt8(3, o.optType, 0);
    if (opt) b.addFieldOffset(4, opt, 0);
    return b.endObject();
  });
  const tv = offVec(b, tOffs);
  const iv = i32vec(b, inputs);
  const ov = i32vec(b, outputs);
  const opv = offVec(b, opOffs);
  b.startObject(5);
  b.addFieldOffset(0, tv, 0);
  b.addFieldOffset(1, iv, 0);
  b.addFieldOffset(2, ov, 0);
  b.addFieldOffset(3, opv, 0);
  const sg = b.endObject();
  const cv = offVec(b, codeOffs);
  const sgv = offVec(b, [sg]);
  const bv = offVec(b, buffers);
  const desc = b.createString('hand-built');
  b.startObject(5);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, cv, 0);
  b.addFieldOffset(2, sgv, 0);
  b.addFieldOffset(3, desc, 0);
  b.addFieldOffset(4, bv, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array();
}

const bytesOf = (a: Int8Array | Int32Array | Float32Array) => new Uint8Array(a.buffer.slice(0));
// Conv2DOptions: padding 0 (SAME 0, VALID 1), stride_w 1, stride_h 2, fused_activation 3 (RELU6 = 3)
const convOpt = (pad: number, s: number, act: number) => (b: Builder) => {
  b.startObject(6);
  b.addFieldInt8(0, pad, 0);
  b.addFieldInt32(1, s, 0);
  b.addFieldInt32(2, s, 0);
  b.addFieldInt8(3, act, 0);
  b.addFieldInt32(4, 1, 1);
  b.addFieldInt32(5, 1, 1);
  return b.endObject();
};
// DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3, fused_activation 4
const dwOpt = (pad: number, s: number, mult: number, act: number) => (b: Builder) => {
  b.startObject(7);
  b.addFieldInt8(0, pad, 0);
  b.addFieldInt32(1, s, 0);
  b.addFieldInt32(2, s, 0);
  b.addFieldInt32(3, mult, 0);
  b.addFieldInt8(4, act, 0);
  return b.endObject();
};
const addOpt = (act: number) => (b: Builder) => {
  b.startObject(2);
  b.addFieldInt8(0, act, 0);
  return b.endObject();
};
const meanOpt = (keep: boolean) => (b: Builder) => {
  b.startObject(1);
  b.addFieldInt8(0, keep ? 1 : 0, 0);
  return b.endObject();
};

// ---------------------------------------------------------------- naive reference ops (NHWC, batch 1)
type Arr = { d: Float32Array; h: number; w: number; c: number };
/** TF 'SAME': out = ceil(in/s), pad_before = floor(total/2) with total = max((out−1)s + k − in, 0). */
function samePad(inp: number, k: number, s: number) {
  const out = Math.ceil(inp / s);
  return { out, before: Math.floor(Math.max((out - 1) * s + k - inp, 0) / 2) };
}
function refConv(x: Arr, wOhwi: Float32Array, o: number, k: number, bias: Float32Array, s: number, same: boolean, relu6: boolean): Arr {
  const p = same ? samePad(x.h, k, s) : { out: Math.floor((x.h - k) / s) + 1, before: 0 };
  const out = new Float32Array(p.out * p.out * o);
  for (let y = 0; y < p.out; y++)
    for (let xx = 0; xx < p.out; xx++)
      for (let oc = 0; oc < o; oc++) {
        let acc = bias[oc];
        for (let i = 0; i < k; i++)
          for (let j = 0; j < k; j++) {
            const iy = y * s + i - p.before;
            const ix = xx * s + j - p.before;
            if (iy < 0 || ix < 0 || iy >= x.h || ix >= x.w) continue;
            for (let ic = 0; ic < x.c; ic++) acc += x.d[(iy * x.w + ix) * x.c + ic] * wOhwi[((oc * k + i) * k + j) * x.c + ic];
          }
        out[(y * p.out + xx) * o + oc] = relu6 ? Math.min(6, Math.max(0, acc)) : acc;
      }
  return { d: out, h: p.out, w: p.out, c: o };
}
function refDepthwise(x: Arr, w: Float32Array /* [1,k,k,c·m] */, k: number, m: number, bias: Float32Array, s: number): Arr {
  const p = samePad(x.h, k, s);
  const co = x.c * m;
  const out = new Float32Array(p.out * p.out * co);
  for (let y = 0; y < p.out; y++)
    for (let xx = 0; xx < p.out; xx++)
      for (let ic = 0; ic < x.c; ic++)
        for (let q = 0; q < m; q++) {
          const oc = ic * m + q;
          let acc = bias[oc];
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const iy = y * s + i - p.before;
              const ix = xx * s + j - p.before;
              if (iy < 0 || ix < 0 || iy >= x.h || ix >= x.w) continue;
              acc += x.d[(iy * x.w + ix) * x.c + ic] * w[(i * k + j) * co + oc];
            }
          out[(y * p.out + xx) * co + oc] = acc;
        }
  return { d: out, h: p.out, w: p.out, c: co };
}

// ---------------------------------------------------------------- the tiny model
// input [1,5,5,2] → CONV_2D 3×3 stride 2 SAME relu6 (int8 per-channel filter, int32 bias) → [1,3,3,3]
// → DEPTHWISE 3×3 stride 1 SAME, multiplier 2 (float32) → [1,3,3,6] → ADD const, RELU6 → MEAN(1,2)
// keep_dims → RESHAPE [1,6] → SOFTMAX → QUANTIZE
const qW = Int8Array.from({ length: 3 * 3 * 3 * 2 }, (_, i) => ((i * 37) % 23) - 11);
const wScale = [0.05, 0.1, 0.02];
const wZp = [0, 1, -2];
const qB = Int32Array.from([40, -30, 100]);
const bScale = [0.01, 0.02, 0.005];
const dwW = Float32Array.from({ length: 3 * 3 * 6 }, (_, i) => Math.cos(i * 0.7) * 0.5);
const dwB = Float32Array.from([0.1, -0.2, 0.3, 0, 0.05, -0.1]);
const addC = Float32Array.from([0.5, 1, 1.5, 2, 2.5, 3]);
const tensors: TensorDef[] = [
  { name: 'input', shape: [1, 5, 5, 2], type: FLOAT32 },
  { name: 'w;fused', shape: [3, 3, 3, 2], type: INT8, data: bytesOf(qW), scale: wScale, zp: wZp, qdim: 0 },
  { name: 'b', shape: [3], type: INT32, data: bytesOf(qB), scale: bScale },
  { name: 'Net/block/conv/relu6/Relu6;StatefulPartitionedCall/Net/block/conv/relu6/Relu6', shape: [1, 3, 3, 3], type: FLOAT32 },
  { name: 'dw', shape: [1, 3, 3, 6], type: FLOAT32, data: bytesOf(dwW) },
  { name: 'dwb', shape: [6], type: FLOAT32, data: bytesOf(dwB) },
  { name: 'Net/block/depthwise', shape: [1, 3, 3, 6], type: FLOAT32 },
  { name: 'c', shape: [6], type: FLOAT32, data: bytesOf(addC) },
  { name: 'Net/block/add/add', shape: [1, 3, 3, 6], type: FLOAT32 },
  { name: 'axes', shape: [2], type: INT32, data: bytesOf(Int32Array.from([1, 2])) },
  { name: 'pool', shape: [1, 1, 1, 6], type: FLOAT32 },
  { name: 'shape', shape: [2], type: INT32, data: bytesOf(Int32Array.from([1, 6])) },
  { name: 'logits', shape: [1, 6], type: FLOAT32 },
  { name: 'probs', shape: [1, 6], type: FLOAT32 },
  { name: 'out', shape: [1, 6], type: FLOAT32 },
];
const ops: OpDef[] = [
  { code: 3, deprecatedOnly: true, inputs: [0, 1, 2], outputs: [3], optType: 1, opt: convOpt(0, 2, 3) },
  { code: 4, inputs: [3, 4, 5], outputs: [6], optType: 2, opt: dwOpt(0, 1, 2, 0) },
  { code: 0, inputs: [6, 7], outputs: [8], optType: 11, opt: addOpt(3) },
  { code: 40, inputs: [8, 9], outputs: [10], optType: 27, opt: meanOpt(true) },
  { code: 22, inputs: [10, 11], outputs: [12], optType: 0 },
  { code: 25, inputs: [12], outputs: [13], optType: 0 },
  { code: 114, inputs: [13], outputs: [14], optType: 0 },
];
const tinyBytes = buildModel(tensors, ops, [0], [14]);
const inputVals = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i * 1.3) * 3);

function reference(xv: Float32Array) {
  const wDeq = Float32Array.from(qW, (q, i) => (q - wZp[Math.floor(i / 18)]) * wScale[Math.floor(i / 18)]);
  const bDeq = Float32Array.from(qB, (q, i) => q * bScale[i]);
  const conv = refConv({ d: xv, h: 5, w: 5, c: 2 }, wDeq, 3, 3, bDeq, 2, true, true);
  const dw = refDepthwise(conv, dwW, 3, 2, dwB, 1);
  const add = Float32Array.from(dw.d, (v, i) => Math.min(6, Math.max(0, v + addC[i % 6])));
  const mean = Array.from({ length: 6 }, (_, c) => add.filter((_, i) => i % 6 === c).reduce((a, v) => a + v, 0) / 9);
  const mx = Math.max(...mean);
  const e = mean.map((v) => Math.exp(v - mx));
  const z = e.reduce((a, v) => a + v, 0);
  return { conv: conv.d, dw: dw.d, add, probs: e.map((v) => v / z) };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('TFLite flatbuffer reader', () => {
  const m = parseTflite(tinyBytes);
  it('reads tensors, quantization, operator codes (deprecated_builtin_code too) and options', () => {
    expect(m.tensors).toHaveLength(15);
    expect(m.tensors[1].shape).toEqual([3, 3, 3, 2]);
    expect(m.tensors[1].type).toBe('int8');
    expect(Array.from(m.tensors[1].quantization!.scale)).toEqual(wScale.map((v) => Math.fround(v)));
    expect(m.tensors[1].quantization!.zeroPoint).toEqual(wZp);
    expect(m.operators.map((o) => o.op)).toEqual(['CONV_2D', 'DEPTHWISE_CONV_2D', 'ADD', 'MEAN', 'RESHAPE', 'SOFTMAX', 'QUANTIZE']);
    expect(m.operators[0].options).toMatchObject({ padding: 'same', strideH: 2, strideW: 2, activation: 'RELU6' });
    expect(m.operators[1].options).toMatchObject({ padding: 'same', strideH: 1, depthMultiplier: 2, activation: 'NONE' });
    expect(m.operators[3].options).toEqual({ keepDims: true });
    expect(m.inputs).toEqual([0]);
    expect(m.outputs).toEqual([14]);
  });

  it('dequantizes per output channel as (q − zero_point) · scale', () => {
    const v = dequantize(m.tensors[1], m.buffers[m.tensors[1].buffer]);
    expect(v[0]).toBeCloseTo((qW[0] - 0) * 0.05, 6);
    expect(v[18]).toBeCloseTo((qW[18] - 1) * 0.1, 6);
    expect(v[53]).toBeCloseTo((qW[53] + 2) * 0.02, 6);
    const b = dequantize(m.tensors[2], m.buffers[m.tensors[2].buffer]);
    [0.4, -0.6, 0.5].forEach((want, i) => expect(b[i]).toBeCloseTo(want, 6));
  });

  it('rejects a file that is not a TFLite model with a UserError naming it', () => {
    expect(() => parseTflite(new Uint8Array(64), 'x.tflite')).toThrow(/x\.tflite: not a TFLite/);
  });
});

describe('float graph runner on the hand-built model', () => {
  const m = parseTflite(tinyBytes);
  const ref = reference(inputVals);
  const sessionDir = fs.mkdtempSync(path.join(os.tmpdir(), 'uad-tflite-'));
  afterAll(() => fs.rmSync(sessionDir, { recursive: true, force: true }));

  for (const executor of ['eager', 'session'] as const) {
    it(`${executor}: every intermediate matches the naive reference (SAME padding, OHWI, depth multiplier, fused relu6)`, () => {
      const g = new TfliteGraph(m, 'tiny', { executor, sessionDir });
      const x = tf.tensor4d(inputVals, [1, 5, 5, 2]);
      const names = ['Net/block/conv/relu6', 'Net/block/depthwise', 'Net/block/add', 'out'];
      const outs = g.run(x, names.map((n) => g.resolve(n)));
      expect(outs.map((o) => o.shape)).toEqual([[1, 3, 3, 3], [1, 3, 3, 6], [1, 3, 3, 6], [1, 6]]);
      expect(maxDiff(outs[0].dataSync(), ref.conv)).toBeLessThan(1e-5);
      expect(maxDiff(outs[1].dataSync(), ref.dw)).toBeLessThan(1e-5);
      expect(maxDiff(outs[2].dataSync(), ref.add)).toBeLessThan(1e-5);
      expect(maxDiff(outs[3].dataSync(), ref.probs)).toBeLessThan(1e-6);
      // batched: two different images give the per-image results
      const x2 = tf.concat([x, tf.mul(x, -1)]) as Tensor4D;
      const [p2] = g.run(x2, [g.outputIndex]);
      expect(p2.shape).toEqual([2, 6]);
      expect(maxDiff(p2.dataSync().slice(0, 6), ref.probs)).toBeLessThan(1e-6);
      expect(maxDiff(p2.dataSync().slice(6), reference(Float32Array.from(inputVals, (v) => -v)).probs)).toBeLessThan(1e-6);
      tf.dispose([x, x2, p2, ...outs]);
      // only the ancestors of a target run
      expect(g.opsNeeded([g.resolve('Net/block/conv/relu6')])).toBe(1);
      expect(g.opsNeeded([g.outputIndex])).toBe(7);
      g.dispose();
    });
  }

  it('names: full stored name, its first ";" part, and the short form all resolve; unknown names are a UserError', () => {
    const g = new TfliteGraph(m, 'tiny', { executor: 'eager' });
    const full = g.resolve(tensors[3].name);
    expect(g.resolve('Net/block/conv/relu6/Relu6')).toBe(full);
    expect(g.resolve('Net/block/conv/relu6')).toBe(full);
    expect(() => g.resolve('nope')).toThrow(UserError);
    g.dispose();
  });
});

describe('BMP reader', () => {
  function bmp(w: number, h: number, bpp: 24 | 32, topDown: boolean, px: (x: number, y: number) => [number, number, number]): Uint8Array {
    const stride = Math.ceil((bpp * w) / 32) * 4;
    const buf = Buffer.alloc(54 + stride * h);
    buf.write('BM', 0, 'latin1');
    buf.writeUInt32LE(buf.length, 2);
    buf.writeUInt32LE(54, 10);
    buf.writeUInt32LE(40, 14);
    buf.writeInt32LE(w, 18);
    buf.writeInt32LE(topDown ? -h : h, 22);
    buf.writeUInt16LE(1, 26);
    buf.writeUInt16LE(bpp, 28);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const row = topDown ? y : h - 1 - y;
        const [r, g, b] = px(x, y);
        const o = 54 + row * stride + x * (bpp / 8);
        buf[o] = b;
        buf[o + 1] = g;
        buf[o + 2] = r;
        if (bpp === 32) buf[o + 3] = 255;
      }
    return buf;
  }
  const px = (x: number, y: number): [number, number, number] => [10 * x + y, 100 + y, 200 - x];
  for (const [bpp, td] of [[24, false], [32, true], [24, true]] as const) {
    it(`${bpp}-bit ${td ? 'top-down' : 'bottom-up'} with row padding`, () => {
      const img = decodeBmp(bmp(3, 2, bpp, td, px));
      expect([img.width, img.height]).toEqual([3, 2]);
      const want: number[] = [];
      for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) want.push(...px(x, y));
      expect(Array.from(img.data)).toEqual(want);
    });
  }
  it('bad files are UserErrors', () => {
    expect(() => decodeBmp(new Uint8Array(10), 'a.bmp')).toThrow(/a\.bmp: not a BMP/);
    const b = bmp(2, 2, 24, false, px);
    Buffer.from(b.buffer).writeUInt16LE(8, 28);
    expect(() => decodeBmp(b, 'b.bmp')).toThrow(/8-bit BMP is not supported/);
    expect(() => readBmp('/nonexistent/c.bmp')).toThrow(UserError);
  });
});

// ---------------------------------------------------------------- the real MobileNetV2 (../shared)
const weights = sharedPath('weights', 'mobilenet-v2-imagenet', 'tf2_mobilenet_v2_1.0_224_ptq.tflite');
if (!weights) console.log('note: ../shared/weights/mobilenet-v2-imagenet absent: MobileNetV2 tests skipped');

describe.skipIf(!weights)('MobileNetV2 (TFLite, ImageNet) from ../shared', () => {
  let session: MobileNetV2;
  let eager: MobileNetV2;
  let cat: Tensor4D;
  let labels: string[];
  beforeAll(async () => {
    session = await loadMobileNetV2({ path: weights!, executor: 'session' });
    eager = await loadMobileNetV2({ path: weights!, executor: 'eager' });
    const dir = path.dirname(weights!);
    const img = readBmp(path.join(dir, 'cat.bmp'));
    cat = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(img.data, [img.height, img.width, 3], 'int32').toFloat(), [224, 224]).expandDims(0)) as Tensor4D;
    labels = fs.readFileSync(path.join(dir, 'imagenet_labels.txt'), 'utf8').split('\n');
  });
  afterAll(() => {
    session?.dispose();
    eager?.dispose();
    cat?.dispose();
  });

  it('cat.bmp → "Egyptian cat" with probability about 0.7, the same with both executors', () => {
    expect(labels).toHaveLength(1001 + (labels[1001] === '' ? 1 : 0));
    for (const b of [session, eager]) {
      const p = b.classify(cat);
      expect(p.shape).toEqual([1, 1001]);
      const d = p.dataSync();
      const top = d.indexOf(Math.max(...d));
      expect(labels[top]).toBe('Egyptian cat');
      expect(d[top]).toBeGreaterThan(0.6);
      expect(d[top]).toBeLessThan(0.8);
      p.dispose();
    }
  });

  it('layer names, strides and channels at 224 (the README table)', () => {
    const info = new Map(session.layerInfo().map((l) => [l.name, l]));
    expect(info.get('expanded_conv_3/add')).toEqual({ name: 'expanded_conv_3/add', stride: 4, channels: 24 });
    expect(info.get('expanded_conv_6/add')).toEqual({ name: 'expanded_conv_6/add', stride: 8, channels: 32 });
    expect(info.get('expanded_conv_10/add')).toEqual({ name: 'expanded_conv_10/add', stride: 16, channels: 64 });
    expect(info.get('expanded_conv_13/add')).toEqual({ name: 'expanded_conv_13/add', stride: 16, channels: 96 });
    expect(info.get('expanded_conv_16/add')).toEqual({ name: 'expanded_conv_16/add', stride: 32, channels: 160 });
    expect(info.get('expanded_conv_7/expand/relu6')).toEqual({ name: 'expanded_conv_7/expand/relu6', stride: 8, channels: 192 });
    expect(session.layerInfo().length).toBeGreaterThan(50);
    expect([...session.defaultLayers]).toEqual([...MOBILENET_V2_DEFAULT_LAYERS]);
  });

  it('extract: shapes of a batch, equal for both executors, and each image as if alone', () => {
    const x = tf.tidy(() => tf.concat([cat, tf.reverse(cat, 2), tf.fill([1, 224, 224, 3], 128)])) as Tensor4D;
    const layers = ['expanded_conv_3/add', 'expanded_conv_6/add', 'expanded_conv_13/add', 'expanded_conv_16/add'];
    const a = session.extract(x, layers);
    const b = eager.extract(x, layers);
    expect(a.map((t) => t.shape)).toEqual([[3, 56, 56, 24], [3, 28, 28, 32], [3, 14, 14, 96], [3, 7, 7, 160]]);
    for (let i = 0; i < a.length; i++) expect(tf.max(tf.abs(tf.sub(a[i], b[i]))).dataSync()[0]).toBeLessThan(1e-3);
    const single = session.extract(tf.slice(x, [1], [1]) as Tensor4D, ['expanded_conv_13/add']);
    expect(tf.max(tf.abs(tf.sub(single[0], tf.slice(a[2], [1], [1])))).dataSync()[0]).toBeLessThan(1e-3);
    tf.dispose([x, ...a, ...b, ...single]);
  });

  it('unknown or non-map layers are UserErrors; repeated extract calls leak no tensors', async () => {
    expect(() => session.extract(cat, ['expanded_conv_99/add'])).toThrow(UserError);
    expect(() => session.extract(cat, ['Identity'])).toThrow(/not a feature map/);
    expect(() => session.extract(tf.zeros([1, 8, 8]) as unknown as Tensor4D, ['expanded_conv_3/add'])).toThrow(/\[N, H, W, 3\]/);
    for (const b of [session, eager]) {
      const before = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) tf.dispose(b.extract(cat, [...b.defaultLayers]));
      expect(tf.memory().numTensors).toBe(before);
    }
    const viaRegistry = await createBackbone({ id: 'mobilenet_v2', path: weights!, executor: 'eager' });
    expect(viaRegistry.weightsHash).toBe('5d3137241276e79c86d14a74fe43581398ae0e815191d3dba45495b810840e8c');
    viaRegistry.dispose();
  });
});
