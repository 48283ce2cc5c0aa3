import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, train, TrainConfigSchema, createModel, FeatureReconstructorMethod } from '@unified-ad/core';
import { UniAD, UniADConfigSchema, NeighborMask, FeatureJitter } from '../src';

const small = (over: Record<string, unknown> = {}) =>
  UniADConfigSchema.parse({ hiddenDim: 32, heads: 4, encoderLayers: 1, decoderLayers: 2, ffnDim: 64, neighborMask: { size: 3 }, ...over });

/** Normal features: a smooth per-position pattern + noise. Anomalies: a 2×2 patch replaced by an unusual vector. */
function data(n: number, grid: number, c: number, seed: number, defect = false): Tensor4D {
  return tf.tidy(() => {
    const r = new Rng(seed);
    const base = new Rng(1234).normalTensor([1, grid, grid, c]);
    let x = base.add(r.normalTensor([n, grid, grid, c], 0, 0.1)) as Tensor4D;
    if (defect) {
      const m = tf.buffer([1, grid, grid, 1]);
      for (let i = 2; i < 4; i++) for (let j = 2; j < 4; j++) m.set(1, 0, i, j, 0);
      x = x.add(m.toTensor().mul(tf.fill([1, 1, 1, c], 3))) as Tensor4D;
    }
    return x;
  });
}

