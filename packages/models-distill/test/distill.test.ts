import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tensor, Tensor2D, Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, UserError, type Batch, type FitData, type Method } from '@unified-ad/core';
import {
  Mkd, MkdConfigSchema, mkdLossPerImage, gradToGray, UninformedStudents, UsConfigSchema, errorAndVariance, scoreStatistics,
  PatchSvdd, PsvddConfigSchema, positionPair, svddPair, POS_TO_DIFF, cropPatches, encode64PerPatch, distributeScores, channelGroups,
} from '../src';
import { auroc, ctxOf, fitData, sample, syntheticImages } from './helpers';

const arr = (t: Tensor) => Array.from(t.dataSync());
const close = (a: number[], b: number[], tol: number) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i])));
};

/** Wraps a FitData and records every batch handed out. */
function spy(data: FitData) {
  const log = { batches: 0, all: 0 };
  const wrapped: FitData = {
    samples: data.samples,
    batch: (idx) => { log.batches++; return data.batch(idx); },
    all: () => { log.all++; return data.all(); },
    image: (i) => data.image(i),
  };
  return { wrapped, log };
}

describe('teacher targets are the cached backbone features', () => {
  it('mkd: the targets of a batch are its feature rows, split per depth, bit for bit; the state has no teacher', async () => {
    const { data, features } = fitData(6, 32, 1, 8, 10);
    const m = new Mkd(MkdConfigSchema.parse({ size: 32, depthChannels: [1, 2, 3, 4], widths: [4, 4, 4, 4], convsPerStage: 1 }), 10, 8, new Rng(0));
    const out = tf.tidy(() => {
      const b = data.batch([4, 1, 2]);
      return [tf.concat(m.teacherTargets(b), 3), tf.gather(features!, [4, 1, 2])];
    });
    expect(arr(out[0])).toEqual(arr(out[1]));
    expect(m.teacherTargets({ samples: [], features: features! }).map((t) => t.shape[3])).toEqual([1, 2, 3, 4]);
    tf.dispose(out);
    // fit reads the features only as handed over (no backbone anywhere): every parameter is the cloner's
    const { wrapped, log } = spy(data);
    await m.fit(wrapped, ctxOf({ epochs: 2, batchSize: 3, lr: 1e-3 }));
    expect(log.batches).toBe(4);
    expect(m.state().tensors.every((t) => /^(model|buffer)\/(s\d|head)/.test(t.name))).toBe(true);
    m.dispose(); features!.dispose();
  });

  it('us: targets = (cached features − training mean) / training std per channel, statistics computed once', async () => {
    const { data, features } = fitData(6, 32, 2, 8, 6);
    const m = new UninformedStudents(UsConfigSchema.parse({ size: 32, depthChannels: [2, 4], widths: [4, 4, 4], convsPerStage: 1 }), 6, 8, new Rng(0));
    const { wrapped, log } = spy(data);
    await m.fit(wrapped, ctxOf({ epochs: 2, batchSize: 3, lr: 1e-3 }));
    expect(log.all).toBe(1); // the per-channel statistics: one pass over the cached features
    const f = features!.arraySync() as number[][][][];
    const C = 6, vals: number[][] = Array.from({ length: C }, () => []);
    for (const a of f) for (const r of a) for (const p of r) p.forEach((v, c) => vals[c].push(v));
    const mean = vals.map((v) => v.reduce((s, x) => s + x, 0) / v.length);
    const std = vals.map((v, c) => Math.sqrt(v.reduce((s, x) => s + (x - mean[c]) ** 2, 0) / v.length));
    const t = tf.tidy(() => tf.concat(m.teacherTargets(data.batch([3])), 3));
    const expected = (f[3].flat() as number[][]).flatMap((p) => p.map((v, c) => (v - mean[c]) / std[c]));
    close(arr(t), expected, 1e-4);
    t.dispose(); m.dispose(); features!.dispose();
  });
});

