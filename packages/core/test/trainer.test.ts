import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf, Rng, train, TrainConfigSchema, readTensorBoardScalars, loadCheckpoint } from '../src';
import { TinyMlp, structuredFeatures } from './helpers';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'uad-trainer-'));
const cfg = (over: Record<string, unknown> = {}) =>
  TrainConfigSchema.parse({ epochs: 6, batchSize: 4, lr: 3e-3, lrStepSize: 4, lrGamma: 0.5, evalEvery: 2, seed: 11, ...over });

async function weights(m: TinyMlp) {
  return [...m.namedVariables().values()].map((v) => Array.from(v.dataSync()));
}

describe('trainer', () => {
  it('learns (loss falls), logs JSONL + TensorBoard, schedules lr, evaluates every k epochs', async () => {
    const feats = structuredFeatures(16, 4, 8, 1);
    const model = new TinyMlp(8, 16, new Rng(1));
    const dir = tmp();
    let evals = 0;
    const res = await train({ model, features: feats, config: cfg(), outDir: dir, evaluate: async (ep) => ({ mean: { p_auroc: ep === 4 ? 0.9 : 0.5 } }) });
    expect(res.history.length).toBe(6);
    expect(res.history[5].train_loss).toBeLessThan(res.history[0].train_loss * 0.7);
    expect(res.history.map((r) => r.lr)).toEqual([3e-3, 3e-3, 3e-3, 3e-3, 1.5e-3, 1.5e-3]);
    evals = res.history.filter((r) => r.eval).length;
    expect(evals).toBe(3);
    expect(res.best).toEqual({ epoch: 4, value: 0.9 });
    const lines = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    const tbFile = fs.readdirSync(path.join(dir, 'tb'))[0];
    const sc = readTensorBoardScalars(path.join(dir, 'tb', tbFile));
    expect(sc.filter((s) => s.tag === 'train/loss').map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sc.find((s) => s.tag === 'eval/mean/p_auroc' && s.step === 4)?.value).toBeCloseTo(0.9, 6);
    expect(loadCheckpoint(path.join(dir, 'checkpoints', 'best.ckpt')).meta.epoch).toBe(4);
    expect(loadCheckpoint(path.join(dir, 'checkpoints', 'last.ckpt')).meta.epoch).toBe(6);
    model.dispose();
    feats.dispose();
  });

  it('train.maxMinutes stops after the epoch that crosses the budget, and evaluates that epoch', async () => {
    const feats = structuredFeatures(16, 4, 8, 1);
    const model = new TinyMlp(8, 16, new Rng(1));
    // 3 ms of budget: the first epoch crosses it; evalEvery 5 would not evaluate epoch 1 otherwise
    const res = await train({ model, features: feats, config: cfg({ maxMinutes: 0.00005, evalEvery: 5 }), evaluate: async () => ({ mean: { p_auroc: 0.7 } }) });
    expect(res.history.map((r) => r.epoch)).toEqual([1]);
    expect(res.history[0].eval).toEqual({ mean: { p_auroc: 0.7 } });
    expect(res.history[0].elapsed_s).toBeGreaterThan(0);
    const full = await train({ model, features: feats, config: cfg({ maxMinutes: null, epochs: 3 }) });
    expect(full.history.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(full.history[2].elapsed_s).toBeGreaterThanOrEqual(full.history[1].elapsed_s!);
    model.dispose();
    feats.dispose();
  });

  it('same seed gives identical weights; resume after an interruption continues to identical numbers', async () => {
    const feats = structuredFeatures(12, 4, 8, 2);
    const full = new TinyMlp(8, 16, new Rng(5));
    const r1 = await train({ model: full, features: feats, config: cfg({ epochs: 5 }) });
    const again = new TinyMlp(8, 16, new Rng(5));
    await train({ model: again, features: feats, config: cfg({ epochs: 5 }) });
    expect(await weights(again)).toEqual(await weights(full));

    const dir = tmp();
    const a = new TinyMlp(8, 16, new Rng(5));
    await train({ model: a, features: feats, config: cfg({ epochs: 5 }), outDir: dir, stopAfterEpoch: 3 });
    a.dispose();
    const b = new TinyMlp(8, 16, new Rng(99)); // different init: everything must come from the checkpoint
    const r2 = await train({ model: b, features: feats, config: cfg({ epochs: 5 }), outDir: dir, resume: true });
    expect(r2.epochsRun).toBe(2);
    expect(await weights(b)).toEqual(await weights(full));
    expect(r2.history.map((h) => h.train_loss)).toEqual(r1.history.map((h) => h.train_loss));
    full.dispose(); again.dispose(); b.dispose(); feats.dispose();
  });

  it('resume after kill -9 mid-write: a cut-off last metrics.jsonl line is dropped; a damaged earlier line is one clear error', async () => {
    const feats = structuredFeatures(12, 4, 8, 2);
    const ref = new TinyMlp(8, 16, new Rng(5));
    const r1 = await train({ model: ref, features: feats, config: cfg({ epochs: 4 }) });
    const dir = tmp();
    const a = new TinyMlp(8, 16, new Rng(5));
    await train({ model: a, features: feats, config: cfg({ epochs: 4 }), outDir: dir, stopAfterEpoch: 2 });
    a.dispose();
    const log = path.join(dir, 'metrics.jsonl');
    const good = fs.readFileSync(log, 'utf8');
    fs.appendFileSync(log, '{"epoch":3,"train_loss":0.12'); // what a kill during the append of epoch 3 leaves
    const b = new TinyMlp(8, 16, new Rng(99));
    const r2 = await train({ model: b, features: feats, config: cfg({ epochs: 4 }), outDir: dir, resume: true });
    expect(r2.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
    expect(r2.history.map((h) => h.train_loss)).toEqual(r1.history.map((h) => h.train_loss));
    expect(fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l).epoch)).toEqual([1, 2, 3, 4]);
    b.dispose();

    const lines = good.trim().split('\n');
    fs.writeFileSync(log, [lines[0].slice(0, 10), lines[1], ''].join('\n'));
    const c = new TinyMlp(8, 16, new Rng(5));
    await expect(train({ model: c, features: feats, config: cfg({ epochs: 4 }), outDir: dir, resume: true })).rejects.toThrow(/metrics\.jsonl: line 1 is not a JSON record/);
    c.dispose(); ref.dispose(); feats.dispose();
  });

  it('keeps tf.memory().numTensors flat across epochs', async () => {
    const feats = structuredFeatures(8, 4, 8, 3);
    const model = new TinyMlp(8, 16, new Rng(1));
    const counts: number[] = [];
    await train({ model, features: feats, config: cfg({ epochs: 6, evalEvery: 0 }), onEpoch: () => counts.push(tf.memory().numTensors) });
    expect(new Set(counts).size).toBe(1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) model.predict(feats).maps.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose(); feats.dispose();
  });

  it('a whole train() call and the model leave no tensors behind once disposed', async () => {
    const feats = structuredFeatures(8, 4, 8, 5);
    const before = tf.memory().numTensors;
    const model = new TinyMlp(8, 16, new Rng(2));
    await train({ model, features: feats, config: cfg({ epochs: 2, evalEvery: 0 }) });
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    feats.dispose();
  });

  it('detects a corrupted checkpoint with a clear error', async () => {
    const feats = structuredFeatures(4, 4, 8, 4);
    const model = new TinyMlp(8, 16, new Rng(1));
    const dir = tmp();
    await train({ model, features: feats, config: cfg({ epochs: 1 }), outDir: dir });
    const f = path.join(dir, 'checkpoints', 'last.ckpt');
    const buf = fs.readFileSync(f);
    buf[buf.length - 5] ^= 0xff;
    fs.writeFileSync(f, buf);
    expect(() => loadCheckpoint(f)).toThrow(/last\.ckpt: checkpoint is truncated or corrupted/);
    fs.writeFileSync(f, buf.subarray(0, buf.length - 100));
    expect(() => loadCheckpoint(f)).toThrow(/truncated or corrupted/);
    model.dispose(); feats.dispose();
  });
});
