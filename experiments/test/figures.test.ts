// Smoke budgets of fig3 (identical-shortcut curves) and the ablation (synthetic data, tiny models, 2 epochs).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import '../src/models';
import { ablationVariants } from '../src/experiments/ablation';
import { ablation, fig3 } from '../src/experiments';
import { runGrid } from '../src/grid/runner';
import { evaluateRun } from '../src/commands/evaluate';
import { parseCsv } from '../src/report';

let tmp: string;
const quiet = () => {};
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uniad-exp-'));
  // a private cache (synthetic images, features): hermetic, and no stale entries from other versions
  process.env.UNIFIED_AD_CACHE = path.join(tmp, 'cache');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const read = (...p: string[]) => fs.readFileSync(path.join(...p), 'utf8');

describe('experiments at the smoke budget', () => {
  it('fig3: per-epoch loss and I-/P-AUROC of MLP, CNN, Transformer and UniAD', async () => {
    const out = path.join(tmp, 'fig3');
    const r = await runGrid(fig3, { budget: 'smoke', seeds: 1 }, { outDir: out, log: quiet });
    expect(r.ran.map((k) => k.split('_')[0]).sort()).toEqual(['cnn', 'mlp', 'transformer', 'uniad']);
    const rows = parseCsv(read(out, 'tables', 'fig3-curves.csv'));
    expect(rows[0]).toEqual(['method', 'epoch', 'train_loss', 'i_auroc', 'p_auroc', 'shortcut_ratio']);
    expect(rows.slice(1)).toHaveLength(4 * 2);
    for (const row of rows.slice(1)) for (const v of row.slice(2)) expect(Number.isFinite(Number(v))).toBe(true);
    // the curve values are the runs' logged per-epoch records
    const jsonl = read(out, 'cells', 'uniad_unified_all_s0', 'metrics.jsonl').trim().split('\n').map((l) => JSON.parse(l));
    const uniadRows = rows.filter((x) => x[0] === 'uniad');
    expect(uniadRows.map((x) => Number(x[2]))).toEqual(jsonl.map((j) => j.train_loss));
    expect(uniadRows.map((x) => Number(x[4]))).toEqual(jsonl.map((j) => j.eval.mean.p_auroc));
    expect(uniadRows.map((x) => Number(x[5]))).toEqual(jsonl.map((j) => j.eval.shortcut.ratio));
    expect(read(out, 'tables', 'fig3.md')).toContain('peak P-AUROC');
    // the table's final ratio is the last logged one
    const uniadTable = parseCsv(read(out, 'tables', 'fig3.csv')).find((x) => x[0] === 'uniad')!;
    expect(uniadTable[11]).toBe(jsonl[jsonl.length - 1].eval.shortcut.ratio.toFixed(2));
    const png = fs.readFileSync(path.join(out, 'pictures', 'fig3.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const svg = read(out, 'pictures', 'fig3.svg');
    for (const m of ['mlp', 'cnn', 'transformer', 'uniad']) expect(svg).toContain(`>${m}<`);
    // Fig. 3b: each run kept its maps at every evaluation (eval.keepMaps); the grid has a peak and a final column
    // per net, the peak being the table's epoch of the highest P-AUROC
    for (const m of ['mlp', 'cnn', 'transformer', 'uniad'])
      expect(fs.readdirSync(path.join(out, 'cells', `${m}_unified_all_s0`, 'eval-maps')).sort()).toEqual(['epoch-1.json', 'epoch-2.json', 'samples.json']);
    expect(fs.readFileSync(path.join(out, 'pictures', 'fig3b.png')).subarray(1, 4).toString()).toBe('PNG');
    const grid = read(out, 'pictures', 'fig3b.svg');
    const peaks = parseCsv(read(out, 'tables', 'fig3.csv')).slice(1).map((x) => Number(/@(\d+)$/.exec(x[3]!)![1]));
    expect([...grid.matchAll(/>@peak e(\d+)</g)].map((m) => Number(m[1]))).toEqual(peaks);
    expect(grid.match(/>final e2</g)).toHaveLength(4);
    expect(grid.match(/<image /g)).toHaveLength(4 * (2 + 8) + 4);
  });

  it('ablation: each idea switched off in turn and the sweeps, one table', async () => {
    const out = path.join(tmp, 'ablation');
    const r = await runGrid(ablation, { budget: 'smoke', seeds: 1 }, { outDir: out, log: quiet });
    const variants = ablationVariants('smoke').map((v) => v.name);
    expect(r.ran).toHaveLength(variants.length);
    const cfgOf = (v: string) => YAML.parse(read(out, 'cells', `uniad_unified_all_s0_${v}`, 'config.yaml')).model.config;
    expect(cfgOf('full')).toMatchObject({ query: 'layerwise', neighborMask: { size: 3, encoder: true, decoder1: true, decoder2: true }, jitter: { scale: 20 } });
    expect(cfgOf('no-layerwise-query').query).toBe('none');
    expect(cfgOf('no-neighbor-mask').neighborMask).toMatchObject({ encoder: false, decoder1: false, decoder2: false, size: 3 });
    expect(cfgOf('no-jitter').jitter.scale).toBe(0);
    expect(cfgOf('mask-size-5').neighborMask.size).toBe(5);
    const rows = parseCsv(read(out, 'tables', 'ablation.csv'));
    expect(rows.slice(1).map((x) => x[1])).toEqual(variants);
    for (const row of rows.slice(2)) expect(row[4]).toMatch(/^[+-]\d+\.\d$/);

    // --variants: a subset (the full model always with it) reuses those runs and tables only them
    const sub = await runGrid(ablation, { budget: 'smoke', seeds: 1, variants: ['no-jitter', 'no-layerwise-query'] }, { outDir: out, log: quiet });
    expect(sub.ran).toEqual([]);
    expect(sub.reused.sort()).toEqual(['uniad_unified_all_s0_full', 'uniad_unified_all_s0_no-jitter', 'uniad_unified_all_s0_no-layerwise-query']);
    const subRows = parseCsv(read(out, 'tables', 'ablation.csv'));
    expect(subRows.slice(1).map((x) => x[1])).toEqual(['full', 'no-layerwise-query', 'no-jitter']);
    expect(subRows.find((x) => x[1] === 'no-jitter')).toEqual(rows.find((x) => x[1] === 'no-jitter'));
    await expect(runGrid(ablation, { budget: 'smoke', seeds: 1, variants: ['no-such'] }, { outDir: out, log: quiet })).rejects.toThrow(
      /^experiment ablation: no variant 'no-such' at budget smoke \(variants: full, no-layerwise-query, /,
    );

    // scripts/ablation-table.ts: the same rows from the run folders given one by one; a run of another config is refused
    const cell = (v: string) => `${v}=${path.join(out, 'cells', `uniad_unified_all_s0_${v}`)}`;
    const script = (...args: string[]) =>
      spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js'), '-T', path.join(__dirname, '..', 'scripts', 'ablation-table.ts'), ...args], { encoding: 'utf8' });
    const t = script(path.join(tmp, 'abl-table'), '--budget', 'smoke', cell('full'), cell('no-jitter'), cell('no-layerwise-query'));
    expect(t.status, t.stderr).toBe(0);
    expect(parseCsv(read(tmp, 'abl-table', 'ablation.csv'))).toEqual(subRows);
    expect(read(tmp, 'abl-table', 'ablation-per-class.md').trim().split('\n')).toHaveLength(2 + 3);
    const wrong = script(path.join(tmp, 'abl-wrong'), '--budget', 'smoke', cell('full'), `no-jitter=${path.join(out, 'cells', 'uniad_unified_all_s0_full')}`);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr.trim().split('\n').pop()).toMatch(/uniad_unified_all_s0_full: its model\.config is not the full model's with no-jitter's change \{"jitter":\{"scale":0\}\}$/);

    // --eval: the rows come from each run's re-evaluation with those eval settings, and it must exist
    const ev = ['eval.blurSigma=2', 'eval.imageScoreMap=raw'];
    const noEval = script(path.join(tmp, 'abl-noeval'), '--budget', 'smoke', '--eval', ev[0]!, '--eval', ev[1]!, cell('full'), cell('no-jitter'));
    expect(noEval.status).toBe(1);
    expect(noEval.stderr).toMatch(/eval-last-[0-9a-f]{8}\.json: no re-evaluation with eval\.blurSigma=2 eval\.imageScoreMap=raw \(run: npx uniad eval /);
    const means: Record<string, { i_auroc?: number; p_auroc?: number }> = {};
    for (const v of ['full', 'no-jitter']) means[v] = (await evaluateRun(cell(v).slice(v.length + 1), { checkpoint: 'last', overrides: ev, log: quiet })).mean;
    const withEval = script(path.join(tmp, 'abl-eval'), '--budget', 'smoke', '--eval', ev[0]!, '--eval', ev[1]!, cell('full'), cell('no-jitter'));
    expect(withEval.status, withEval.stderr).toBe(0);
    const evRows = parseCsv(read(tmp, 'abl-eval', 'ablation.csv'));
    for (const v of ['full', 'no-jitter']) {
      const row = evRows.find((x) => x[1] === v)!;
      expect([row[2], row[3]]).toEqual([(100 * means[v]!.i_auroc!).toFixed(1), (100 * means[v]!.p_auroc!).toFixed(1)]);
    }
    // the blur moved the pixel metric of at least one run away from results.json's
    expect(evRows.slice(1).map((x) => x[3])).not.toEqual(subRows.filter((x) => x[1] === 'full' || x[1] === 'no-jitter').map((x) => x[3]));
  });
});