describe('us', () => {
  it('error and predictive variance of a hand-made ensemble', () => {
    // one position, 2 channels, 3 students: s = (1, 0), (3, 0), (2, 3); target (0, 1)
    const p = [[1, 0], [3, 0], [2, 3]].map((v) => tf.tensor4d(v, [1, 1, 1, 2]));
    const t = tf.tensor4d([0, 1], [1, 1, 1, 2]);
    const { error, variance } = errorAndVariance(p, t);
    // mean (2, 1): e = ‖(2, 1) − (0, 1)‖² = 4; v = mean(1, 9, 13) − ‖(2, 1)‖² = 23/3 − 5 = 8/3
    expect(error.dataSync()[0]).toBeCloseTo(4, 5);
    expect(variance.dataSync()[0]).toBeCloseTo(8 / 3, 5);
    tf.dispose([...p, t, error, variance]);
  });

  it('the map is the scale-mean of standardised error + variance; training maps average to ~0', async () => {
    const { data, features } = fitData(8, 32, 3, 8, 6);
    const m = new UninformedStudents(UsConfigSchema.parse({ size: 32, depthChannels: [3, 3], widths: [4, 8, 8], convsPerStage: 1 }), 6, 8, new Rng(1));
    await m.fit(data, ctxOf({ epochs: 2, batchSize: 4, lr: 1e-3 }));
    const stats = m.scoreStats.arraySync() as number[][];
    const [map, manual] = tf.tidy(() => {
      const b = data.batch([0, 1, 2, 3, 4, 5, 6, 7]);
      const raw = m.rawScores(b);
      const man = tf.div(tf.addN(raw.map(({ error, variance }, g) => tf.add(tf.div(tf.sub(error, stats[g][0]), stats[g][1]), tf.div(tf.sub(variance, stats[g][2]), stats[g][3])))), 2);
      return [m.predict(b).maps!, man];
    });
    close(arr(map), arr(manual), 1e-5);
    const mean = arr(map).reduce((s, x) => s + x, 0) / map.size;
    expect(Math.abs(mean)).toBeLessThan(1e-3); // standardised on these very images: each term has mean 0
    tf.dispose([map, manual]); m.dispose(); features!.dispose();
  });

  it('score statistics from sums: per-cell std floored at a fraction of the scale-wide std (hand-computed)', () => {
    // one scale, two cells, 4 images: cell 0 constant (e = 5, v = 1), cell 1 e ∈ {0, 2, 4, 6}, v ∈ {1, 1, 3, 3}
    const e = [[5, 5, 5, 5], [0, 2, 4, 6]], v = [[1, 1, 1, 1], [1, 1, 3, 3]];
    const sums = new Float64Array(8);
    for (let p = 0; p < 2; p++) {
      sums[p * 4] = e[p].reduce((a, x) => a + x, 0); sums[p * 4 + 1] = e[p].reduce((a, x) => a + x * x, 0);
      sums[p * 4 + 2] = v[p].reduce((a, x) => a + x, 0); sums[p * 4 + 3] = v[p].reduce((a, x) => a + x * x, 0);
    }
    const pstd = (xs: number[]) => { const m = xs.reduce((a, x) => a + x, 0) / xs.length; return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length); };
    const ge = pstd([...e[0], ...e[1]]), gv = pstd([...v[0], ...v[1]]); // all 8 values pooled
    const st = scoreStatistics(sums, 1, 2, 4, 0.1);
    [5, 0.1 * ge, 1, 0.1 * gv, 3, pstd(e[1]), 2, pstd(v[1])].forEach((want, i) => expect(st[i]).toBeCloseTo(want, 10));
    // no floor: a constant cell keeps (almost) zero
    expect(scoreStatistics(sums, 1, 2, 4, 0)[1]).toBe(1e-12);
    // global (P = 1): the plain moments, never floored by the fraction
    const g = scoreStatistics(new Float64Array([sums[0] + sums[4], sums[1] + sums[5], sums[2] + sums[6], sums[3] + sums[7]]), 1, 1, 8, 0.5);
    [4, ge, 1.5, gv].forEach((want, i) => expect(g[i]).toBeCloseTo(want, 10));
  });

  it("standardize 'position': per-cell statistics; every cell's training map averages to ~0, the state round-trips", async () => {
    const { data, features } = fitData(8, 32, 3, 8, 6);
    const cfg = UsConfigSchema.parse({ size: 32, depthChannels: [3, 3], widths: [4, 8, 8], convsPerStage: 1, standardize: 'position' });
    const m = new UninformedStudents(cfg, 6, 8, new Rng(1));
    await m.fit(data, ctxOf({ epochs: 2, batchSize: 4, lr: 1e-3 }));
    expect(m.scoreStats.shape).toEqual([2, 8, 8, 4]);
    const stats = m.scoreStats.arraySync() as number[][][][];
    const b = data.batch([0, 1, 2, 3, 4, 5, 6, 7]);
    const raw = tf.tidy(() => m.rawScores(b).map(({ error, variance }) => ({ e: error.arraySync(), v: variance.arraySync() })));
    const map = m.predict(b).maps!;
    const got = map.arraySync() as number[][][];
    const cellMeans: number[] = [];
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) {
        let cellSum = 0;
        for (let i = 0; i < 8; i++) {
          // hand computation from the raw scores and this cell's statistics
          const want = raw.reduce((s, { e, v }, g) => {
            const [me, se, mv, sv] = stats[g][y][x];
            return s + (e[i][y][x] - me) / se + (v[i][y][x] - mv) / sv;
          }, 0) / 2;
          expect(Math.abs(got[i][y][x] - want)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(want)));
          cellSum += got[i][y][x];
        }
        cellMeans.push(cellSum / 8);
      }
    // standardised per cell on these very images: every cell has mean 0 (global standardisation only zeroes the overall mean)
    expect(Math.max(...cellMeans.map(Math.abs))).toBeLessThan(1e-3);
    const copy = new UninformedStudents(cfg, 6, 8, new Rng(9));
    copy.loadState(m.state(), 'us-state');
    const again = copy.predict(b).maps!;
    close(arr(again), arr(map), 1e-6);
    tf.dispose([map, again, ...[b.images, b.features].filter((t): t is Tensor4D => !!t)]); m.dispose(); copy.dispose(); features!.dispose();
  });
});

