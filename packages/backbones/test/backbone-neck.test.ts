import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tf, UserError } from '@unified-ad/core';
import { mfcnNeck, neckChannels } from '../src';
import type { Tensor4D } from '@tensorflow/tfjs-node';

const golden = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden', 'backbone_neck_golden.json'), 'utf8')) as {
  cases: { c: number; h: number; seed: number; out: number[] }[];
};

/** [1, h, h, c] NHWC tensor whose NCHW-ordered values are sin(0.37·i + seed) (as in backbone_neck_golden.py). */
function input(c: number, h: number, seed: number): Tensor4D {
  const nchw = Float32Array.from({ length: c * h * h }, (_, i) => Math.sin(0.37 * i + seed));
  return tf.tidy(() => tf.transpose(tf.tensor4d(nchw, [1, c, h, h]), [0, 2, 3, 1]));
}

describe('MFCN neck (UniAD feature alignment)', () => {
  it('2×2 → 3×3 is bilinear with aligned corners (hand case)', () => {
    const x = tf.tensor4d([0, 2, 4, 6], [1, 2, 2, 1]);
    const y = mfcnNeck([x], 3);
    // corners kept, midpoints averaged
    expect(Array.from(y.dataSync())).toEqual([0, 1, 2, 2, 3, 4, 4, 5, 6]);
    tf.dispose([x, y]);
  });

  it('shrinking uses the same op: 4×4 → 2×2 keeps the corner values, 5×5 → 3×3 samples every second cell', () => {
    const a = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i), [1, 4, 4, 1]);
    const ya = mfcnNeck([a], 2);
    expect(Array.from(ya.dataSync())).toEqual([0, 3, 12, 15]);
    const b = tf.tensor4d(Array.from({ length: 25 }, (_, i) => i * i), [1, 5, 5, 1]);
    const yb = mfcnNeck([b], 3);
    expect(Array.from(yb.dataSync())).toEqual([0, 4, 16, 100, 144, 196, 400, 484, 576]);
    tf.dispose([a, ya, b, yb]);
  });

  it('matches torch.nn.UpsamplingBilinear2d (golden values from backbone_neck_golden.py) for strides 4, 8, 32 and a 5×5 map', () => {
    for (const g of golden.cases) {
      const x = input(g.c, g.h, g.seed);
      const y = mfcnNeck([x], 14);
      expect(y.shape).toEqual([1, 14, 14, g.c]);
      const got = y.dataSync();
      let maxErr = 0;
      for (let i = 0; i < got.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - g.out[i]));
      expect(maxErr).toBeLessThan(2e-5);
      tf.dispose([x, y]);
    }
  });

  it('concatenates the resized maps in order along channels; 14×14 maps pass unchanged', () => {
    const a = tf.fill([2, 56, 56, 24], 1) as Tensor4D;
    const b = tf.fill([2, 28, 28, 32], 2) as Tensor4D;
    const c = tf.randomNormal([2, 14, 14, 96], 0, 1, 'float32', 5) as Tensor4D;
    const y = mfcnNeck([a, b, c], 14);
    expect(y.shape).toEqual([2, 14, 14, neckChannels([24, 32, 96])]);
    expect(y.shape[3]).toBe(152);
    const parts = tf.split(y, [24, 32, 96], 3);
    expect(tf.min(parts[0]).dataSync()[0]).toBe(1);
    expect(tf.max(parts[1]).dataSync()[0]).toBe(2);
    expect(tf.max(tf.abs(tf.sub(parts[2], c))).dataSync()[0]).toBe(0);
    tf.dispose([a, b, c, y, ...parts]);
  });

  it('rejects bad input with a UserError, and leaks no tensors', () => {
    const x = tf.zeros([1, 4, 4, 2]) as Tensor4D;
    const y = tf.zeros([2, 4, 4, 2]) as Tensor4D;
    expect(() => mfcnNeck([], 14)).toThrow(UserError);
    expect(() => mfcnNeck([x], 0)).toThrow(/grid size/);
    expect(() => mfcnNeck([x, y], 14)).toThrow(UserError);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) tf.tidy(() => void mfcnNeck([x, y.slice([0], [1])], 7));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
  });
});
