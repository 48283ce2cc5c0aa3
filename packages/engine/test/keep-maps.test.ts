// eval.keepMaps: the maps of a few fixed anomalous test images, kept at every periodic evaluation, across resume.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError, type Sample } from '@unified-ad/core';
import { KEPT_MAPS_DIR, loadRunData, pickKeptMapSamples, readKeptMaps, runExperiment, toRunConfig, type Predictions } from '../src';

const anomalous = (id: string, className: string, defectType: string): Sample => ({ id, className, split: 'test', label: 1, defectType, imagePath: id });
const normal = (id: string, className: string): Sample => ({ id, className, split: 'test', label: 0, defectType: 'good', imagePath: id });

describe('pickKeptMapSamples', () => {
  const s = [normal('a0', 'a'), anomalous('ax0', 'a', 'x'), anomalous('ax1', 'a', 'x'), anomalous('ay0', 'a', 'y'), normal('b0', 'b'), anomalous('bz0', 'b', 'z'), anomalous('bz1', 'b', 'z')];
  const ids = (k: number) => pickKeptMapSamples(s, k).map((i) => s[i]!.id);
  it('takes one image per class first, then the next defect type of each class; never a normal image', () => {
    expect(ids(2)).toEqual(['ax0', 'bz0']);
    expect(ids(4)).toEqual(['ax0', 'bz0', 'ay0', 'bz1']);
    expect(ids(10)).toEqual(['ax0', 'bz0', 'ay0', 'bz1', 'ax1']);
    expect(ids(0)).toEqual([]);
  });
});

describe('eval.keepMaps', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uniad-keepmaps-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const raw = (train: Record<string, unknown>, evalExtra: Record<string, unknown> = {}) => ({
    name: 'keep', seed: 0, setting: 'unified',
    data: { type: 'synthetic', classes: ['fabric', 'disk'], trainPerClass: 4, testGoodPerClass: 2, testDefectPerClass: 3, size: 64, seed: 0 },
    backbone: { id: 'mobilenet_v2_embedded' }, features: { size: 7, batchSize: 16 },
    model: { name: 'mlp', config: { hiddenDim: 32, layers: 2, dropout: 0 } },
    train: { epochs: 2, batchSize: 4, lr: 0.001, evalEvery: 1, ...train },
    eval: { resolution: 32, metrics: ['i_auroc', 'p_auroc'], pictureSamples: 0, keepMaps: 3, ...evalExtra },
  });

  it('a bad value is one line naming the key', () => {
    for (const v of [-1, 2.5, 'four']) {
      let err: unknown;
      try {
        toRunConfig(raw({}, { keepMaps: v }), 'test');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(/^test: key 'eval\.keepMaps': /);
      expect((err as Error).message).not.toContain('\n');
    }
    expect(toRunConfig(raw({}, { keepMaps: undefined }), 'test').eval.keepMaps).toBe(0);
  });

  it('keeps the maps of exactly the chosen images at every evaluated epoch (the final one = the final predictions)', async () => {
    const cfg = toRunConfig(raw({}), 'test');
    const out = path.join(tmp, 'full');
    let final: Predictions | null = null;
    let testIds: string[] = [];
    await runExperiment(cfg, { outDir: out, log: () => {}, onPredictions: (_g, test, pred) => { final = pred; testIds = test.samples.map((s) => s.id); } });
    const kept = readKeptMaps(out)!;
    expect(kept.epochs).toEqual([1, 2]);
    const { testSamples } = await loadRunData(cfg);
    const want = pickKeptMapSamples(testSamples, 3).map((i) => testSamples[i]!);
    expect(kept.samples.map((s) => s.id)).toEqual(want.map((s) => s.id));
    // one image of each class, then the next defect type
    expect(kept.samples.map((s) => s.className)).toEqual(['fabric', 'disk', 'fabric']);
    expect(kept.size).toBe(32);
    for (const s of kept.samples) {
      expect(s.image.length).toBe(32 * 32 * 3);
      expect(s.mask!.some((v) => v === 1)).toBe(true);
    }
    const last = kept.maps(2);
    expect(last).toHaveLength(3);
    kept.samples.forEach((s, k) => expect(Array.from(last[k]!.data)).toEqual(Array.from(final!.maps![testIds.indexOf(s.id)]!.data)));
    // the maps change with training
    expect(Array.from(kept.maps(1)[0]!.data)).not.toEqual(Array.from(last[0]!.data));
  });

  it('resume keeps the maps up to the checkpoint and rewrites or drops the ones after it; a fresh run starts empty', async () => {
    // a tiny time budget stops every call after one epoch (evaluated), so each --resume call adds one epoch
    const cfg = toRunConfig(raw({ epochs: 3, maxMinutes: 1e-6 }), 'test');
    const out = path.join(tmp, 'resume');
    const dir = path.join(out, KEPT_MAPS_DIR);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'epoch-9.json'), '{}');
    await runExperiment(cfg, { outDir: out, log: () => {} });
    expect(fs.readdirSync(dir).sort()).toEqual(['epoch-1.json', 'samples.json']);
    const e1 = fs.readFileSync(path.join(dir, 'epoch-1.json'));
    // maps an interrupted run wrote after its last checkpoint
    fs.writeFileSync(path.join(dir, 'epoch-2.json'), e1.toString().replace('"epoch":1', '"epoch":2'));
    fs.writeFileSync(path.join(dir, 'epoch-3.json'), '{}');
    const r = await runExperiment(cfg, { outDir: out, resume: true, log: () => {} });
    expect(r.groups[0]!.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(fs.readdirSync(dir).sort()).toEqual(['epoch-1.json', 'epoch-2.json', 'samples.json']);
    expect(fs.readFileSync(path.join(dir, 'epoch-1.json')).equals(e1)).toBe(true);
    const kept = readKeptMaps(out)!;
    expect(kept.epochs).toEqual([1, 2]);
    expect(Array.from(kept.maps(2)[0]!.data)).not.toEqual(Array.from(kept.maps(1)[0]!.data));
  });
});
