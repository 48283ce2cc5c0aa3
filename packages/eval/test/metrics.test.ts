import { describe, expect, it } from 'vitest';
import { UserError } from '@unified-ad/core';
import { auroc, averagePrecision, binaryMetrics, f1Max } from '../src/metrics';
import { floatBitsToKey, keyToFloat, radixSortU32 } from '../src/radix';
import { golden, lcgCase, num } from './helpers';

const TOL = 1e-9;
const close = (a: number, b: number) => {
  if (Number.isNaN(b)) expect(a).toBeNaN();
  else expect(Math.abs(a - b)).toBeLessThan(TOL);
};

describe('binary metrics vs scikit-learn (golden)', () => {
  for (const name of ['random', 'tied', 'constant', 'small_signed_zero']) {
    it(`${name}: AUROC, AP, F1-max`, () => {
      const g = golden.binary[name];
      const m = binaryMetrics(g.scores, g.labels);
      close(m.auroc, g.auroc);
      close(m.ap, g.ap);
      close(m.f1max, g.f1max);
      // same numbers through the float32 path when the scores are float32-exact (constant, signed zero)
      if (name === 'constant' || name === 'small_signed_zero') {
        const m32 = binaryMetrics(Float32Array.from(g.scores), g.labels);
        close(m32.auroc, g.auroc);
        close(m32.ap, g.ap);
        close(m32.f1max, g.f1max);
      }
    });
  }

  it('float32 scores through the radix path', () => {
    const g = golden.binary.float32;
    const s = Float32Array.from(g.scores);
    const m = binaryMetrics(s, Uint8Array.from(g.labels));
    close(m.auroc, g.auroc);
    close(m.ap, g.ap);
    close(m.f1max, g.f1max);
    // the float64 rank path agrees exactly on the same values
    const m64 = binaryMetrics(Array.from(s), g.labels);
    expect(m64.auroc).toBe(m.auroc);
    expect(m64.ap).toBe(m.ap);
    expect(m64.f1max).toBe(m.f1max);
  });

  it('all-positive: AUROC NaN (sklearn too), AP = F1-max = 1', () => {
    const g = golden.binary.all_positive;
    expect(num(g.auroc)).toBeNaN();
    const m = binaryMetrics(g.scores, g.labels);
    expect(m.auroc).toBeNaN();
    close(m.ap, g.ap);
    close(m.f1max, g.f1max);
  });

  it('all-negative: documented NaN where sklearn returns its convention 0', () => {
    const g = golden.binary.all_negative;
    expect(num(g.auroc)).toBeNaN();
    expect(g.ap).toBe(0); // sklearn's convention, with a warning
    const m = binaryMetrics(g.scores, g.labels);
    expect(m.auroc).toBeNaN();
    expect(m.ap).toBeNaN();
    expect(m.f1max).toBeNaN();
  });

  for (const name of ['distinct', 'quantised']) {
    it(`300k float32 pixels (${name}) match sklearn`, () => {
      const g = golden.lcg[name];
      const { scores, labels } = lcgCase(g.n, g.seed, g.quant);
      let p = 0;
      for (const l of labels) p += l;
      expect(p).toBe(g.positives);
      const m = binaryMetrics(scores, labels);
      close(m.auroc, g.auroc);
      close(m.ap, g.ap);
      close(m.f1max, g.f1max);
    });
  }

  it('F1 threshold is a score value at which F1 = F1-max', () => {
    const g = golden.binary.tied;
    const m = binaryMetrics(g.scores, g.labels);
    let tp = 0;
    let fp = 0;
    let P = 0;
    g.scores.forEach((s: number, i: number) => {
      P += g.labels[i];
      if (s >= m.f1Threshold) (g.labels[i] ? tp++ : fp++);
    });
    close((2 * tp) / (tp + fp + P), m.f1max);
  });

  it('flipBelowHalf is explicit: inverted scores give 1 - AUROC only when asked', () => {
    const g = golden.binary.random;
    const neg = g.scores.map((v: number) => -v);
    close(auroc(neg, g.labels), 1 - g.auroc);
    close(auroc(neg, g.labels, { flipBelowHalf: true }), g.auroc);
  });

  it('single-metric helpers agree with binaryMetrics', () => {
    const g = golden.binary.random;
    close(auroc(g.scores, g.labels), g.auroc);
    close(averagePrecision(g.scores, g.labels), g.ap);
    close(f1Max(g.scores, g.labels), g.f1max);
  });
});