describe('mkd', () => {
  it('loss: Σ (1 − cos of the flattened maps) + λ·MSE, per image', () => {
    const p = [tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), tf.tensor4d([1, 0], [1, 1, 1, 2])];
    const t = [tf.tensor4d([2, 2, 2, 2], [1, 2, 2, 1]), tf.tensor4d([0, 1], [1, 1, 1, 2])];
    const l = mkdLossPerImage(p, t, 0.5);
    const cos0 = (2 + 4 + 6 + 8) / (Math.sqrt(30) * 4), mse0 = (1 + 0 + 1 + 4) / 4;
    const cos1 = 0, mse1 = (1 + 1) / 2;
    expect(l.dataSync()[0]).toBeCloseTo(1 - cos0 + 0.5 * mse0 + (1 - cos1) + 0.5 * mse1, 5);
    tf.dispose([...p, ...t, l]);
  });

  it('input gradient agrees with a central finite difference of the score loss', async () => {
    const { data, features } = fitData(4, 16, 4, 4, 4);
    const m = new Mkd(MkdConfigSchema.parse({ size: 16, depthChannels: [2, 2], widths: [3, 4], convsPerStage: 1, gradNormalize: 'none' }), 4, 4, new Rng(2));
    await m.fit(data, ctxOf({ epochs: 1, batchSize: 4, lr: 1e-3 }));
    const b = data.batch([0, 1]);
    const targets = m.teacherTargets(b);
    const g = m.inputGradient(b.images!, targets);
    const x = b.images!.arraySync() as number[][][][];
    const lossAt = (img: number[][][][]) => tf.tidy(() => tf.sum(m.scoreLoss(tf.tensor4d(img), targets)).dataSync()[0]);
    const ga = g.arraySync() as number[][][][];
    const h = 0.5;
    let checked = 0;
    for (const [n, y, xx, c] of [[0, 3, 5, 0], [1, 8, 8, 2], [0, 12, 1, 1], [1, 0, 15, 0], [0, 7, 9, 2]]) {
      const plus = structuredClone(x), minus = structuredClone(x);
      plus[n][y][xx][c] += h; minus[n][y][xx][c] -= h;
      const fd = (lossAt(plus) - lossAt(minus)) / (2 * h);
      expect(Math.abs(fd - ga[n][y][xx][c])).toBeLessThanOrEqual(1e-3 * Math.max(Math.abs(fd), 1e-3) + 2e-6);
      checked++;
    }
    expect(checked).toBe(5);
    // the map is Σ_c |∂L/∂x|
    const gray = m.predict(b).maps!;
    close(arr(gray), arr(tf.tidy(() => tf.sum(tf.abs(g), 3))), 1e-6);
    tf.dispose([b.features!, b.images!, ...targets, g, gray]); m.dispose(); features!.dispose();
  });

  it('grayscale as convert_to_grayscale: (v − min) / (99th percentile − min), clipped', () => {
    const vals = Array.from({ length: 100 }, (_, i) => i); // one channel, Σ|g| = i
    const g = tf.tensor4d(vals.map((v) => -v), [1, 10, 10, 1]);
    const out = arr(gradToGray(g as Tensor4D, 'percentile'));
    const p99 = 0.99 * 99; // numpy percentile of 0..99
    close(out, vals.map((v) => Math.min(1, v / p99)), 1e-5);
    g.dispose();
  });
});

