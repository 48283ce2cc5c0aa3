import { describe, it, expect } from 'vitest';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, createModel, getModelEntry, type MethodInputs, type StatisticalMethod } from '@unified-ad/core';
import { PatchCore, PatchCoreConfigSchema } from '../src';
import { normalFeatures, withDefect, mapStats } from './helpers';

const patchcore = (cfg: Record<string, unknown>, c: number) => (createModel('patchcore', cfg, { inChannels: c, gridSize: 0, rng: new Rng(0) }) as StatisticalMethod<PatchCore>).model;

describe('PatchCore', () => {
  it('3×3 locally aware features: neighbourhood average, zero padding counted at the borders (PyTorch AvgPool2d)', () => {
    const m = patchcore({}, 1);
    const x = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i + 1), [1, 4, 4, 1]) as Tensor4D;
    const y = m.patchFeatures(x).dataSync();
    expect(y.length).toBe(16);
    expect(y[0]).toBeCloseTo((1 + 2 + 5 + 6) / 9, 5); // corner: 4 cells inside, 5 zeros
    expect(y[5]).toBeCloseTo((1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11) / 9, 5);
    expect(y[1]).toBeCloseTo((1 + 2 + 3 + 5 + 6 + 7) / 9, 5);
    x.dispose();
    m.dispose();
  });

  it('map = distance to the nearest memory patch; image score = eq. 7 re-weighting (checked in JS)', () => {
    const c = 6;
    const grid = 4;
    const train = normalFeatures(5, grid, c, 1, 0.3);
    const m = patchcore({ coresetRatio: 1, poolSize: 1, numNeighbors: 3 }, c);
    m.fit({ samples: [], features: train }, new Rng(0));
    expect(m.memorySize).toBe(5 * grid * grid);
    const test = withDefect(normalFeatures(2, grid, c, 2, 0.3), { top: 1, left: 1, size: 1 }, 1);
    const p = m.predict(test);
    const bank = train.dataSync();
    const q = test.dataSync();
    const maps = p.maps.dataSync();
    const scores = p.scores!.dataSync();
    const P = grid * grid;
    const d = (a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number) => {
      let s = 0;
      for (let t = 0; t < c; t++) s += (a[i * c + t] - b[j * c + t]) ** 2;
      return Math.sqrt(s);
    };
    for (let img = 0; img < 2; img++) {
      let worst = -1;
      let sStar = -1;
      let mStar = -1;
      for (let k = 0; k < P; k++) {
        const qi = img * P + k;
        let best = Infinity;
        let bi = -1;
        for (let j = 0; j < bank.length / c; j++) {
          const dd = d(q, qi, bank, j);
          if (dd < best) {
            best = dd;
            bi = j;
          }
        }
        expect(maps[qi]).toBeCloseTo(best, 3);
        if (best > sStar) {
          sStar = best;
          worst = qi;
          mStar = bi;
        }
      }
      // N_b(m*): the 3 nearest memory patches of m* (m* itself first)
      const nb = Array.from({ length: bank.length / c }, (_, j) => [d(bank, mStar, bank, j), j]).sort((a, b) => a[0] - b[0]).slice(0, 3);
      expect(nb[0][1]).toBe(mStar);
      const denom = nb.reduce((s, [, j]) => s + Math.exp(d(q, worst, bank, j)), 0);
      const want = (1 - Math.exp(sStar) / denom) * sStar;
      expect(scores[img]).toBeCloseTo(want, 3);
      expect(scores[img]).toBeLessThan(sStar);
    }
    tf.dispose([train, test, p.maps, p.scores!]);
    m.dispose();
  });

  it('ranks a shifted patch above normal positions and images; deterministic; no tensor leaks', () => {
    const grid = 10;
    const c = 16;
    const defect = { top: 4, left: 5, size: 3 };
    const train = normalFeatures(20, grid, c, 1);
    const fit = (seed: number) => {
      const m = patchcore({ coresetRatio: 0.1 }, c);
      m.fit({ samples: [], features: train }, new Rng(seed));
      return m;
    };
    const m = fit(3);
    expect(m.memorySize).toBe(200);
    expect(m.parameterCount()).toBe(200 * c);
    const good = normalFeatures(4, grid, c, 2);
    const bad = withDefect(normalFeatures(4, grid, c, 3), defect, 1);
    const pg = m.predict(good);
    const pb = m.predict(bad);
    expect(pb.maps.shape).toEqual([4, grid, grid]);
    expect(pb.scores!.shape).toEqual([4]);
    const mb = pb.maps.dataSync();
    for (let i = 0; i < 4; i++) {
      const s = mapStats(mb.subarray(i * grid * grid, (i + 1) * grid * grid), grid, defect);
      expect(s.argmaxInside).toBe(true);
      expect(s.inside).toBeGreaterThan(3 * s.outside);
    }
    expect(Math.min(...pb.scores!.dataSync())).toBeGreaterThan(Math.max(...pg.scores!.dataSync()));
    const m2 = fit(3);
    const pb2 = m2.predict(bad);
    expect(Array.from(pb2.maps.dataSync())).toEqual(Array.from(mb));
    expect(Array.from(pb2.scores!.dataSync())).toEqual(Array.from(pb.scores!.dataSync()));
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const p = m.predict(bad);
      tf.dispose([p.maps, p.scores!]);
    }
    expect(tf.memory().numTensors).toBe(n0);
    const m3 = patchcore({}, c);
    m3.loadState(m.state());
    const p3 = m3.predict(bad);
    expect(Array.from(p3.maps.dataSync())).toEqual(Array.from(mb));
    tf.dispose([train, good, bad, pg.maps, pg.scores!, pb.maps, pb.scores!, pb2.maps, pb2.scores!, p3.maps, p3.scores!]);
    [m, m2, m3].forEach((x) => x.dispose());
  });

  it('config: defaults, unknown keys, reweight off leaves scores to the evaluation; clear errors', () => {
    expect(PatchCoreConfigSchema.parse({})).toEqual({ coresetRatio: 0.01, projectionDim: 128, poolSize: 3, numNeighbors: 9, reweight: true });
    expect(() => patchcore({ ratio: 0.1 }, 4)).toThrow(/patchcore.*config.*ratio/i);
    expect(() => patchcore({ coresetRatio: 0 }, 4)).toThrow(/coresetRatio/);
    expect(() => patchcore({ poolSize: 2 }, 4)).toThrow(/poolSize must be odd/);
    expect((getModelEntry('patchcore').inputs as MethodInputs).features).toMatchObject({ layers: ['expanded_conv_6/add', 'expanded_conv_13/add'], size: 28 });
    const m = patchcore({ reweight: false, coresetRatio: 0.5 }, 4);
    const x = normalFeatures(2, 4, 4, 1);
    expect(() => m.predict(x)).toThrow(/before fit/);
    m.fit({ samples: [], features: x }, new Rng(0));
    const p = m.predict(x);
    expect(p.scores).toBeUndefined();
    const bad = normalFeatures(1, 4, 5, 1);
    expect(() => m.predict(bad)).toThrow(/5 channels.*created for 4/);
    tf.dispose([x, bad, p.maps]);
    m.dispose();
  });

  it('fits a bank of 60 × 28×28 × 128 patches (1 % coreset) and predicts; timings', () => {
    const x = tf.tidy(() => tf.add(new Rng(1).normalTensor([60, 28, 28, 128]), tf.mul(new Rng(2).normalTensor([1, 28, 28, 128]), 2))) as Tensor4D;
    const m = patchcore({}, 128);
    const t0 = Date.now();
    m.fit({ samples: [], features: x }, new Rng(0));
    const fitMs = Date.now() - t0;
    expect(m.memorySize).toBe(Math.round(0.01 * 60 * 784));
    expect(m.coverRadii.length).toBe(m.memorySize);
    const t1 = Date.now();
    const p = m.predict(x.slice([0, 0, 0, 0], [16, -1, -1, -1]) as Tensor4D);
    p.maps.dataSync();
    const predMs = Date.now() - t1;
    console.log(`patchcore: fit 60×28×28×128 → ${m.memorySize} patches ${fitMs} ms; predict 16 images ${predMs} ms`);
    tf.dispose([x, p.maps, p.scores!]);
    m.dispose();
  });
});