describe('bad input gives a one-line UserError', () => {
  it('length mismatch', () => {
    expect(() => auroc([0.1, 0.2], [0, 1, 1])).toThrow(UserError);
    expect(() => auroc([0.1, 0.2], [0, 1, 1])).toThrow(/2 scores but 3 labels/);
  });
  it('NaN / Infinity scores (number and float32 paths)', () => {
    expect(() => auroc([0.1, NaN], [0, 1])).toThrow(/index 1 is NaN/);
    expect(() => auroc(new Float32Array([0.1, NaN]), [0, 1])).toThrow(/index 1 is NaN/);
    expect(() => auroc(new Float32Array([Infinity, 0]), [0, 1])).toThrow(/index 0 is Infinity/);
  });
  it('labels other than 0/1', () => {
    expect(() => auroc([0.1, 0.2], [0, 2])).toThrow(/label at index 1 is 2/);
    expect(() => auroc(new Float32Array([0.1, 0.2]), [0.5, 1])).toThrow(UserError);
  });
});

describe('radix sort', () => {
  it('sorts float keys like a numeric sort, ties and signed zeros included', () => {
    const vals = new Float32Array(50_000);
    let s = 1;
    for (let i = 0; i < vals.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      vals[i] = i % 7 === 0 ? (i % 14 === 0 ? -0 : 0) : (s / 4294967296 - 0.5) * 10 ** ((s % 9) - 4);
    }
    const bits = new Uint32Array(vals.buffer);
    const keys = bits.map(floatBitsToKey);
    const payload = Uint32Array.from({ length: keys.length }, (_, i) => i);
    radixSortU32(keys, new Uint32Array(keys.length), payload, new Uint32Array(keys.length));
    const expected = Float64Array.from(vals).sort();
    let bad = 0;
    for (let i = 0; i < keys.length; i++) {
      if (keyToFloat(keys[i]) !== expected[i] || vals[payload[i]] !== expected[i]) bad++;
      if (i > 0 && keys[i] < keys[i - 1]) bad++;
    }
    expect(bad).toBe(0);
    expect(floatBitsToKey(0x80000000)).toBe(floatBitsToKey(0));
  });
});

describe('bucketed counting (counts.ts) vs the rank path', () => {
  it('separated classes (no shared bucket), clustered overlap, and exact ties give identical results', () => {
    const rngNext = (() => {
      let s = 99;
      return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
    })();
    const n = 200_000;
    const cases: [string, (l: number) => number][] = [
      ['separated', (l) => (l ? 2 + rngNext() : rngNext())],
      ['clustered', (l) => Math.round((l ? 0.3 : 0) + rngNext() * 1000) / 1000 + (rngNext() < 0.01 ? 50 : 0)],
      ['wide range', (l) => Math.exp(30 * rngNext() - 15 + l)],
    ];
    for (const [, gen] of cases) {
      const labels = new Uint8Array(n);
      const scores = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        labels[i] = rngNext() < 0.05 ? 1 : 0;
        scores[i] = gen(labels[i]);
      }
      const a = binaryMetrics(scores, labels); // float32 keys, 2^20 buckets
      const b = binaryMetrics(Array.from(scores), labels); // dense ranks, one bucket per rank
      expect(a.auroc).toBe(b.auroc);
      expect(a.f1max).toBe(b.f1max);
      expect(Math.abs(a.ap - b.ap)).toBeLessThan(1e-12);
      expect(a.f1Threshold).toBe(b.f1Threshold);
    }
    const sep = binaryMetrics(Float32Array.from([0.1, 0.2, 3, 4]), [0, 0, 1, 1]);
    expect(sep.auroc).toBe(1);
    expect(sep.ap).toBe(1);
  });
});
