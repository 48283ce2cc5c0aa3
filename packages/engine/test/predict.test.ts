// predictAll: where the image score comes from when the maps are blurred (eval.imageScoreMap).
import { describe, it, expect } from 'vitest';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, tensorFitData, type Method, type Sample } from '@unified-ad/core';
import { gaussianBlur, imageScoreFromMap, type ImageScoreMethod } from '@unified-ad/eval';
import { predictAll, toRunConfig } from '../src';

const N = 5, G = 4, R = 32;
// maps with one sharp peak each: blurring moves the max, so raw and blurred scores differ
const raw = Float32Array.from({ length: N * G * G }, (_, i) => ((i * 7919) % 101) / 101 + (i % (G * G) === (i / (G * G) | 0) ? 3 : 0));
const samples = Array.from({ length: N }, (_, i) => ({ id: `s${i}` })) as unknown as Sample[];

function fakeMethod(ownScores: boolean): Method {
  return {
    predict: (b: { features: Tensor4D }) => ({
      maps: b.features.squeeze([3]),
      ...(ownScores ? { scores: b.features.sum([1, 2, 3]) } : {}),
    }),
  } as unknown as Method;
}

function upsampled(): { data: Float32Array; height: number; width: number }[] {
  return tf.tidy(() => {
    const up = tf.image.resizeBilinear(tf.tensor4d(raw, [N, G, G, 1]), [R, R], true).dataSync() as Float32Array;
    return Array.from({ length: N }, (_, i) => ({ data: up.slice(i * R * R, (i + 1) * R * R), height: R, width: R }));
  });
}

describe('predictAll image scores', () => {
  const rule: ImageScoreMethod = { kind: 'max' };
  const run = (own: boolean, opts: object) => {
    const feats = tf.tensor4d(raw, [N, G, G, 1]);
    try {
      return predictAll(fakeMethod(own), tensorFitData(samples, { features: feats }), { resolution: R, blurSigma: 3, batchSize: 2, imageScore: rule, ...opts });
    } finally {
      feats.dispose();
    }
  };

  it("imageScoreMap 'raw': scores from the maps before the blur, maps blurred", () => {
    const before = tf.memory().numTensors;
    const p = run(false, { imageScoreMap: 'raw' });
    expect(tf.memory().numTensors).toBe(before);
    const ups = upsampled();
    expect(Array.from(p.scores!)).toEqual(ups.map((m) => Math.fround(imageScoreFromMap(m, rule))));
    const blurredScores = p.maps!.map((m) => imageScoreFromMap(m, rule));
    expect(blurredScores.some((b, i) => Math.abs(b - p.scores![i]!) > 0.1)).toBe(true);
    expect(Array.from(p.maps![3]!.data)).toEqual(Array.from(gaussianBlur(ups[3]!, 3).data));
  });

  it("imageScoreMap 'blurred' (default): no scores, the evaluation takes them from the blurred maps", () => {
    expect(run(false, { imageScoreMap: 'blurred' }).scores).toBeUndefined();
    expect(run(false, {}).scores).toBeUndefined();
  });

  it("a method's own scores win over imageScoreMap 'raw'", () => {
    const p = run(true, { imageScoreMap: 'raw' });
    const own = Array.from({ length: N }, (_, i) => raw.slice(i * G * G, (i + 1) * G * G).reduce((a, b) => a + b, 0));
    expect(Array.from(p.scores!).map((v, i) => Math.abs(v - own[i]!) < 1e-4)).toEqual(own.map(() => true));
  });

  it("imageScoreMap 'raw' without a rule is a clear error", () => {
    const feats = tf.tensor4d(raw, [N, G, G, 1]);
    expect(() => predictAll(fakeMethod(false), tensorFitData(samples, { features: feats }), { resolution: R, blurSigma: 3, imageScoreMap: 'raw' })).toThrow(/imageScoreMap 'raw' needs eval.imageScore/);
    feats.dispose();
  });

  it('imageScoreMap unset stays out of the resolved config (earlier fingerprints unchanged); a bad value names the key', () => {
    const base = { data: { type: 'synthetic', size: 64 }, model: { name: 'padim' } };
    expect(Object.keys(toRunConfig(base, 'test').eval)).not.toContain('imageScoreMap');
    expect(toRunConfig({ ...base, eval: { blurSigma: 8, imageScoreMap: 'raw' } }, 'test').eval.imageScoreMap).toBe('raw');
    expect(() => toRunConfig({ ...base, eval: { imageScoreMap: 'smooth' } }, 'test')).toThrow(/eval\.imageScoreMap/);
  });
});
