import { describe, expect, it } from 'vitest';
import {
  binarizeMask,
  gaussianBlur,
  imageScoreFromMap,
  prepareMap,
  splitMaps,
  resizeBilinear,
  resizeMaskNearest,
} from '../src/postprocess';
import { golden } from './helpers';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};
const post = golden.post;
const map = { height: post.map.h, width: post.map.w, data: Float32Array.from(post.map.data) };
const f32 = (xs: number[]) => Float32Array.from(xs); // references rounded like our float32 output

describe('map post-processing vs scipy (golden)', () => {
  it('Gaussian blur = scipy.ndimage.gaussian_filter (reflect, truncate 4), σ = 1, 2.5, 4', () => {
    for (const sig of ['1.0', '2.5', '4.0']) {
      const out = gaussianBlur(map, Number(sig));
      expect(maxAbsDiff(out.data, f32(post.blur[sig]))).toBeLessThan(1e-6);
    }
  });
  it('bilinear align_corners=True = scipy zoom(order=1, grid_mode=False)', () => {
    const r = post.resize_align;
    const out = resizeBilinear(map, r.h, r.w);
    expect(maxAbsDiff(out.data, f32(r.data))).toBeLessThan(1e-6);
    // corners are exact copies
    expect(out.data[0]).toBe(map.data[0]);
    expect(out.data[out.data.length - 1]).toBe(map.data[map.data.length - 1]);
  });
  it('bilinear align_corners=False = scipy zoom(order=1, grid_mode=True, mode=nearest)', () => {
    const r = post.resize_half;
    const out = resizeBilinear(map, r.h, r.w, { alignCorners: false });
    expect(maxAbsDiff(out.data, f32(r.data))).toBeLessThan(1e-6);
  });
  it('image scores: max, mean, avg-pool max (16×16 and 5×9, stride 1), top-k % mean', () => {
    const big = { height: post.big.h, width: post.big.w, data: Float32Array.from(post.big.data) };
    const tol = 1e-6; // map values are float32
    expect(Math.abs(imageScoreFromMap(big, { kind: 'max' }) - post.max)).toBeLessThan(tol);
    expect(Math.abs(imageScoreFromMap(big, { kind: 'mean' }) - post.mean)).toBeLessThan(tol);
    expect(Math.abs(imageScoreFromMap(big, { kind: 'avgpool-max', window: 16 }) - post.avgpool16_max)).toBeLessThan(tol);
    expect(Math.abs(imageScoreFromMap(big, { kind: 'avgpool-max', window: [5, 9] }) - post.avgpool5x9_max)).toBeLessThan(tol);
    expect(Math.abs(imageScoreFromMap(big, { kind: 'topk-mean', percent: 1 }) - post.top1pct_mean)).toBeLessThan(tol);
    expect(Math.abs(imageScoreFromMap(big, { kind: 'topk-mean', percent: 10 }) - post.top10pct_mean)).toBeLessThan(tol);
    expect(() => imageScoreFromMap(big, { kind: 'avgpool-max', window: 64 })).toThrow(/does not fit/);
    expect(() => imageScoreFromMap(big, { kind: 'topk-mean', percent: 0 })).toThrow(/percent/);
  });
  it('top-k mean with many ties equals the sort-based value', () => {
    const d = new Float32Array(1000);
    for (let i = 0; i < d.length; i++) d[i] = (i * 7919) % 13;
    const sorted = Float64Array.from(d).sort().reverse();
    for (const pct of [0.1, 3, 50, 100]) {
      const k = Math.max(1, Math.ceil((pct / 100) * d.length));
      let s = 0;
      for (let i = 0; i < k; i++) s += sorted[i];
      expect(imageScoreFromMap({ height: 10, width: 100, data: d }, { kind: 'topk-mean', percent: pct })).toBeCloseTo(s / k, 12);
    }
  });
});

describe('masks', () => {
  it('nearest resize (half-pixel centres) then binarised at 0.5', () => {
    // 2×2 -> 4×4: every source pixel becomes a 2×2 block; 0.5 counts as anomalous, 0.49 does not
    const m = { height: 2, width: 2, data: new Float32Array([0, 0.5, 0.49, 1]) };
    const r = resizeMaskNearest(m, 4, 4);
    expect(Array.from(r.data)).toEqual([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]);
    // 3 -> 2 columns: half-pixel picks source columns floor(0.75) = 0 and floor(2.25) = 2; 'floor' picks 0 and 1
    const row = { height: 1, width: 3, data: new Float32Array([1, 0, 1]) };
    expect(Array.from(resizeMaskNearest(row, 1, 2).data)).toEqual([1, 1]);
    expect(Array.from(resizeMaskNearest(row, 1, 2, { mode: 'floor' }).data)).toEqual([1, 0]);
    expect(Array.from(binarizeMask([0, 0.5, 0.2, 255]))).toEqual([0, 1, 0, 1]);
  });
  it('splitMaps gives views of stacked maps', () => {
    const d = Float32Array.from({ length: 12 }, (_, i) => i);
    const ms = splitMaps(d, 3, 2, 2);
    expect(ms.map((m) => Array.from(m.data))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]);
    d[5] = 50;
    expect(ms[1].data[1]).toBe(50);
    expect(() => splitMaps(d, 4, 2, 2)).toThrow(/not 4 maps/);
  });
  it('prepareMap upsamples then blurs', () => {
    const out = prepareMap(map, { size: [40, 33], sigma: 2.5 });
    const ref = gaussianBlur(resizeBilinear(map, 40, 33), 2.5);
    expect(out.height).toBe(40);
    expect(maxAbsDiff(out.data, ref.data)).toBe(0);
    expect(() => resizeBilinear(map, 0, 5)).toThrow(/bad target size/);
    expect(() => gaussianBlur(map, -1)).toThrow(/sigma/);
  });
});
