// loadDataset from plain configs, the exported zod schema, and combining datasets into one unified set.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetSpecSchema, loadDataset, combineDatasets, loadImageBatch, loadMaskBatch, loadMvtec, selectSamples, summarizeDataset } from '../src';
import { expectUserError, makeTinyMvtec, tempDir } from './helpers';

let root: string;
beforeAll(async () => {
  root = tempDir('spec');
  await makeTinyMvtec(path.join(root, 'mv'), 'widget');
  await makeTinyMvtec(path.join(root, 'mv2'), 'widget');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('DatasetSpecSchema', () => {
  it('accepts every kind and rejects unknown keys', () => {
    const ok = [
      { type: 'mvtec', root: 'r', categories: ['bottle'], onError: 'skip' },
      { type: 'magnetic-tile', root: 'r' },
      { type: 'manifest', path: 'm.csv' },
      { type: 'cifar10', root: 'r', normalClasses: [0, 1, 2, 3, 4] },
      { type: 'mnist', root: 'r', normalClasses: [5] },
      { type: 'fashion-mnist', root: 'r', normalClasses: [1, 3, 5, 7, 9], maxTrainPerClass: 100 },
      { type: 'synthetic' },
      { type: 'combined', parts: [{ type: 'synthetic' }, { type: 'magnetic-tile', root: 'r' }] },
    ];
    for (const s of ok) expect(DatasetSpecSchema.safeParse(s).success).toBe(true);
    expect(DatasetSpecSchema.safeParse({ type: 'mvtec', root: 'r', categoriess: [] }).success).toBe(false);
    expect(DatasetSpecSchema.safeParse({ type: 'combined', parts: [] }).success).toBe(false);
  });
});

describe('combined datasets', () => {
  it('concatenates classes and samples; each sample is read by its own part', async () => {
    const ds = await loadDataset(
      {
        type: 'combined',
        parts: [
          { type: 'mvtec', root: 'mv' },
          { type: 'synthetic', root: 'syn', classes: ['disk', 'fabric'], trainPerClass: 2, testGoodPerClass: 1, testDefectPerClass: 3, size: 48 },
        ],
      },
      { baseDir: root, warn: () => {} },
    );
    expect(ds.name).toBe('mvtec-ad+synthetic');
    expect(ds.classes).toEqual(['widget', 'disk', 'fabric']);
    expect(ds.samples).toHaveLength(6 + 2 * 6);
    expect(summarizeDataset(ds)).toEqual([
      { className: 'widget', train: 3, testNormal: 2, testAnomalous: 1, defects: { crack: 2, good: 1 } },
      { className: 'disk', train: 2, testNormal: 1, testAnomalous: 3, defects: { good: 1, missing_piece: 1, scratch: 1, stain: 1 } },
      { className: 'fabric', train: 2, testNormal: 1, testAnomalous: 3, defects: { good: 1, cut: 1, hole: 1, stain: 1 } },
    ]);
    const train = selectSamples(ds, 'train');
    expect(train).toHaveLength(3 + 4);
    const imgs = await loadImageBatch(ds, train, 20);
    expect(imgs.length).toBe(7 * 20 * 20 * 3);
    const direct = await loadMvtec(path.join(root, 'mv'), { warn: () => {} });
    expect(Array.from(imgs.subarray(0, 1200))).toEqual(Array.from(await direct.loadImage(direct.samples[0], 20)));
    const test = selectSamples(ds, 'test', 'disk');
    const masks = await loadMaskBatch(ds, test, 16);
    expect(masks.length).toBe(test.length * 256);
    test.forEach((s, i) => {
      const pos = masks.subarray(i * 256, (i + 1) * 256).reduce((a, b) => a + b, 0);
      expect(pos > 0).toBe(s.label === 1);
    });
  });

  it('class names must be unique across parts', async () => {
    const a = await loadMvtec(path.join(root, 'mv'), { warn: () => {} });
    const b = await loadMvtec(path.join(root, 'mv2'), { warn: () => {}, name: 'other' });
    await expectUserError(() => combineDatasets([a, b]), "class 'widget' appears in both mvtec-ad and other");
    await expectUserError(() => combineDatasets([]), 'no datasets');
  });
});
