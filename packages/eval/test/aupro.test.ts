import { describe, expect, it } from 'vitest';
import { UserError } from '@unified-ad/core';
import { aupro, proCurve } from '../src/aupro';
import { labelComponents8 } from '../src/components';
import { pixelMetrics } from '../src/evaluate';
import { golden } from './helpers';

const close = (a: number, b: number, tol = 1e-9) => expect(Math.abs(a - b)).toBeLessThan(tol);

// Hand case: one 3×4 image, two regions. A = {(0,0), (0,1)} (|A| = 2), B = {(2,3)} (|B| = 1), 9 normal pixels.
//   threshold  new pixels           FPR    PRO = (tp_A/2 + tp_B/1) / 2
//   0.9        A(0,0)               0      0.25
//   0.8        one normal           1/9    0.25
//   0.7        B + one normal       2/9    0.75
//   0.6        one normal           3/9    0.75
//   0.5        A(0,1)               3/9    1
//   0.1        six normals          1      1
// Curve from (0,0). Area up to 0.3: 0.25·(1/9) + ½(0.25+0.75)·(1/9) + 0.75·(0.3 − 2/9) = 10/360 + 20/360 + 21/360
// = 51/360, so AUPRO@0.3 = 51/108. Up to 0.15 (interpolated between 1/9 and 2/9: PRO(0.15) = 0.25 + 0.5·0.35 = 0.425):
// 10/360 + ½(0.25 + 0.425)·(7/180) = 14.725/360, so AUPRO@0.15 = 14.725/54. Up to 1: 51/360 + 0.75/30 + 2/3 = 5/6.
const hand = {
  map: { height: 3, width: 4, data: new Float32Array([0.9, 0.5, 0.8, 0.1, 0.1, 0.1, 0.7, 0.1, 0.1, 0.6, 0.1, 0.7]) },
  mask: { height: 3, width: 4, data: new Float32Array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) },
};

describe('AUPRO', () => {
  it('hand-computed two-region case', () => {
    close(aupro([hand.map], [hand.mask]), 51 / 108);
    close(aupro([hand.map], [hand.mask], { fprLimit: 0.15 }), 14.725 / 54);
    close(aupro([hand.map], [hand.mask], { fprLimit: 1 }), 5 / 6);
    const c = proCurve([hand.map], [hand.mask]);
    expect(Array.from(c.fpr)).toEqual([0, 0, 1 / 9, 2 / 9, 3 / 9, 3 / 9, 1]);
    expect(Array.from(c.pro)).toEqual([0, 0.25, 0.25, 0.75, 0.75, 1, 1]);
  });

  for (const name of ['blobs_distinct', 'blobs_tied']) {
    it(`${name}: matches the MVTec AD reference script at limits 0.3, 0.05, 1`, () => {
      const g = golden.aupro[name];
      const maps = g.maps.map((d: number[]) => ({ height: g.h, width: g.w, data: Float32Array.from(d) }));
      const masks = g.masks.map((d: number[]) => ({ height: g.h, width: g.w, data: Float32Array.from(d) }));
      for (const [lim, key] of [[0.3, 'aupro_0.3'], [0.05, 'aupro_0.05'], [1, 'aupro_1.0']] as const) {
        close(aupro(maps, masks, { fprLimit: lim }), g[key]);
      }
      // pixel AUROC/AP/F1 from the same sort as AUPRO
      const p = pixelMetrics(maps, masks, { aupro: true });
      close(p.auroc, g.pixel.auroc);
      close(p.ap, g.pixel.ap);
      close(p.f1max, g.pixel.f1max);
      close(p.aupro, g['aupro_0.3']);
      // plain arrays with an explicit shape give the same
      const plain = aupro(g.maps.map((d: number[]) => Float32Array.from(d)), g.masks, { height: g.h, width: g.w });
      close(plain, g['aupro_0.3']);
    });
  }

  it('no regions or no normal pixel -> NaN; bad shapes -> UserError', () => {
    expect(aupro([hand.map], [null])).toBeNaN();
    const full = { height: 3, width: 4, data: new Float32Array(12).fill(1) };
    expect(aupro([hand.map], [full])).toBeNaN();
    expect(() => aupro([hand.map.data], [hand.mask.data])).toThrow(/height\/width/);
    expect(() => aupro([hand.map], [{ height: 2, width: 2, data: new Float32Array(4) }])).toThrow(UserError);
    expect(() => aupro([hand.map], [hand.mask], { fprLimit: 0 })).toThrow(/fprLimit/);
  });
});

describe('8-connected components', () => {
  it('diagonal neighbours join, separated pixels do not', () => {
    // 1 0 0 1
    // 0 1 0 0
    // 0 0 0 1
    // 1 1 0 1
    const m = [1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1];
    const c = labelComponents8(m, 4, 4);
    expect(c.count).toBe(4);
    expect(Array.from(c.sizes)).toEqual([2, 1, 2, 2]);
    expect(Array.from(c.labels)).toEqual([1, 0, 0, 2, 0, 1, 0, 0, 0, 0, 0, 3, 4, 4, 0, 3]);
  });
  it('golden blob masks: region count equals scipy.ndimage.label', () => {
    for (const name of ['blobs_distinct', 'blobs_tied']) {
      const g = golden.aupro[name];
      let total = 0;
      for (const mk of g.masks) total += labelComponents8(mk, g.h, g.w).count;
      expect(total).toBe(g.regions);
    }
  });
});