describe('psvdd', () => {
  it('position pairs: 8 neighbours at 3K/4 + U{0..K/4−1} per axis, labels as pos_to_diff; SVDD jitter within ±K/32', () => {
    const rng = new Rng(5);
    const seen = new Set<number>();
    for (let t = 0; t < 2000; t++) {
      for (const K of [64, 32]) {
        const { p1, p2, pos } = positionPair(256, 256, K, rng);
        seen.add(pos);
        for (const p of [p1, p2]) for (const v of p) { expect(v).toBeGreaterThanOrEqual(0); expect(v).toBeLessThanOrEqual(256 - K); }
        const [dh, dw] = POS_TO_DIFF[pos];
        const clipped = p2[0] === 0 || p2[0] === 256 - K || p2[1] === 0 || p2[1] === 256 - K;
        if (!clipped) {
          for (const [d, diff] of [[dh, p2[0] - p1[0]], [dw, p2[1] - p1[1]]]) {
            if (d === 0) expect(diff).toBe(0);
            else {
              expect(Math.sign(diff)).toBe(d);
              expect(Math.abs(diff)).toBeGreaterThanOrEqual((3 * K) / 4);
              expect(Math.abs(diff)).toBeLessThanOrEqual((3 * K) / 4 + K / 4 - 1);
            }
          }
        }
        const s = svddPair(256, 256, K, rng);
        const J = K / 32;
        expect(Math.max(Math.abs(s.p2[0] - s.p1[0]), Math.abs(s.p2[1] - s.p1[1]))).toBeLessThanOrEqual(J);
      }
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(POS_TO_DIFF).toEqual([[-1, -1], [-1, 0], [-1, 1], [0, -1], [0, 1], [1, -1], [1, 0], [1, 1]]);
  });

  it('crops are exact; dense embeddings equal the per-patch encoder (forward_hier) at K = 64 and 32', () => {
    const m = new PatchSvdd(PsvddConfigSchema.parse({ size: 96, D: 8, width: 0.25, stride64: 16, stride32: 4 }), new Rng(3));
    const img = syntheticImages(1, 96, 9);
    const x = tf.tensor4d(Float32Array.from(img), [1, 96, 96, 3]);
    const crop = cropPatches(x, [{ b: 0, h: 17, w: 30 }], 32);
    expect(arr(crop)).toEqual(arr(tf.slice(x, [0, 17, 30, 0], [1, 32, 32, 3])));
    const { e64, e32 } = m.embed(x);
    expect(e64.shape).toEqual([1, 3, 3, 8]); // (96 − 64) / 16 + 1
    expect(e32.shape).toEqual([1, 17, 17, 8]); // (96 − 32) / 4 + 1
    const std = tf.div(x, 255) as Tensor4D; // mean is 0 before fit
    const p64 = encode64PerPatch(m.net, tf.slice(std, [0, 16, 32, 0], [1, 64, 64, 3]) as Tensor4D);
    close(arr(p64), arr(tf.slice(e64, [0, 1, 2, 0], [1, 1, 1, 8])), 1e-4);
    const p32 = m.net.encode32(tf.slice(std, [0, 8, 60, 0], [1, 32, 32, 3]) as Tensor4D);
    close(arr(p32), arr(tf.slice(e32, [0, 2, 15, 0], [1, 1, 1, 8])), 1e-4);
    tf.dispose([x, crop, e64, e32, std, p64, p32]); m.dispose();
  });

  it('distributeScores = mean of the covering patches (distribute_score)', () => {
    const s = tf.tensor3d([1, 2, 3, 4, 5, 6], [1, 2, 3]);
    const out = distributeScores(s, 9, 4, 2).arraySync()[0];
    const ref = Array.from({ length: 9 }, () => new Array(9).fill(0)), cnt = Array.from({ length: 9 }, () => new Array(9).fill(0));
    const v = [[1, 2, 3], [4, 5, 6]];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let y = 2 * i; y < 2 * i + 4; y++) for (let x = 2 * j; x < 2 * j + 4; x++) { ref[y][x] += v[i][j]; cnt[y][x]++; }
    close(out.flat(), ref.flat().map((r, k) => r / Math.max(1, cnt.flat()[k])), 1e-6);
    s.dispose();
  });

  it('patch scores are the brute-force nearest distances to the (subsampled) bank of training embeddings', async () => {
    const { data } = fitData(4, 72, 6, 1, 1, false, false);
    const cfg = PsvddConfigSchema.parse({ size: 72, D: 8, width: 0.125, stride64: 8, stride32: 8, bankSize: 10 });
    const m = new PatchSvdd(cfg, new Rng(4));
    await m.fit(data, ctxOf({ epochs: 1, batchSize: 4, lr: 1e-4 }));
    expect(m.bankSizes()).toEqual({ k64: 10, k32: 10 }); // of 4·2² K64 and 4·6² K32 patches
    // every bank row is one of the training embeddings
    const all = tf.tidy(() => {
      const { e64 } = m.embed(data.all().images!);
      return tf.reshape(e64, [-1, 8]) as Tensor2D;
    });
    const allRows = all.arraySync();
    const bank = m.bankTensors()!.k64.arraySync();
    for (const r of bank) expect(allRows.some((a) => a.every((v, k) => Math.abs(v - r[k]) < 1e-6))).toBe(true);
    const test = fitData(1, 72, 60, 1, 1, true, false).data.batch([0]).images!;
    const { s64 } = m.patchScores(test);
    const q = tf.tidy(() => tf.reshape(m.embed(test).e64, [-1, 8]).arraySync() as number[][]);
    const brute = q.map((row) => Math.min(...bank.map((b) => Math.sqrt(b.reduce((s, v, k) => s + (v - row[k]) ** 2, 0)))));
    close(arr(s64), brute, 1e-4);
    tf.dispose([all, test, s64]); m.dispose();
  });
});

