// The conformance suite: every registered method (found by discovery; a new package gets these tests for free)
// fits and predicts through the engine in both settings on smoke data, is deterministic, leaks no tensors,
// round-trips its state, and answers a wrongly shaped input with a one-line error.
import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import {
  tf, Rng, UserError, createModel, listModels, loadCheckpoint, methodInputs, parseModelConfig, tensorFitData, TrainConfigSchema,
  type Method, type MethodInputs, type Sample,
} from '@unified-ad/core';
import { runExperiment, toRunConfig } from '../src';

const sample = (i: number): Sample => ({ id: `s${i}`, className: i % 2 ? 'b' : 'a', split: 'train', label: 0, defectType: 'good', imagePath: `#${i}` });

/** Tiny random inputs of the kind the method declares. */
function inputsFor(inputs: MethodInputs, n: number, seed: number, channels = 12, grid = 7) {
  const rng = new Rng(seed);
  const out: { features?: Tensor4D; images?: { size: number; data: Uint8Array } } = {};
  if (inputs.features) out.features = rng.normalTensor([n, grid, grid, channels]) as Tensor4D;
  if (inputs.images) {
    const s = inputs.images.size;
    const data = new Uint8Array(n * s * s * 3);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(rng.uniform() * 256);
    out.images = { size: s, data };
  }
  return out;
}

const smokeTrain = (name: string) => TrainConfigSchema.parse({ epochs: 2, batchSize: 4, lr: 1e-3, evalEvery: 0, seed: 0, ...(listModels().find((m) => m.name === name)!.smoke?.train ?? {}) });

async function fitOnce(name: string, seed = 0) {
  const entry = listModels().find((m) => m.name === name)!;
  const cfg = parseModelConfig(name, entry.smoke?.model ?? {});
  const inputs = methodInputs(name, cfg);
  const x = inputsFor(inputs, 8, 1);
  const data = tensorFitData(Array.from({ length: 8 }, (_, i) => sample(i)), x);
  const m = createModel(name, cfg, { inChannels: 12, gridSize: 7, imageSize: inputs.images?.size ?? 0, rng: new Rng(seed) });
  await m.fit(data, { train: smokeTrain(name), seed, label: name, log: () => {} });
  return { m, data, x, inputs, cfg };
}

function predictValues(m: Method, data: ReturnType<typeof tensorFitData>): { maps: number[]; scores: number[] } {
  const p = tf.tidy(() => {
    const r = m.predict(data.batch([0, 1, 2]));
    return [r.maps ?? tf.zeros([0]), r.scores ?? tf.zeros([0])];
  });
  const out = { maps: Array.from(p[0].dataSync()), scores: Array.from(p[1].dataSync()) };
  tf.dispose(p);
  return out;
}

const dispose = (x: { features?: Tensor4D }) => x.features?.dispose();

