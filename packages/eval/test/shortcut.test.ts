// The shortcut ratio of Fig. 3 on hand-computed cases.
import { describe, it, expect } from 'vitest';
import { shortcutRatio } from '../src';

describe('shortcutRatio', () => {
  it('hand-computed: defect mean / normal mean over all normal pixels (normal images included)', () => {
    // image 1 (anomalous): map [4, 2, 2, 0], mask [1, 0, 0, 0]; image 2 (normal): map [1, 1, 1, 1]
    const r = shortcutRatio([Float32Array.of(4, 2, 2, 0), Float32Array.of(1, 1, 1, 1)], [Float32Array.of(1, 0, 0, 0), null]);
    expect(r.defectPixels).toBe(1);
    expect(r.normalPixels).toBe(7);
    expect(r.meanDefect).toBe(4);
    expect(r.meanNormal).toBeCloseTo(8 / 7, 12);
    expect(r.ratio).toBeCloseTo(3.5, 9);
  });
  it('a net that returns its input (zero error everywhere) has ratio exactly 1', () => {
    const r = shortcutRatio([new Float32Array(9), new Float32Array(9)], [Float32Array.of(0, 1, 1, 0, 0, 0, 0, 0, 0), null]);
    expect(r.ratio).toBe(1);
  });
  it('a net whose error ignores the defects (same error everywhere) has ratio 1; no defect pixel → NaN', () => {
    expect(shortcutRatio([new Float32Array(4).fill(0.3)], [Float32Array.of(1, 1, 0, 0)]).ratio).toBeCloseTo(1, 9);
    expect(shortcutRatio([new Float32Array(4).fill(0.3)], [null]).ratio).toBeNaN();
  });
  it('masks are binarised at 0.5 and must match the map size', () => {
    expect(shortcutRatio([Float32Array.of(2, 1)], [Float32Array.of(0.7, 0.2)]).ratio).toBeCloseTo(2, 9);
    expect(() => shortcutRatio([Float32Array.of(2, 1)], [Float32Array.of(1)])).toThrow(/mask 1/);
  });
});