describe('tiny runs rank synthetic defects above normals', () => {
  const score = (m: Method, b: Batch) => tf.tidy(() => {
    const p = m.predict(b);
    return p.scores ? arr(p.scores) : arr(tf.max(p.maps!, [1, 2]));
  });
  const cases: [string, () => Method, number, number, Record<string, unknown>][] = [
    ['us', () => new UninformedStudents(UsConfigSchema.parse({ size: 32, depthChannels: [4, 4], widths: [8, 16, 16], convsPerStage: 1 }), 8, 8, new Rng(0)), 32, 8, { epochs: 30, batchSize: 8, lr: 3e-3 }],
    ['mkd', () => new Mkd(MkdConfigSchema.parse({ size: 32, depthChannels: [2, 2, 2, 2], widths: [8, 8, 16, 16], convsPerStage: 1 }), 8, 8, new Rng(0)), 32, 8, { epochs: 30, batchSize: 8, lr: 3e-3 }],
    ['psvdd', () => new PatchSvdd(PsvddConfigSchema.parse({ size: 72, D: 16, width: 0.25, stride64: 8, stride32: 4 }), new Rng(0)), 72, 0, { epochs: 3, batchSize: 8, lr: 1e-3 }],
  ];
  for (const [name, make, s, grid, train] of cases) {
    it(name, async () => {
      const tr = fitData(16, s, 11, grid || 1, 8, false, grid > 0);
      const good = fitData(6, s, 12, grid || 1, 8, false, grid > 0);
      const bad = fitData(6, s, 13, grid || 1, 8, true, grid > 0);
      const m = make();
      await m.fit(tr.data, ctxOf(train));
      const idx = [0, 1, 2, 3, 4, 5];
      const a = auroc(score(m, good.data.batch(idx)), score(m, bad.data.batch(idx)));
      expect(a).toBeGreaterThan(0.9);
      m.dispose(); tf.dispose([tr.features, good.features, bad.features].filter(Boolean) as Tensor[]);
    }, 120_000);
  }
});

