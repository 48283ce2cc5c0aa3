// FCDD and CutPaste on a frozen backbone prefix (model.config.encoder 'backbone'): the prefix is the run's backbone,
// passed in ModelContext.backbone; only the layers above it are trained and saved. Here the backbone is a small fixed
// function (the mean, max and min colour of each 8×8 cell), so the test needs no weights; the engine test
// (packages/engine/test/fcdd-backbone.test.ts) runs the real embedded MobileNetV2 end to end.
import { describe, it, expect } from 'vitest';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, createModel, parseModelConfig, getModelEntry, methodInputs, type FrozenBackbone } from '@unified-ad/core';
import '../src';
import { trainData, testData, auroc, trainConfig } from './helpers';

/** A fixed "backbone": layers at strides 4, 8, 16, each the mean, max and min colour / 255 over its cells. */
function fakeBackbone(): FrozenBackbone & { calls: number } {
  const b = {
    id: 'fake', weightsHash: 'f'.repeat(64), calls: 0,
    layerInfo: () => [{ name: 's4', stride: 4, channels: 9 }, { name: 's8', stride: 8, channels: 9 }, { name: 's16', stride: 16, channels: 9 }],
    extract(images: Tensor4D, layers: string[]): Tensor4D[] {
      b.calls++;
      return layers.map((l) => tf.tidy(() => {
        const x = images.div(255) as Tensor4D;
        const k = { s4: 4, s8: 8, s16: 16 }[l]!;
        return tf.concat([tf.avgPool(x, k, k, 'valid'), tf.maxPool(x, k, k, 'valid'), tf.maxPool(x.neg() as Tensor4D, k, k, 'valid').neg()], 3) as Tensor4D;
      }));
    },
  };
  return b;
}

const cfgOf = (over: Record<string, unknown>) => parseModelConfig('fcdd', { encoder: 'backbone', size: 64, width: 2, ...over }) as { size: number };

describe('fcdd encoder: backbone', () => {
  it('declares the backbone input, trains only the layers above the stride-8 prefix, ranks defects above normals, leaks nothing', async () => {
    expect(methodInputs('fcdd', cfgOf({}))).toEqual({ images: { size: 64 }, backbone: true });
    expect(methodInputs('fcdd', parseModelConfig('fcdd', {}))).toEqual({ images: { size: 224 } });
    const before = tf.memory().numTensors;
    const bb = fakeBackbone();
    const m = createModel('fcdd', cfgOf({}), { inChannels: 0, gridSize: 0, imageSize: 64, rng: new Rng(0), backbone: bb });
    // 9 → 16 → 16 (3×3, no bias, BN) → 1 (1×1 with bias)
    expect(m.parameterCount()).toBe(9 * 16 * 9 + 16 * 16 * 9 + 2 * 16 * 2 + 16 + 1);
    expect(m.state().meta).toMatchObject({ encoder: 'backbone', backbone: 'fake', layer: 's8' });
    expect(m.state().tensors.every((t) => /^(model|buffer)\/(conv0|conv1|final)\./.test(t.name))).toBe(true);
    const train = trainConfig({ ...(getModelEntry('fcdd').defaults?.train ?? {}), schedule: { kind: 'constant' }, epochs: 12, batchSize: 8, lr: 0.01 });
    const r = await m.fit(trainData(16, 64), { train, seed: 0, label: 'fcdd', log: () => {} });
    expect(bb.calls).toBe(12 * 2); // one prefix pass per step
    expect(r.history.at(-1)!.train_loss).toBeLessThan(r.history[0]!.train_loss);
    const { data, labels } = testData(16, 64);
    const [scores, maps] = tf.tidy(() => {
      const p = m.predict(data.all());
      return [p.scores!, p.maps!];
    });
    expect(maps.shape).toEqual([32, 64, 64]);
    expect(auroc(scores.dataSync(), labels)).toBeGreaterThanOrEqual(0.8);
    tf.dispose([scores, maps]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('without a backbone, or with a layer the backbone lacks, is one line naming the key', () => {
    const ctx = { inChannels: 0, gridSize: 0, imageSize: 64, rng: new Rng(0) };
    expect(() => createModel('fcdd', cfgOf({}), ctx)).toThrow(/model\.config\.encoder 'backbone' needs the run's backbone/);
    expect(() => createModel('fcdd', cfgOf({ backboneLayer: 'nope' }), { ...ctx, backbone: fakeBackbone() })).toThrow(/backboneLayer: 'nope' is not a layer of fake/);
    const m = createModel('fcdd', cfgOf({ backboneLayer: 's4' }), { ...ctx, backbone: fakeBackbone() });
    expect(m.state().meta).toMatchObject({ layer: 's4' });
    m.dispose();
  });
});

describe('cutpaste encoder: backbone', () => {
  const cfg = (over: Record<string, unknown> = {}) => parseModelConfig('cutpaste', { encoder: 'backbone', size: 64, channels: [16], convsPerStage: 1, headLayers: [16], backboneStride: 8, ...over });
  it('declares the backbone input, trains its stages above the prefix, ranks defects above normals, leaks nothing', async () => {
    expect(methodInputs('cutpaste', cfg())).toEqual({ images: { size: 64 }, backbone: true });
    const before = tf.memory().numTensors;
    const bb = fakeBackbone();
    const m = createModel('cutpaste', cfg(), { inChannels: 0, gridSize: 0, imageSize: 64, rng: new Rng(0), backbone: bb });
    const train = trainConfig({ ...(getModelEntry('cutpaste').defaults?.train ?? {}), schedule: { kind: 'constant' }, epochs: 10, batchSize: 8, lr: 0.01 });
    await m.fit(trainData(16, 64), { train, seed: 0, label: 'cutpaste', log: () => {} });
    // the first stage reads the 9 prefix channels; the state holds the encoder, head, classifier and density only
    expect(m.state().tensors.find((t) => t.name === 'model/encoder.s0.0.conv.weight')!.shape).toEqual([3, 3, 9, 16]);
    expect(m.state().meta).toMatchObject({ encoder: 'backbone', backbone: 'fake', layer: 's8', densityDim: 16 });
    const { data, labels } = testData(16, 64);
    const scores = tf.tidy(() => m.predict(data.all()).scores!);
    expect(auroc(scores.dataSync(), labels)).toBeGreaterThanOrEqual(0.9);
    scores.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('without a backbone is one line naming the key', () => {
    expect(() => createModel('cutpaste', cfg(), { inChannels: 0, gridSize: 0, imageSize: 64, rng: new Rng(0) })).toThrow(/^cutpaste: model\.config\.encoder 'backbone' needs the run's backbone/);
  });
});