describe('conformance of every registered method', () => {
  const names = listModels().map((m) => m.name);
  it('finds the workspace methods', () => expect(names).toEqual(expect.arrayContaining(['uniad', 'mlp', 'cnn', 'transformer', 'padim', 'patchcore'])));

  for (const name of names) {
    describe(name, () => {
      it('declares inputs, a smoke config its schema accepts, and a description', () => {
        const entry = listModels().find((m) => m.name === name)!;
        expect(entry.description.length).toBeGreaterThan(10);
        const inputs = methodInputs(name, parseModelConfig(name, entry.smoke?.model ?? {}));
        expect(inputs.features || inputs.images).toBeTruthy();
      });

      it('is deterministic: the same seed gives the same predictions', async () => {
        const a = await fitOnce(name), b = await fitOnce(name);
        expect(predictValues(a.m, a.data)).toEqual(predictValues(b.m, b.data));
        for (const r of [a, b]) { r.m.dispose(); dispose(r.x); }
      });

      it('round-trips its state: a fresh model with loadState predicts the same (and loading leaks nothing)', async () => {
        const a = await fitOnce(name);
        const st = a.m.state();
        const before = tf.memory().numTensors;
        const b = createModel(name, a.cfg, { inChannels: 12, gridSize: 7, imageSize: a.inputs.images?.size ?? 0, rng: new Rng(99) });
        b.loadState(st, 'state');
        expect(predictValues(b, a.data)).toEqual(predictValues(a.m, a.data));
        expect(() => b.loadState({ meta: {}, tensors: [] }, 'empty.ckpt')).toThrow(UserError);
        b.dispose();
        expect(tf.memory().numTensors).toBe(before);
        a.m.dispose(); dispose(a.x);
      });

      it('loadTrainingCheckpoint (where defined) gives the model of that checkpoint, post-training parts recomputed', async () => {
        const a = await fitOnce(name);
        if (!a.m.loadTrainingCheckpoint) {
          a.m.dispose(); dispose(a.x);
          return;
        }
        // a run stopped after epoch 1 (the schedule still follows 2 epochs) is the 2-epoch run's epoch-1 model
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `conformance-${name}-`));
        const b = createModel(name, a.cfg, { inChannels: 12, gridSize: 7, imageSize: a.inputs.images?.size ?? 0, rng: new Rng(0) });
        await b.fit(a.data, { train: smokeTrain(name), seed: 0, label: name, log: () => {}, outDir: tmp, stopAfterEpoch: 1 });
        const want = predictValues(b, a.data);
        expect(predictValues(a.m, a.data)).not.toEqual(want);
        const before = tf.memory().numTensors;
        await a.m.loadTrainingCheckpoint(loadCheckpoint(path.join(tmp, 'checkpoints', 'last.ckpt')), 'last.ckpt', a.data);
        expect(tf.memory().numTensors).toBe(before);
        expect(predictValues(a.m, a.data)).toEqual(want);
        a.m.dispose(); b.dispose(); dispose(a.x);
        fs.rmSync(tmp, { recursive: true, force: true });
      });

      it('leaks no tensors over fit + predict + dispose', async () => {
        const before = tf.memory().numTensors;
        const a = await fitOnce(name);
        predictValues(a.m, a.data);
        predictValues(a.m, a.data);
        a.m.dispose(); dispose(a.x);
        expect(tf.memory().numTensors).toBe(before);
      });

      it('a wrongly shaped input gives a one-line error', async () => {
        const a = await fitOnce(name);
        const wrong = inputsFor(a.inputs, 2, 3, 5, 7);
        const bad = tensorFitData([sample(0), sample(1)], a.inputs.images ? { ...wrong, images: { size: a.inputs.images.size + 3, data: new Uint8Array(2 * (a.inputs.images.size + 3) ** 2 * 3) } } : wrong);
        let msg = '';
        try {
          tf.tidy(() => { a.m.predict(bad.batch([0, 1])); });
        } catch (e) {
          expect(e).toBeInstanceOf(UserError);
          msg = (e as Error).message;
        }
        expect(msg).toMatch(new RegExp(name.replace(/[-]/g, '.')));
        expect(msg).not.toContain('\n');
        a.m.dispose(); dispose(a.x); dispose(wrong);
      });
    });
  }
});

describe('conformance through the engine (smoke data, both settings)', () => {
  let tmp: string;
  beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uniad-conf-')); });
  const smokeData = { type: 'synthetic', classes: ['fabric', 'disk'], trainPerClass: 4, testGoodPerClass: 2, testDefectPerClass: 2, size: 64, seed: 0 };

  for (const name of listModels().map((m) => m.name)) {
    it(`${name}: unified and separate runs give finite metrics and save a state per model`, async () => {
      const entry = listModels().find((m) => m.name === name)!;
      for (const setting of ['unified', 'separate'] as const) {
        const cfg = toRunConfig({
          name: `${name}-${setting}`, seed: 0, setting, data: smokeData,
          backbone: { id: 'mobilenet_v2_embedded' }, features: { layers: [], size: 7, batchSize: 16 },
          model: { name, config: entry.smoke?.model ?? {} },
          train: { epochs: 1, batchSize: 4, evalEvery: 0, ...(entry.smoke?.train ?? {}) },
          eval: { resolution: 32, metrics: ['i_auroc', 'p_auroc'], pictureSamples: 0 },
        }, `conformance ${name}`);
        const out = path.join(tmp, `${name}-${setting}`);
        const r = await runExperiment(cfg, { outDir: out, log: () => {} });
        expect(r.models).toBe(setting === 'unified' ? 1 : 2);
        expect(Number.isFinite(r.mean.i_auroc!)).toBe(true);
        const stateFiles = setting === 'unified' ? [path.join(out, 'state.ckpt')] : ['fabric', 'disk'].map((c) => path.join(out, 'separate', c, 'state.ckpt'));
        for (const f of stateFiles) expect(fs.existsSync(f)).toBe(true);
      }
    });
  }
});
