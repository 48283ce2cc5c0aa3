// DRAEM, CutPaste and FCDD end to end on tiny synthetic data: a short training run ranks images with defect
// patches above normal ones; an interrupted run resumed from its checkpoint gives identical predictions; the
// state round-trips; the training batches carry the synthetic anomalies they claim.
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, createModel, parseModelConfig, getModelEntry, type FitData, type Method } from '@unified-ad/core';
import { draemTrainingBatch, cutPasteViews, fcddTrainingBatch } from '../src';
import { trainData, testData, auroc, trainConfig, syntheticImages } from './helpers';

interface Case { name: string; model: Record<string, unknown>; train: Record<string, unknown>; minAuroc: number }
const cases: Case[] = [
  // DRAEM: 20 epochs. At 10 the ranking was still forming (AUROC 0.49 / 0.91 / 0.69 for seeds 0 / 1 / 2 on a 2-core
  // AVX2 host, where oneDNN's sums differ from the AVX-512 hosts it passed on); at 20, seed 0 gives 0.965 there
  { name: 'draem', model: { size: 32, recWidth: 8, recDepth: 3, discWidth: 8, discDepth: 3 }, train: { epochs: 20, batchSize: 8, lr: 0.002 }, minAuroc: 0.9 },
  { name: 'cutpaste', model: { size: 32, channels: [16, 32, 64], convsPerStage: 1, headLayers: [64] }, train: { epochs: 15, batchSize: 8, lr: 0.01 }, minAuroc: 0.9 },
  { name: 'fcdd', model: { size: 64, width: 8 }, train: { epochs: 15, batchSize: 8, lr: 0.01 }, minAuroc: 0.8 },
];

function build(name: string, model: Record<string, unknown>, seed = 0): { m: Method; size: number } {
  const cfg = parseModelConfig(name, model) as { size: number };
  return { m: createModel(name, cfg, { inChannels: 0, gridSize: 0, imageSize: cfg.size, rng: new Rng(seed) }), size: cfg.size };
}

/** The method's train defaults with a constant lr and the case's overrides. */
const trainFor = (name: string, over: Record<string, unknown>) =>
  trainConfig({ ...(getModelEntry(name).defaults?.train ?? {}), schedule: { kind: 'constant' }, ...over });

function predictScores(m: Method, data: FitData): { scores: number[]; maps: number[] } {
  const [s, mp] = tf.tidy(() => {
    const p = m.predict(data.all());
    return [p.scores!, p.maps ?? tf.zeros([0])];
  });
  const out = { scores: Array.from(s.dataSync()), maps: Array.from(mp.dataSync()) };
  tf.dispose([s, mp]);
  return out;
}

const quiet = { log: () => {} };

