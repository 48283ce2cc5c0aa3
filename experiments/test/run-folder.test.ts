// One run end to end through the CLI (train → eval → predict → features → report) at the smoke budget, and the
// run folder's contents checked against each other: the re-evaluation of the final checkpoint reproduces
// results.json, `predict` scores an image exactly as the run scored it, thresholds.json is the F1-max threshold.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import * as YAML from 'yaml';
import { tf } from '@unified-ad/core';
import { binaryMetrics } from '@unified-ad/eval';
import { main } from '../src/cli';
import { loadRunConfig } from '../src/config-files';
import { trainRun } from '../src/run-folder';
import { evaluateRun } from '../src/commands/evaluate';
import { parseCsv } from '../src/report';

let tmp: string;
let run: string;
let stdout: string[];
let stderr: string[];

async function cli(...args: string[]): Promise<number> {
  stdout = [];
  stderr = [];
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (stdout.push(String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (stderr.push(String(s)), true));
  try {
    return await main(['node', 'uniad', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uniad-run-'));
  // a private cache (synthetic images, features): hermetic, and no stale entries from other versions
  process.env.UNIFIED_AD_CACHE = path.join(tmp, 'cache');
  run = path.join(tmp, 'uniad');
  expect(await cli('train', '--config', 'uniad-smoke', 'classes=[fabric]', '--out', run)).toBe(0);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const read = (...p: string[]) => fs.readFileSync(path.join(...p), 'utf8');

describe('a run folder', () => {
  it('describes itself: resolved config, seed, commit, engine, metrics log, checkpoints, results, scores, tables', () => {
    for (const f of ['config.yaml', 'env.json', 'metrics.jsonl', 'checkpoints/best.ckpt', 'checkpoints/last.ckpt', 'results.json', 'scores.csv', 'thresholds.json', 'timings.json', 'tables/metrics.csv', 'tables/metrics.md', 'pictures/training-curves.png'])
      expect(fs.existsSync(path.join(run, f)), f).toBe(true);
    const cfg = YAML.parse(read(run, 'config.yaml'));
    expect(cfg.model.config).toMatchObject({ hiddenDim: 32, query: 'layerwise', neighborMask: { size: 3, encoder: true }, jitter: { scale: 20, prob: 1 } });
    expect(cfg.classes).toEqual(['fabric']);
    const env = JSON.parse(read(run, 'env.json'));
    expect(env.seed).toBe(0);
    expect(env.engine.backend).toBe('tensorflow');
    expect(env).toHaveProperty('git_commit');
    expect(read(run, 'metrics.jsonl').trim().split('\n')).toHaveLength(2);
    expect(stdout.join('')).toMatch(/fabric\s+\d+\.\d\d\s+\d+\.\d\d/);
  });

  it('thresholds.json holds the F1-max threshold of scores.csv (recomputed here)', () => {
    const rows = parseCsv(read(run, 'scores.csv')).slice(1).filter((r) => r.length > 1);
    expect(rows).toHaveLength(6);
    const m = binaryMetrics(rows.map((r) => Number(r[4])), rows.map((r) => Number(r[3])));
    expect(JSON.parse(read(run, 'thresholds.json')).thresholds.fabric).toBe(m.f1Threshold);
  });

  it('uniad eval (final checkpoint) reproduces results.json exactly', async () => {
    expect(await cli('eval', run)).toBe(0);
    const ev = JSON.parse(read(run, 'eval-last.json'));
    const res = JSON.parse(read(run, 'results.json'));
    expect(ev.per_class).toEqual(res.per_class);
    expect(stdout.join('')).toContain('Re-evaluation (last checkpoint)');
  });

  it('uniad predict scores a test image as the run did, decides by the threshold, writes a heat map', async () => {
    const rows = parseCsv(read(run, 'scores.csv')).slice(1).filter((r) => r.length > 1);
    const cfg = loadRunConfig(path.join(run, 'config.yaml'));
    // the image files of two test samples, found through the dataset
    const { loadDataset } = await import('@unified-ad/datasets');
    const ds = await loadDataset(cfg.data);
    const pick = ['fabric/test/good/000', rows.find((r) => r[3] === '1')![0]].map((id) => ds.samples.find((s) => s.id === id)!);
    const out = path.join(tmp, 'pred');
    expect(await cli('predict', ...pick.map((s) => s.imagePath), '--run', run, '--out', out)).toBe(0);
    const pred = parseCsv(read(out, 'predictions.csv')).slice(1).filter((r) => r.length > 1);
    const threshold = JSON.parse(read(run, 'thresholds.json')).thresholds.all;
    for (const [k, s] of pick.entries()) {
      const want = Number(rows.find((r) => r[0] === s.id)![4]);
      expect(Number(pred[k][1])).toBeCloseTo(want, 4);
      expect(Number(pred[k][2])).toBe(threshold);
      expect(pred[k][3]).toBe(Number(pred[k][1]) >= threshold ? '1' : '0');
      const meta = await sharp(pred[k][4]).metadata();
      expect([meta.width, meta.height]).toEqual([2 * cfg.eval.resolution, cfg.eval.resolution]);
    }
    // unified run: --class picks that class's threshold (same model, same score); an unknown class is one line
    const out2 = path.join(tmp, 'pred-class');
    expect(await cli('predict', pick[0].imagePath, '--run', run, '--class', 'fabric', '--out', out2)).toBe(0);
    const pc = parseCsv(read(out2, 'predictions.csv')).slice(1).filter((r) => r.length > 1);
    // same model, same score: to float precision (a batch of 1 here, of 2 above; oneDNN's sums may depend on the batch)
    expect(Number(pc[0][1])).toBeCloseTo(Number(pred[0][1]), 4);
    expect(Number(pc[0][2])).toBe(JSON.parse(read(run, 'thresholds.json')).thresholds.fabric);
    expect(stdout.join('')).toContain('threshold for fabric');
    expect(await cli('predict', pick[0].imagePath, '--run', run, '--class', 'wood')).toBe(1);
    expect(stderr.join('').trim().split('\n').pop()).toMatch(/^error: predict: --class 'wood' is not a class of .* \(fabric\)$/);
    // ... and it is said before the model is restored: a copy of the run without its state gives the same line
    const bare = path.join(tmp, 'bare-run');
    fs.cpSync(run, bare, { recursive: true });
    fs.rmSync(path.join(bare, 'state.ckpt'));
    fs.rmSync(path.join(bare, 'checkpoints'), { recursive: true, force: true });
    expect(await cli('predict', pick[0].imagePath, '--run', bare, '--class', 'wood')).toBe(1);
    expect(stderr.join('').trim().split('\n').pop()).toMatch(/^error: predict: --class 'wood' is not a class of .* \(fabric\)$/);
    expect(await cli('predict', path.join(tmp, 'nope.png'), '--run', run)).toBe(1);
    expect(stderr.join('').trim()).toMatch(/^error: predict: image not found: .*nope\.png$/);
  });

  it('refuses to overwrite a finished run; features are cached; report renders the folder', async () => {
    expect(await cli('train', '--config', 'uniad-smoke', 'classes=[fabric]', '--out', run)).toBe(1);
    expect(stderr.join('').trim()).toMatch(/^error: .* already holds a finished run/);
    expect(await cli('features', '--config', 'uniad-smoke', 'classes=[fabric]')).toBe(0);
    expect(stdout.join('')).toMatch(/12 images → \[12, 7, 7, 152\]; 12 from the cache, 0 computed/);
    expect(await cli('report', run)).toBe(0);
    const html = read(run, 'report.html');
    expect(html).toContain('<h1>uniad-smoke: uniad (unified)</h1>');
    expect(html).toContain('Metrics per class');
  });

  it('a statistical method: no tensors leak across a run; eval refits and reproduces results.json', async () => {
    const cfg = loadRunConfig('padim-smoke', ['classes=[disk]']);
    const dir = path.join(tmp, 'padim');
    const before = tf.memory().numTensors;
    const res = await trainRun(cfg, { outDir: dir, log: () => {} });
    expect(tf.memory().numTensors).toBe(before);
    const ev = await evaluateRun(dir, { checkpoint: 'last', log: () => {} });
    expect(ev.per_class).toEqual(res.per_class);
    expect(tf.memory().numTensors).toBe(before);

    // eval.* overrides: another file named by the settings, the run's own result untouched; pixel metrics follow the
    // blur, image metrics the score rule; anything but eval.* or a bad value is one line naming it
    const plain = fs.readFileSync(path.join(dir, 'eval-last.json'), 'utf8');
    const blurred = await evaluateRun(dir, { checkpoint: 'last', overrides: ['eval.blurSigma=4'], log: () => {} });
    expect(path.basename(blurred.file)).toMatch(/^eval-last-[0-9a-f]{8}\.json$/);
    expect(fs.readFileSync(path.join(dir, 'eval-last.json'), 'utf8')).toBe(plain);
    const saved = JSON.parse(fs.readFileSync(blurred.file, 'utf8'));
    expect(saved.overrides).toEqual(['eval.blurSigma=4']);
    expect(saved.eval.blurSigma).toBe(4);
    expect(blurred.per_class.disk!.p_auroc).not.toBe(res.per_class.disk!.p_auroc);
    const again = await evaluateRun(dir, { checkpoint: 'last', overrides: ['eval.blurSigma=4'], log: () => {} });
    expect(again.file).toBe(blurred.file);
    expect(again.per_class).toEqual(blurred.per_class);
    const mean = await evaluateRun(dir, { checkpoint: 'last', overrides: ['eval.imageScore={kind: mean}'], log: () => {} });
    expect(mean.file).not.toBe(blurred.file);
    expect(mean.per_class.disk!.p_auroc).toBe(res.per_class.disk!.p_auroc);
    const userError = (text: string) => ({ name: 'UserError', message: expect.stringContaining(text) });
    await expect(evaluateRun(dir, { checkpoint: 'last', overrides: ['train.epochs=3'], log: () => {} })).rejects.toMatchObject(userError("uniad eval: only eval.* settings can be overridden (got 'train.epochs=3')"));
    await expect(evaluateRun(dir, { checkpoint: 'last', overrides: ['eval.imageScore={kind: top}'], log: () => {} })).rejects.toMatchObject(userError("uniad eval: key 'eval.imageScore.kind'"));
    await expect(evaluateRun(dir, { checkpoint: 'last', overrides: ['eval.foo=1'], log: () => {} })).rejects.toMatchObject(userError("uniad eval: unknown key 'eval.foo'"));
    expect(tf.memory().numTensors).toBe(before);
  });
});
