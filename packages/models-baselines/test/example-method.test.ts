// Proves that the example of docs/adding-a-method.md works: importing the file registers the method,
// and the generic createModel → fit → predict path detects a synthetic defect.
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf, Rng, createModel, getModelEntry, listModels, type StatisticalModel } from '@unified-ad/core';
import './fixtures/example-method';
import { normalFeatures, withDefect, mapStats } from './helpers';

describe('docs/adding-a-method.md example', () => {
  it('the guide shows the fixture code verbatim', () => {
    const guide = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'docs', 'adding-a-method.md'), 'utf8');
    const code = fs.readFileSync(path.join(__dirname, 'fixtures', 'example-method.ts'), 'utf8');
    const block = guide.split('```ts\n').find((b) => b.includes('registerModel<PositionMeanConfig>'));
    expect(block).toBeDefined();
    expect(block!.slice(0, block!.indexOf('```'))).toBe(code);
  });

  it('registers at import and runs through createModel like every method', () => {
    expect(listModels().map((e) => e.name)).toContain('position-mean');
    expect(getModelEntry('position-mean').kind).toBe('statistical');
    expect(() => createModel('position-mean', { q: 1 }, { inChannels: 8, gridSize: 6, rng: new Rng(0) })).toThrow(/config/);
    const m = createModel('position-mean', {}, { inChannels: 8, gridSize: 6, rng: new Rng(0) }) as StatisticalModel;
    const train = normalFeatures(10, 6, 8, 1);
    m.fit({ samples: [], features: train }, new Rng(0));
    const defect = { top: 1, left: 2, size: 2 };
    const test = withDefect(normalFeatures(2, 6, 8, 2), defect, 1);
    const p = m.predict(test);
    expect(p.maps.shape).toEqual([2, 6, 6]);
    const s = mapStats(p.maps.dataSync().subarray(0, 36), 6, defect);
    expect(s.argmaxInside).toBe(true);
    expect(s.inside).toBeGreaterThan(5 * s.outside);
    expect(m.parameterCount()).toBe(6 * 6 * 8);
    tf.dispose([train, test, p.maps]);
    m.dispose();
  });
});