describe.each(cases)('$name', ({ name, model, train, minAuroc }) => {
  it('ranks synthetic defect patches above normal images after a short training run', async () => {
    const before = tf.memory().numTensors;
    const { m, size } = build(name, model);
    const r = await m.fit(trainData(16, size), { train: trainFor(name, train), seed: 0, label: name, ...quiet });
    expect(r.history.length).toBe(train.epochs);
    expect(r.history.at(-1)!.train_loss).toBeLessThan(r.history[0]!.train_loss);
    const { data, labels } = testData(16, size);
    const p = predictScores(m, data);
    expect(auroc(p.scores, labels)).toBeGreaterThanOrEqual(minAuroc);
    if (name !== 'cutpaste') expect(p.maps.length).toBe(32 * size * size); // maps at the input resolution
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('resumes an interrupted run to identical predictions, and round-trips its state', async () => {
    const smoke = getModelEntry(name).smoke!.model!;
    const size = (parseModelConfig(name, smoke) as { size: number }).size;
    const data = trainData(8, size);
    const cfg = trainFor(name, { epochs: 3, batchSize: 4, lr: 0.005 });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `selfsup-${name}-`));
    const full = build(name, smoke).m;
    await full.fit(data, { train: cfg, seed: 0, label: name, ...quiet });
    const part = build(name, smoke).m;
    await part.fit(data, { train: cfg, seed: 0, label: name, outDir: tmp, stopAfterEpoch: 1, ...quiet });
    part.dispose();
    const resumed = build(name, smoke, 5).m; // another init: everything must come from the checkpoint
    const r = await resumed.fit(data, { train: cfg, seed: 0, label: name, outDir: tmp, resume: true, ...quiet });
    expect(r.lastEpoch).toBe(3);
    const { data: td } = testData(4, size);
    const want = predictScores(full, td);
    expect(predictScores(resumed, td)).toEqual(want);
    // state round trip into a differently initialised model
    const fresh = build(name, smoke, 9).m;
    fresh.loadState(full.state(), 'state');
    expect(predictScores(fresh, td)).toEqual(want);
    for (const m of [full, resumed, fresh]) m.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 120_000);
});

describe('training batches', () => {
  const s = 48;
  const x = () => tf.tensor4d(Float32Array.from(syntheticImages(8, s, 3, false)), [8, s, s, 3]) as Tensor4D;

  it('DRAEM: about half the images carry a Perlin anomaly whose mask covers exactly the changed pixels; the same seed gives the same batch', () => {
    const xi = x();
    let anomalous = 0, total = 0;
    for (let seed = 0; seed < 6; seed++) {
      const t = draemTrainingBatch(xi, new Rng(seed), { source: 'texture', cleanProbability: 0.5, betaMax: 0.8 });
      const aug = t.augmented.dataSync(), clean = t.clean.dataSync(), mask = t.mask.dataSync();
      for (let i = 0; i < 8; i++) {
        total++;
        if (t.anomalous[i]) anomalous++;
        for (let p = 0; p < s * s; p++) {
          const q = i * s * s + p;
          const changed = [0, 1, 2].some((c) => Math.abs(aug[q * 3 + c]! - clean[q * 3 + c]!) > 1e-6);
          if (changed) expect(mask[q]).toBe(1);
          if (!t.anomalous[i]) expect(mask[q]).toBe(0);
        }
      }
      const again = draemTrainingBatch(xi, new Rng(seed), { source: 'image', cleanProbability: 0.5, betaMax: 0.8 });
      const again2 = draemTrainingBatch(xi, new Rng(seed), { source: 'image', cleanProbability: 0.5, betaMax: 0.8 });
      expect(Array.from(again.augmented.dataSync())).toEqual(Array.from(again2.augmented.dataSync()));
      tf.dispose([t.augmented, t.clean, t.mask, again.augmented, again.clean, again.mask, again2.augmented, again2.clean, again2.mask]);
    }
    expect(anomalous / total).toBeGreaterThan(0.2);
    expect(anomalous / total).toBeLessThan(0.8);
    xi.dispose();
  });

  it('CutPaste 3-way: originals, cut-paste and scar copies in that order, labels 0 / 1 / 2, each copy differs from its original', () => {
    const xi = x();
    const v = cutPasteViews(xi, new Rng(1), { variant: '3way', jitter: 0 });
    expect(v.labels).toEqual([...Array(8).fill(0), ...Array(8).fill(1), ...Array(8).fill(2)]);
    for (let i = 0; i < 8; i++) {
      const o = v.images[i]!.data;
      for (const k of [8, 16]) expect(v.images[k + i]!.data.some((val, j) => val !== o[j])).toBe(true);
    }
    expect(cutPasteViews(xi, new Rng(1), { variant: 'scar', jitter: 0.1 }).labels).toEqual([...Array(8).fill(0), ...Array(8).fill(1)]);
    xi.dispose();
  });

  it('FCDD: confetti-labelled images differ from the originals where their masks are set, clean ones are unchanged', () => {
    const xi = x();
    const orig = xi.dataSync();
    let anomalous = 0;
    for (let seed = 0; seed < 4; seed++) {
      const t = fcddTrainingBatch(xi, new Rng(seed), 0.5);
      const im = t.images.dataSync();
      t.labels.forEach((l, i) => {
        const diff = im.slice(i * s * s * 3, (i + 1) * s * s * 3).some((v, j) => v !== orig[i * s * s * 3 + j]);
        expect(diff).toBe(l === 1);
        expect(t.masks[i]!.some((v) => v > 0)).toBe(l === 1);
        anomalous += l;
      });
      t.images.dispose();
    }
    expect(anomalous).toBeGreaterThan(6);
    expect(anomalous).toBeLessThan(26);
    xi.dispose();
  });
});

describe('errors', () => {
  it('a size the U-Nets cannot halve, a mis-sized batch and an unfitted CutPaste are one-line errors naming the key', () => {
    expect(() => build('draem', { size: 36, recDepth: 5 })).toThrow(/draem: model\.config\.size 36/);
    expect(() => build('fcdd', { size: 36 })).toThrow(/fcdd: model\.config\.size 36/);
    expect(() => parseModelConfig('cutpaste', { chanels: [8] })).toThrow(/chanels/);
    const { m } = build('cutpaste', { size: 32, channels: [8], convsPerStage: 1, headLayers: [] });
    const data = trainData(2, 32);
    expect(() => tf.tidy(() => { m.predict(data.batch([0])); })).toThrow(/cutpaste: the model is not fitted/);
    const wrong = trainData(2, 40);
    expect(() => tf.tidy(() => { m.predict(wrong.batch([0])); })).toThrow(/cutpaste: expected images of 32×32×3/);
    m.dispose();
  });
});