describe('resume and state', () => {
  it('mkd and us: 2 epochs = 1 epoch + resume, to identical predictions; state round trip', async () => {
    for (const name of ['mkd', 'us'] as const) {
      const { data, features } = fitData(6, 32, 21, 8, 4);
      const make = () => name === 'mkd'
        ? new Mkd(MkdConfigSchema.parse({ size: 32, depthChannels: null, depths: 2, widths: [4, 4], convsPerStage: 1 }), 4, 8, new Rng(0))
        : new UninformedStudents(UsConfigSchema.parse({ size: 32, depthChannels: null, scales: 2, widths: [4, 4], convsPerStage: 1 }), 4, 8, new Rng(0));
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `distill-${name}-`));
      const train = { epochs: 2, batchSize: 4, lr: 1e-3 };
      const a = make();
      await a.fit(data, ctxOf(train));
      const b = make();
      await b.fit(data, ctxOf(train, { outDir: dir, stopAfterEpoch: 1 }));
      b.dispose();
      const c = make();
      await c.fit(data, ctxOf(train, { outDir: dir, resume: true }));
      const pv = (m: Method) => tf.tidy(() => arr(m.predict(data.batch([0, 1, 2])).maps!));
      expect(pv(c)).toEqual(pv(a));
      const d = make();
      d.loadState(a.state(), 'a.state');
      expect(pv(d)).toEqual(pv(a));
      expect(() => d.loadState({ meta: {}, tensors: [] }, 'empty.ckpt')).toThrow(/empty\.ckpt/);
      for (const m of [a, c, d]) m.dispose();
      features!.dispose();
    }
  }, 60_000);

  it('psvdd: resume gives identical maps; the state carries the banks', async () => {
    const { data } = fitData(4, 72, 31, 1, 1, false, false);
    const cfg = PsvddConfigSchema.parse({ size: 72, D: 8, width: 0.125, stride64: 8, stride32: 8, bankSize: 50 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'distill-psvdd-'));
    const train = { epochs: 2, batchSize: 2, lr: 1e-4 };
    const a = new PatchSvdd(cfg, new Rng(1));
    await a.fit(data, ctxOf(train));
    const b = new PatchSvdd(cfg, new Rng(1));
    await b.fit(data, ctxOf(train, { outDir: dir, stopAfterEpoch: 1 }));
    b.dispose();
    const c = new PatchSvdd(cfg, new Rng(1));
    await c.fit(data, ctxOf(train, { outDir: dir, resume: true }));
    const pv = (m: Method) => tf.tidy(() => arr(m.predict(data.batch([0, 1])).maps!));
    expect(pv(c)).toEqual(pv(a));
    const d = new PatchSvdd(cfg, new Rng(2));
    expect(() => d.predict(data.batch([0]))).toThrow(UserError);
    d.loadState(a.state(), 'a.state');
    expect(pv(d)).toEqual(pv(a));
    for (const m of [a, c, d]) m.dispose();
  }, 60_000);

  it('config errors name the key', () => {
    expect(() => channelGroups('mkd', 10, [1, 2], 4)).toThrow(/depthChannels.*10 channels/);
    expect(() => new PatchSvdd(PsvddConfigSchema.parse({ stride32: 3 }), new Rng(0))).toThrow(/stride32/);
    expect(() => PsvddConfigSchema.parse({ sizee: 3 })).toThrow(/sizee/);
  });
});
