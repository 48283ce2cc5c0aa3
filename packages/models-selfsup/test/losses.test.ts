// The losses and maps of DRAEM and FCDD on hand-computed cases.
import { describe, it, expect } from 'vitest';
import type { Tensor, Tensor1D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng } from '@unified-ad/core';
import { focalLoss, ssim, ssimLoss, gaussian1d, pseudoHuber, hscLoss, receptiveKernel, receptiveUpsample, draemImageScore, FcddNet } from '../src';

const val = (t: Tensor) => { const v = t.dataSync()[0]!; t.dispose(); return v; };

describe('DRAEM focal loss (γ = 2, smoothing 1e-5)', () => {
  it('matches the formula on a two-pixel case', () => {
    // pixel 1: p = [0.8, 0.2], target normal; pixel 2: p = [0.3, 0.7], target anomalous
    const probs = tf.tensor4d([0.8, 0.2, 0.3, 0.7], [1, 1, 2, 2]) as Tensor4D;
    const mask = tf.tensor4d([0, 1], [1, 1, 2, 1]) as Tensor4D;
    const s = 1e-5;
    const pt1 = 0.8 * (1 - s) + 0.2 * s + s, pt2 = 0.3 * s + 0.7 * (1 - s) + s;
    const want = (-((1 - pt1) ** 2) * Math.log(pt1) - (1 - pt2) ** 2 * Math.log(pt2)) / 2;
    expect(val(focalLoss(probs, mask))).toBeCloseTo(want, 6);
    // γ = 0 is the (smoothed) cross-entropy
    expect(val(focalLoss(probs, mask, 0))).toBeCloseTo((-Math.log(pt1) - Math.log(pt2)) / 2, 6);
    tf.dispose([probs, mask]);
  });

  it('down-weights confident pixels: a well-classified pixel costs (1 − pt)² times the cross-entropy', () => {
    const probs = tf.tensor4d([0.99, 0.01], [1, 1, 1, 2]) as Tensor4D;
    const mask = tf.zeros([1, 1, 1, 1]) as Tensor4D;
    const f = val(focalLoss(probs, mask)), ce = val(focalLoss(probs, mask, 0));
    expect(f / ce).toBeCloseTo((1 - (0.99 * (1 - 1e-5) + 0.01 * 1e-5 + 1e-5)) ** 2, 6);
    tf.dispose([probs, mask]);
  });
});

/** A direct SSIM (zero padding, per channel, Gaussian σ = 1.5) in float64 loops: the reference for ssim(). */
function naiveSsim(a: Float32Array, b: Float32Array, h: number, w: number, win: number): number {
  const g = gaussian1d(win);
  const p = win >> 1;
  const at = (x: Float32Array, i: number, j: number) => (i < 0 || j < 0 || i >= h || j >= w ? 0 : x[i * w + j]!);
  let total = 0;
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++) {
      let m1 = 0, m2 = 0, e11 = 0, e22 = 0, e12 = 0;
      for (let u = 0; u < win; u++)
        for (let v = 0; v < win; v++) {
          const k = g[u]! * g[v]!;
          const x = at(a, i + u - p, j + v - p), y = at(b, i + u - p, j + v - p);
          m1 += k * x; m2 += k * y; e11 += k * x * x; e22 += k * y * y; e12 += k * x * y;
        }
      const s1 = e11 - m1 * m1, s2 = e22 - m2 * m2, s12 = e12 - m1 * m2;
      const C1 = 0.01 ** 2, C2 = 0.03 ** 2;
      total += ((2 * m1 * m2 + C1) * (2 * s12 + C2)) / ((m1 * m1 + m2 * m2 + C1) * (s1 + s2 + C2));
    }
  return total / (h * w);
}

describe('DRAEM SSIM (11×11 Gaussian window)', () => {
  it('is 1 for identical images and the closed form for constants with a 1×1 window', () => {
    const rng = new Rng(3);
    const a = rng.uniformTensor([2, 16, 16, 3]) as Tensor4D;
    expect(val(ssim(a, a))).toBeCloseTo(1, 5);
    expect(val(ssimLoss(a, a))).toBeCloseTo(0, 5);
    const c1 = tf.fill([1, 4, 4, 1], 0.2) as Tensor4D, c2 = tf.fill([1, 4, 4, 1], 0.6) as Tensor4D;
    const C1 = 1e-4;
    expect(val(ssim(c1, c2, 1))).toBeCloseTo((2 * 0.2 * 0.6 + C1) / (0.04 + 0.36 + C1), 6);
    tf.dispose([a, c1, c2]);
  });

  it('matches a direct float64 computation on random images', () => {
    const rng = new Rng(5);
    const h = 16, w = 13;
    const a = Float32Array.from({ length: h * w }, () => rng.uniform());
    const b = Float32Array.from(a, (v) => Math.min(1, Math.max(0, v + 0.3 * (rng.uniform() - 0.5))));
    const ta = tf.tensor4d(a, [1, h, w, 1]), tb = tf.tensor4d(b, [1, h, w, 1]);
    expect(val(ssim(ta, tb, 11))).toBeCloseTo(naiveSsim(a, b, h, w, 11), 4);
    tf.dispose([ta, tb]);
  });
});

