import { describe, expect, it } from 'vitest';
import { syntheticPixels } from '../src/bench';
import { pixelMetrics } from '../src/evaluate';

// A sanity check only (the real figure is `npm run bench`: 86.6 M pixels). 2 M pixels take ~0.1 s on an idle
// 2-core machine; the bound is loose because other test files and users share the CPU.
describe('speed sanity', () => {
  it('2 M pixels: AUROC/AP/F1-max + AUPRO well under 5 s', () => {
    const d = syntheticPixels(40, 224, 5);
    const t0 = Date.now();
    const p = pixelMetrics(d.maps, d.masks, { aupro: true });
    const ms = Date.now() - t0;
    console.log(`2M-pixel metrics + AUPRO: ${ms} ms`);
    expect(p.positives + p.negatives).toBe(40 * 224 * 224);
    expect(p.auroc).toBeGreaterThan(0.9);
    expect(p.aupro).toBeGreaterThan(0.5);
    expect(ms).toBeLessThan(5000);
  });
});