describe('UniAD model', () => {
  it('reconstructs [B,H,W,C] and maps [B,H,W]; paper shape has the paper parameter layout', () => {
    const m = new UniAD(small(), 12, 6, new Rng(0));
    const x = data(3, 6, 12, 1);
    const rec = m.reconstruct(x, null);
    expect(rec.shape).toEqual([3, 6, 6, 12]);
    const p = m.predict(x);
    expect(p.maps.shape).toEqual([3, 6, 6]);
    const names = [...m.namedVariables().keys()];
    expect(names.filter((k) => k.endsWith('.query.weight'))).toEqual(['decoder.0.query.weight', 'decoder.1.query.weight']);
    expect(() => m.reconstruct(data(1, 5, 12, 1), null)).toThrow(/uniad expects features \[\*, 6, 6, 12\]/);
    rec.dispose(); p.maps.dispose(); x.dispose(); m.dispose();
  });

  it('neighbor mask hides exactly the k×k window around each token, clipped at the edges', () => {
    const nm = new NeighborMask(14, 14, 7);
    const t = 196;
    for (const [i, j] of [[0, 0], [0, 13], [13, 13], [7, 6], [2, 11]]) {
      const row = nm.values.subarray((i * 14 + j) * t, (i * 14 + j + 1) * t);
      for (let y = 0; y < 14; y++)
        for (let x = 0; x < 14; x++) {
          const hidden = Math.abs(y - i) <= 3 && Math.abs(x - j) <= 3;
          expect(row[y * 14 + x] !== 0).toBe(hidden);
        }
    }
    let hiddenCorner = 0;
    for (let k = 0; k < t; k++) if (nm.values[k] !== 0) hiddenCorner++;
    expect(hiddenCorner).toBe(16); // 4×4 at a corner
    expect(() => new NeighborMask(3, 3, 7)).toThrow(/hides every token/);
  });

  it('jitter follows ‖f‖/C·scale, only in training; eval is deterministic', () => {
    const j = new FeatureJitter(20, 1);
    const tok = tf.ones([2, 50, 100]) as Tensor3D;
    const noisy = j.apply(tok, new Rng(3));
    const std = tf.moments(noisy.sub(tok)).variance.sqrt().dataSync()[0];
    expect(std).toBeCloseTo((Math.sqrt(100) / 100) * 20, 1); // ‖1‖₂ = 10, /C=100 → 0.1, ×20 = 2
    expect(new FeatureJitter(20, 0).apply(tok, new Rng(3))).toBe(tok);
    const m = new UniAD(small(), 12, 6, new Rng(0));
    const x = data(2, 6, 12, 2);
    const a = m.predict(x).maps.arraySync(), b = m.predict(x).maps.arraySync();
    expect(a).toEqual(b);
    const l1 = m.loss(x, new Rng(5)).dataSync()[0], l2 = m.loss(x, new Rng(6)).dataSync()[0];
    expect(l1).not.toBe(l2);
    m.dispose();
  });

  it('each ablation switch changes the computation it names', () => {
    const x = data(2, 6, 12, 3);
    const out = (over: Record<string, unknown>) => {
      const m = new UniAD(small(over), 12, 6, new Rng(0));
      const r = m.reconstruct(x, null).arraySync() as number[][][][];
      const n = m.parameterCount();
      m.dispose();
      return { r, n };
    };
    const base = out({});
    const maskOff = (k: string) => out({ neighborMask: { size: 3, encoder: true, decoder1: true, decoder2: true, [k]: false } });
    const ref3 = out({ neighborMask: { size: 3 } });
    expect(ref3.r).toEqual(base.r);
    for (const k of ['encoder', 'decoder1', 'decoder2']) expect(maskOff(k).r).not.toEqual(ref3.r);
    expect(out({ neighborMask: { size: 5 } }).r).not.toEqual(base.r);
    const d = 32, tokens = 36;
    expect(base.n - out({ query: 'shared' }).n).toBe(tokens * d);
    expect(base.n - out({ query: 'first' }).n).toBe(tokens * d);
    expect(base.n - out({ query: 'none' }).n).toBe(2 * tokens * d);
    expect(out({ query: 'none' }).r).not.toEqual(base.r);
    expect(out({ posEmbed: 'sine' }).n).toBe(base.n - 6 * 16 * 2);
    // jitter only enters the training loss
    const m1 = new UniAD(small({ jitter: { scale: 0, prob: 1 }, dropout: 0 }), 12, 6, new Rng(0));
    const m2 = new UniAD(small({ jitter: { scale: 20, prob: 1 }, dropout: 0 }), 12, 6, new Rng(0));
    expect(m1.loss(x, new Rng(1)).dataSync()[0]).not.toBeCloseTo(m2.loss(x, new Rng(1)).dataSync()[0], 4);
    expect(m1.predict(x).maps.arraySync()).toEqual(m2.predict(x).maps.arraySync());
    m1.dispose(); m2.dispose(); x.dispose();
  });

  it('dispose() releases every tensor the model made', () => {
    const before = tf.memory().numTensors;
    for (const query of ['layerwise', 'shared', 'first', 'none'] as const) new UniAD(small({ query }), 12, 6, new Rng(0)).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is registered and validates its config strictly', () => {
    const m = createModel('uniad', { hiddenDim: 32, heads: 4, encoderLayers: 1, decoderLayers: 1, ffnDim: 32, neighborMask: { size: 3 } }, { inChannels: 8, gridSize: 4, rng: new Rng(0) });
    expect(m).toBeInstanceOf(FeatureReconstructorMethod);
    expect((m as FeatureReconstructorMethod).net).toBeInstanceOf(UniAD);
    m.dispose();
    expect(() => createModel('uniad', { hiddenDims: 32 }, { inChannels: 8, gridSize: 4, rng: new Rng(0) })).toThrow(/hiddenDims/);
    expect(() => createModel('uniad', { neighborMask: { size: 'big' } }, { inChannels: 8, gridSize: 4, rng: new Rng(0) })).toThrow(/neighborMask\.size/);
  });

  it('a tiny run learns, scores synthetic defects higher, keeps tensors flat, and resumes to identical numbers', async () => {
    const trainX = data(24, 6, 12, 10);
    const normal = data(4, 6, 12, 11), anomalous = data(4, 6, 12, 12, true);
    const cfg = TrainConfigSchema.parse({ epochs: 8, batchSize: 4, lr: 2e-3, clipNorm: 1, evalEvery: 0, seed: 3 });
    const mk = () => new UniAD(small({ jitter: { scale: 2, prob: 1 } }), 12, 6, new Rng(7));
    const m = mk();
    const counts: number[] = [];
    const res = await train({ model: m, features: trainX, config: cfg, onEpoch: () => counts.push(tf.memory().numTensors) });
    expect(res.history[7].train_loss).toBeLessThan(res.history[0].train_loss * 0.8);
    expect(new Set(counts).size).toBe(1);
    const maxOf = (x: Tensor4D) => tf.tidy(() => m.predict(x).maps.max([1, 2]).dataSync());
    const sn = Math.max(...maxOf(normal)), sa = Math.min(...maxOf(anomalous));
    expect(sa).toBeGreaterThan(sn);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uad-uniad-'));
    const a = mk();
    await train({ model: a, features: trainX, config: cfg, outDir: dir, stopAfterEpoch: 5 });
    a.dispose();
    const b = mk();
    const r2 = await train({ model: b, features: trainX, config: cfg, outDir: dir, resume: true });
    expect(r2.history.map((h) => h.train_loss)).toEqual(res.history.map((h) => h.train_loss));
    expect(b.predict(normal).maps.arraySync()).toEqual(m.predict(normal).maps.arraySync());
    m.dispose(); b.dispose();
  });
});