describe('DRAEM image score', () => {
  it('is the max of the 21×21 average-pooled map (count_include_pad)', () => {
    const m = new Float32Array(32 * 32);
    m[10 * 32 + 10] = 1; // one hot pixel, far from the border
    const map = tf.tensor3d(m, [1, 32, 32]);
    expect(val(draemImageScore(map))).toBeCloseTo(1 / 441, 7);
    map.dispose();
  });
});

describe('FCDD pseudo-Huber and HSC loss', () => {
  it('A = √(x² + 1) − 1', () => {
    const a = pseudoHuber(tf.tensor1d([0, 1, -3, 0.001]));
    const v = Array.from(a.dataSync());
    a.dispose();
    [0, Math.SQRT2 - 1, Math.sqrt(10) - 1, Math.sqrt(1e-6 + 1) - 1].forEach((e, i) => expect(v[i]).toBeCloseTo(e, 6));
  });

  it('HSC: mean A for normal images, −log(1 − exp(−mean A)) for anomalous ones, averaged', () => {
    const m = tf.tensor1d([0.5, 0.5, 2, 0.01]) as Tensor1D;
    const want = (0.5 - Math.log(1 - Math.exp(-0.5)) + 2 - Math.log(1 - Math.exp(-0.01))) / 4;
    expect(val(hscLoss(m, [0, 1, 0, 1]))).toBeCloseTo(want, 5);
    // all normal: the mean; a perfectly separated anomalous image costs ~0
    expect(val(hscLoss(m, [0, 0, 0, 0]))).toBeCloseTo((0.5 + 0.5 + 2 + 0.01) / 4, 6);
    const big = tf.tensor1d([50]) as Tensor1D;
    expect(val(hscLoss(big, [1]))).toBeLessThan(1e-6);
    tf.dispose([m, big]);
  });

  it('the gradient pushes A down for normal and up for anomalous images', () => {
    const g = tf.grad((x: Tensor) => hscLoss(x as Tensor1D, [0, 1]))(tf.tensor1d([0.3, 0.3]));
    const v = g.dataSync();
    expect(v[0]).toBeGreaterThan(0);
    expect(v[1]).toBeLessThan(0);
    expect(v[1]).toBeCloseTo(-0.5 * Math.exp(-0.3) / (1 - Math.exp(-0.3)), 4);
    g.dispose();
  });
});

describe('FCDD receptive-field upsampling', () => {
  it('the VGG11-style net has stride 8 and a 62 px receptive field', () => {
    const net = new FcddNet(2, new Rng(0));
    expect([net.stride, net.receptiveField]).toEqual([8, 62]);
    net.dispose();
  });

  it('a single cell spreads a Gaussian centred on its receptive-field centre (σ in pixels), summing to its value', () => {
    const { kernel, size, crop } = receptiveKernel(8, 62, 12);
    expect([size, crop]).toEqual([62, 27]);
    expect(kernel.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    const a = new Float32Array(8 * 8);
    a[3 * 8 + 4] = 2; // cell (3, 4) of an 8×8 map → pixel centre (27.5, 35.5) of 64×64
    const t = tf.tensor4d(a, [1, 8, 8, 1]) as Tensor4D;
    const up = receptiveUpsample(t, 8, 62, 12);
    expect(up.shape).toEqual([1, 64, 64]);
    const v = up.dataSync();
    const at = (i: number, j: number) => v[i * 64 + j]!;
    // symmetric about (27.5, 35.5): the four pixels around the centre are equal and the largest
    expect(at(27, 35)).toBeCloseTo(at(28, 36), 7);
    expect(at(27, 36)).toBeCloseTo(at(28, 35), 7);
    let max = 0;
    for (const x of v) max = Math.max(max, x);
    expect(at(27, 35)).toBeCloseTo(max, 7);
    // the Gaussian's profile along a row: pixel 47 is 11.5 px from the centre column 35.5, pixel 35 is 0.5 px
    expect(at(27, 47) / at(27, 35)).toBeCloseTo(Math.exp(-(11.5 ** 2 - 0.5 ** 2) / (2 * 144)), 6);
    tf.dispose([t, up]);
  });
});
