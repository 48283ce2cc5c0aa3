import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor2D } from '@tensorflow/tfjs-node';
import { tf, Rng } from '@unified-ad/core';
import { GaussianDensity, ledoitWolf } from '../src';

interface Case {
  name: string;
  n: number;
  dim: number;
  x: number[];
  queries: number[];
  location: number[];
  covariance: number[];
  shrinkage: number;
  shrinkageFn: number;
  singular: boolean;
  mahalanobis: number[] | null;
}
const golden = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden', 'ledoit_wolf_golden.json'), 'utf8')) as { cases: Case[] };

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-12, Math.abs(b));

describe('Ledoit-Wolf covariance (golden: sklearn.covariance.LedoitWolf)', () => {
  it('has the edge cases the golden is meant to cover', () => {
    const s = golden.cases.map((c) => c.shrinkage);
    expect(s.some((v) => v > 0.1 && v < 0.9)).toBe(true);
    expect(golden.cases.some((c) => c.shrinkage === 1)).toBe(true); // β clipped to δ
    expect(golden.cases.some((c) => c.dim === 1)).toBe(true);
    expect(golden.cases.some((c) => c.n < c.dim && !c.singular)).toBe(true);
    expect(golden.cases.some((c) => c.singular)).toBe(true);
  });

  for (const c of golden.cases) {
    it(`${c.name} (n=${c.n}, d=${c.dim}): location, shrinkage and covariance`, () => {
      const x = Float32Array.from(c.x);
      const r = ledoitWolf(x, c.dim);
      expect(r.dim).toBe(c.dim);
      expect(r.shrinkage).toBeGreaterThanOrEqual(0);
      expect(r.shrinkage).toBeLessThanOrEqual(1);
      expect(Math.abs(r.shrinkage - c.shrinkage)).toBeLessThan(1e-9);
      expect(Math.abs(r.shrinkage - c.shrinkageFn)).toBeLessThan(1e-9);
      let scale = 0;
      for (const v of c.covariance) scale = Math.max(scale, Math.abs(v));
      for (let i = 0; i < c.dim; i++) expect(Math.abs(r.location[i] - c.location[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(c.location[i])));
      for (let i = 0; i < c.dim * c.dim; i++) expect(Math.abs(r.covariance[i] - c.covariance[i])).toBeLessThan(1e-9 * scale);
    });

    it(`${c.name}: GaussianDensity Mahalanobis distance (LW precision)`, () => {
      const x = tf.tensor2d(Float32Array.from(c.x), [c.n, c.dim]) as Tensor2D;
      if (c.singular) {
        expect(() => GaussianDensity.fit(x)).toThrow(/covariance is singular.*increase the regularization/);
        x.dispose();
        return;
      }
      const n0 = tf.memory().numTensors;
      const g = GaussianDensity.fit(x);
      expect(g.shrinkage).toBeCloseTo(c.shrinkage, 9);
      const q = tf.tensor2d(Float32Array.from(c.queries), [c.queries.length / c.dim, c.dim]) as Tensor2D;
      const d = g.mahalanobis(q);
      const got = Array.from(d.dataSync());
      expect(got.length).toBe(c.mahalanobis!.length);
      // float32 on the engine (the 1000-offset case loses ~4 digits in x − μ)
      for (let i = 0; i < got.length; i++) expect(relErr(got[i], c.mahalanobis![i])).toBeLessThan(2e-3);
      // state round trip
      const g2 = GaussianDensity.fromState(g.state());
      const d2 = g2.mahalanobis(q);
      expect(Array.from(d2.dataSync())).toEqual(got);
      tf.dispose([d, d2, q]);
      g.dispose();
      g2.dispose();
      expect(tf.memory().numTensors).toBe(n0);
      x.dispose();
    });
  }

  it('assumeCentered skips the centring (location 0, S = XᵀX / n)', () => {
    const c = golden.cases[0];
    const x = Float32Array.from(c.x);
    const r = ledoitWolf(x, c.dim, { assumeCentered: true });
    expect(Array.from(r.location)).toEqual(new Array(c.dim).fill(0));
    // the uncentred second moment is larger than the covariance on the diagonal (the data has an offset of 3)
    const rc = ledoitWolf(x, c.dim);
    let tr = 0;
    let trc = 0;
    for (let i = 0; i < c.dim; i++) {
      tr += r.covariance[i * c.dim + i];
      trc += rc.covariance[i * c.dim + i];
    }
    expect(tr).toBeGreaterThan(trc + 1);
  });

  it('empirical covariance option equals np.cov (n − 1) and differs from LW', () => {
    const r = new Rng(3);
    const n = 50;
    const dim = 4;
    const data = new Float32Array(n * dim);
    for (let i = 0; i < data.length; i++) data[i] = r.normal() * (1 + (i % dim));
    const x = tf.tensor2d(data, [n, dim]) as Tensor2D;
    const emp = GaussianDensity.fit(x, { covariance: 'empirical' });
    const lw = GaussianDensity.fit(x);
    expect(emp.shrinkage).toBe(0);
    expect(lw.shrinkage).toBeGreaterThan(0);
    // brute force: distance of the first row with the inverse of the n − 1 covariance
    const mean = new Array(dim).fill(0);
    for (let k = 0; k < n; k++) for (let j = 0; j < dim; j++) mean[j] += data[k * dim + j] / n;
    const cov = Array.from({ length: dim }, () => new Array(dim).fill(0));
    for (let k = 0; k < n; k++)
      for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) cov[i][j] += ((data[k * dim + i] - mean[i]) * (data[k * dim + j] - mean[j])) / (n - 1);
    // solve cov · y = (x0 − μ) by Gauss–Jordan
    const rhs = Array.from({ length: dim }, (_, i) => data[i] - mean[i]);
    const a = cov.map((row, i) => [...row, rhs[i]]);
    for (let p = 0; p < dim; p++) {
      for (let i = 0; i < dim; i++) {
        if (i === p) continue;
        const f = a[i][p] / a[p][p];
        for (let j = p; j <= dim; j++) a[i][j] -= f * a[p][j];
      }
    }
    const want = Math.sqrt(rhs.reduce((s, v, i) => s + (v * a[i][dim]) / a[i][i], 0));
    const q = tf.slice(x, [0, 0], [1, dim]) as Tensor2D;
    const dEmp = emp.mahalanobis(q).dataSync()[0];
    const dLw = lw.mahalanobis(q).dataSync()[0];
    expect(relErr(dEmp, want)).toBeLessThan(1e-4);
    expect(Math.abs(dLw - dEmp)).toBeGreaterThan(1e-3);
    emp.dispose();
    lw.dispose();
    tf.dispose([x, q]);
  });

  it('bad parameters are one-line errors naming the parameter', () => {
    expect(() => ledoitWolf(new Float32Array(10), 3)).toThrow(/do not form rows of 3/);
    expect(() => ledoitWolf(new Float32Array(10), 0)).toThrow(/dim must be a positive integer/);
    const x = { data: new Float32Array([1, 2, 3, 4, 5, 7]), dim: 2 };
    expect(() => GaussianDensity.fit(x, { regularization: -1 })).toThrow(/regularization must be ≥ 0/);
    expect(() => GaussianDensity.fit(x, { covariance: 'oas' as never })).toThrow(/covariance must be 'ledoit-wolf' or 'empirical'/);
    expect(() => GaussianDensity.fit({ data: [1, 2], dim: 2 }, { covariance: 'empirical' })).toThrow(/needs at least 2 samples/);
    const g = GaussianDensity.fit(x, { regularization: 0.1 });
    expect(() => g.mahalanobis(tf.zeros([1, 3]) as Tensor2D)).toThrow(/features have 3 dims, the density was fitted on 2/);
    g.dispose();
  });
});
