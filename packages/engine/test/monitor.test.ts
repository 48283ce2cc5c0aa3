// The label-free monitor: held-out normal training images with synthetic cut-paste anomalies, scored at every
// periodic evaluation, and train.select=synthetic picking the checkpoint without test labels.
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, UserError, listModels, type Sample } from '@unified-ad/core';
import { heldOutRows, makeSyntheticValidation, rectMask, runExperiment, toRunConfig } from '../src';

const sample = (i: number): Sample => ({ id: `s${i}`, className: 'c', split: 'train', label: 0, defectType: 'good', imagePath: `#${i}` });

describe('synthetic validation set', () => {
  it('held-out rows are deterministic, distinct and leave training data', () => {
    expect(heldOutRows(20, 4, 3)).toEqual(heldOutRows(20, 4, 3));
    expect(new Set(heldOutRows(20, 4, 3)).size).toBe(4);
    expect(heldOutRows(20, 4, 3)).not.toEqual(heldOutRows(20, 4, 4));
    expect(() => heldOutRows(4, 4, 0)).toThrow(/leave none/);
  });

  it('k normal copies unchanged + k anomalous copies that differ only inside the pasted rectangle', () => {
    const k = 3, g = 8, c = 2;
    const x = new Rng(1).normalTensor([k, g, g, c]) as Tensor4D;
    const v = makeSyntheticValidation({ features: x }, [0, 1, 2].map(sample), 5);
    expect(v.labels).toEqual([0, 0, 0, 1, 1, 1]);
    const b = v.data.batch([0, 1, 2, 3, 4, 5]).features!;
    const all = b.dataSync(), orig = x.dataSync();
    const per = g * g * c;
    for (let j = 0; j < k * per; j++) expect(all[j]).toBe(orig[j]);
    for (let i = 0; i < k; i++) {
      const mask = rectMask(v.rects[k + i]!, g);
      let inside = 0, changed = 0;
      for (let cell = 0; cell < g * g; cell++)
        for (let ch = 0; ch < c; ch++) {
          const d = all[(k + i) * per + cell * c + ch] !== orig[i * per + cell * c + ch];
          if (!mask[cell]) expect(d).toBe(false);
          if (mask[cell]) { inside++; if (d) changed++; }
        }
      expect(inside).toBeGreaterThan(0);
      expect(changed).toBeGreaterThan(inside / 2);
      // area 15–40 % of each side
      const area = mask.reduce((a, m) => a + m, 0) / (g * g);
      expect(area).toBeGreaterThan(0.01);
      expect(area).toBeLessThan(0.3);
    }
    tf.dispose([b, x]);
    v.dispose();
  });
});

describe('train.select=synthetic', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uniad-monitor-'));
  for (const entry of listModels()) {
    it(`${entry.name}: the monitor reports val.synthetic_* each evaluation, and select picks a checkpoint by it (or says why not)`, async () => {
      const cfg = toRunConfig({
        name: `${entry.name}-select`, seed: 0, setting: 'unified',
        data: { type: 'synthetic', classes: ['fabric', 'disk'], trainPerClass: 6, testGoodPerClass: 2, testDefectPerClass: 2, size: 64, seed: 0 },
        backbone: { id: 'mobilenet_v2_embedded' }, features: { layers: [], size: 7, batchSize: 16 },
        model: { name: entry.name, config: entry.smoke?.model ?? {} },
        train: { epochs: 2, batchSize: 4, evalEvery: 1, select: 'synthetic', monitor: 4, ...(entry.smoke?.train ?? {}) },
        eval: { resolution: 32, metrics: ['i_auroc', 'p_auroc'], pictureSamples: 0 },
      }, `monitor ${entry.name}`);
      const out = path.join(tmp, entry.name);
      let result;
      try {
        result = await runExperiment(cfg, { outDir: out, log: () => {} });
      } catch (e) {
        // only a method without a gradient loop (PaDiM, PatchCore) has no checkpoints to choose from: one clear line.
        // Methods whose fitted state is more than the network (CutPaste's density, Patch SVDD's banks, US's score
        // statistics) load the picked checkpoint with loadTrainingCheckpoint and recompute those parts.
        expect(e).toBeInstanceOf(UserError);
        expect((e as Error).message).toMatch(/^train\.select=synthetic: no checkpoint was selected \(the method kept no best checkpoint\)$/);
        expect(fs.existsSync(path.join(out, 'checkpoints'))).toBe(false);
        return;
      }
      const g = result.groups[0]!;
      expect(g.history.length).toBe(2);
      for (const h of g.history) {
        const val = (h.eval as { val?: Record<string, number> }).val!;
        expect(val.synthetic_i_auroc).toBeGreaterThanOrEqual(0);
        expect(val.synthetic_i_auroc).toBeLessThanOrEqual(1);
      }
      expect(g.selected?.by).toBe('val.synthetic');
      expect(g.selected?.epoch).toBe(g.best?.epoch);
      // 12 training images minus 4 held out
      expect(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')).toMatch(/"val":\{/);
    });
  }
});
