import { describe, expect, it } from 'vitest';
import { UserError } from '@unified-ad/core';
import { evaluate, MAD_PARTS } from '../src/evaluate';
import { binaryMetrics } from '../src/metrics';
import { imageScoreFromMap } from '../src/postprocess';
import { golden } from './helpers';

const close = (a: number | undefined, b: number, tol = 1e-9) => expect(Math.abs((a as number) - b)).toBeLessThan(tol);

function blobClass(name: string) {
  const g = golden.aupro[name];
  const maps = g.maps.map((d: number[]) => ({ height: g.h, width: g.w, data: Float32Array.from(d) }));
  const masks = g.masks.map((d: number[]) => ({ height: g.h, width: g.w, data: Float32Array.from(d) }));
  const labels = g.masks.map((d: number[]) => (d.some((v) => v > 0) ? 1 : 0));
  return { g, maps, masks, labels };
}

describe('evaluate', () => {
  it('per-class metrics equal the golden references; mean is the mean over classes; mAD is the mean of seven', () => {
    const a = blobClass('blobs_distinct');
    const b = blobClass('blobs_tied');
    const r = evaluate(
      { a: { maps: a.maps, masks: a.masks, labels: a.labels }, b: { maps: b.maps, masks: b.masks, labels: b.labels } },
      { metrics: ['mad'] },
    );
    expect(r.classes).toEqual(['a', 'b']);
    for (const [cls, c] of [['a', a], ['b', b]] as const) {
      const m = r.per_class[cls];
      close(m.p_auroc, c.g.pixel.auroc);
      close(m.p_ap, c.g.pixel.ap);
      close(m.p_f1max, c.g.pixel.f1max);
      close(m.aupro, c.g['aupro_0.3']);
      const scores = c.maps.map((mp: { height: number; width: number; data: Float32Array }) => imageScoreFromMap(mp, { kind: 'max' }));
      const ib = binaryMetrics(scores, c.labels);
      close(m.i_auroc, ib.auroc);
      close(m.i_ap, ib.ap);
      close(m.i_f1max, ib.f1max);
      close(m.mad, MAD_PARTS.reduce((s, k) => s + (m[k] as number), 0) / 7);
    }
    for (const k of [...MAD_PARTS, 'mad'] as const) close(r.mean[k], ((r.per_class.a[k] as number) + (r.per_class.b[k] as number)) / 2);
  });

  it('default metrics skip AUPRO; given scores override map-derived ones; image-score option is used', () => {
    const a = blobClass('blobs_distinct');
    const given = a.labels.map((l: number, i: number) => l * 10 + i * 0.01);
    const r = evaluate({ a: { maps: a.maps, masks: a.masks, labels: a.labels, scores: given } });
    expect(r.per_class.a.aupro).toBeUndefined();
    expect(r.per_class.a.i_auroc).toBe(1);
    const r2 = evaluate({ a: { maps: a.maps, masks: a.masks, labels: a.labels } }, { metrics: ['i_auroc'], imageScore: { kind: 'mean' } });
    const means = a.maps.map((m: { height: number; width: number; data: Float32Array }) => imageScoreFromMap(m, { kind: 'mean' }));
    close(r2.per_class.a.i_auroc, binaryMetrics(means, a.labels).auroc);
    expect(Object.keys(r2.per_class.a)).toEqual(['i_auroc']);
  });

  it('a class without masks or without anomalies gets NaN, and the mean skips it; JSON keeps it as null', () => {
    const a = blobClass('blobs_distinct');
    const normalOnly = { maps: a.maps.slice(0, 2), masks: [null, null], labels: [0, 0] };
    const noMasks = { maps: a.maps, labels: a.labels };
    const r = evaluate({ a: { maps: a.maps, masks: a.masks, labels: a.labels }, n: normalOnly, u: noMasks });
    expect(r.per_class.n.i_auroc).toBeNaN();
    expect(r.per_class.n.p_auroc).toBeNaN();
    expect(r.per_class.u.p_auroc).toBeNaN();
    expect(r.per_class.u.i_auroc).toBe(r.per_class.a.i_auroc);
    close(r.mean.p_auroc, r.per_class.a.p_auroc as number);
    close(r.mean.i_auroc, r.per_class.a.i_auroc as number);
    expect(JSON.parse(JSON.stringify(r)).per_class.n.i_auroc).toBeNull();
  });

  it('bad input: clear errors naming the class', () => {
    const a = blobClass('blobs_distinct');
    expect(() => evaluate({ bottle: { maps: a.maps, labels: [0, 1] } })).toThrow(/class 'bottle': 6 maps but 2 labels/);
    expect(() => evaluate({ bottle: { maps: a.maps, masks: a.masks.slice(1), labels: a.labels } })).toThrow(/6 maps but 5 masks/);
    const bad = a.maps.map((m: { height: number; width: number; data: Float32Array }) => ({ ...m, data: m.data.slice() }));
    bad[3].data[7] = NaN;
    expect(() => evaluate({ bottle: { maps: bad, masks: a.masks, labels: a.labels } }, { metrics: ['p_auroc'] })).toThrow(
      /class 'bottle': map 3: score at index 7 is NaN/,
    );
    expect(() => evaluate({ bottle: { maps: a.maps, labels: a.labels } }, { metrics: ['x' as never] })).toThrow(UserError);
    expect(() => evaluate({})).toThrow(/no classes/);
  });
});
