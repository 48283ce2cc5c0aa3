// Smoke budget of table1/table2 (synthetic data, tiny models, 2 epochs): every registered method, and two shards
// merged = one unsharded run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listModels } from '@unified-ad/core';
import '../src/models';
import { table1 } from '../src/experiments';
import { mergeGrids, runGrid } from '../src/grid/runner';
import { getExperiment } from '../src/experiments';
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
  it('table1/table2: every registered method, unified and separate, per class and mean; parameters table', async () => {
    const out = path.join(tmp, 'table1');
    const r = await runGrid(table1, { budget: 'smoke', seeds: 1, classes: ['fabric'] }, { outDir: out, log: quiet });
    const methods = listModels().map((m) => m.name);
    expect(r.ran).toHaveLength(methods.length * 2); // unified + one separate class each
    for (const t of ['table1', 'table2']) {
      const rows = parseCsv(read(out, 'tables', `${t}.csv`));
      expect(rows[0]).toEqual(['group', 'category', ...[...methods].sort((a, b) => (a === 'uniad' ? 1 : b === 'uniad' ? -1 : a.localeCompare(b)))]);
      expect(rows.map((x) => x[1])).toEqual(['category', 'fabric', 'mean']);
      // table1: every method has numbers; table2: an image-level-only method (no maps, e.g. CutPaste) shows "–"
      for (const [k, cell] of rows[1].slice(2).entries()) {
        if (t === 'table2' && cell === '– / –') {
          const m = rows[0][k + 2]!;
          const res = JSON.parse(read(out, 'cells', `${m}_unified_all_s0`, 'results.json'));
          expect(res.mean.p_auroc ?? null).toBeNull();
        } else expect(cell).toMatch(/^\d+\.\d \/ \d+\.\d$/);
      }
      expect(read(out, 'tables', `${t}.md`)).toMatch(/^\*\*Table [12]: .* budget smoke\*\*/);
    }
    // the table cell is the run's metric: check one against its results.json
    const res = JSON.parse(read(out, 'cells', 'patchcore_unified_all_s0', 'results.json'));
    const uni = parseCsv(read(out, 'tables', 'table2.csv'))[1][2 + [...methods].sort().indexOf('patchcore')].split(' / ')[0];
    expect(uni).toBe((100 * res.per_class.fabric.p_auroc).toFixed(1));
    expect(read(out, 'tables', 'parameters.md')).toContain('(1 models)');
    expect(r.summary).toContain('Table 1: image-level AUROC');
    // a second run reuses every finished cell
    const again = await runGrid(table1, { budget: 'smoke', seeds: 1, classes: ['fabric'] }, { outDir: out, log: quiet });
    expect(again.ran).toEqual([]);
    expect(again.summary).toBe(r.summary);
  });

  it('two shards merged give the same tables as one unsharded run', async () => {
    const options = { budget: 'smoke' as const, seeds: 2, methods: ['mlp', 'padim'] };
    const full = path.join(tmp, 'full');
    const u = await runGrid(table1, options, { outDir: full, log: quiet });
    expect(u.ran).toHaveLength(2 * 3 * 2); // methods × (unified + 2 classes) × seeds
    const s0 = await runGrid(table1, options, { outDir: path.join(tmp, 's0'), shard: { index: 0, count: 2 }, log: quiet });
    expect(s0.summary).toBeNull();
    await expect(mergeGrids([path.join(tmp, 's0')], path.join(tmp, 'merged'), getExperiment, quiet)).rejects.toThrow(/6 of 12 runs are not finished/);
    const s1 = await runGrid(table1, options, { outDir: path.join(tmp, 's1'), shard: { index: 1, count: 2 }, log: quiet });
    expect([...s0.ran, ...s1.ran].sort()).toEqual([...u.ran].sort());
    const summary = await mergeGrids([path.join(tmp, 's0'), path.join(tmp, 's1')], path.join(tmp, 'merged'), getExperiment, quiet);
    expect(summary).toBe(u.summary);
    for (const f of ['table1.csv', 'table1.md', 'table2.csv', 'table2.md', 'parameters.csv']) expect(read(tmp, 'merged', 'tables', f), f).toBe(read(full, 'tables', f));
    expect(read(tmp, 'merged', 'results.csv')).toBe(read(full, 'results.csv'));
    expect(read(full, 'tables', 'table1.md')).toMatch(/± \d/); // two seeds → mean ± std
    // checkpoints stay in the shard folders
    expect(fs.existsSync(path.join(tmp, 'merged', 'cells', 'mlp_unified_all_s0', 'checkpoints'))).toBe(false);
    // shards planned with other options do not merge
    const other = path.join(tmp, 'other');
    fs.cpSync(path.join(tmp, 's1'), other, { recursive: true });
    const plan = JSON.parse(read(other, 'plan.json'));
    fs.writeFileSync(path.join(other, 'plan.json'), JSON.stringify({ ...plan, options: { ...plan.options, seeds: 3 } }));
    await expect(mergeGrids([path.join(tmp, 's0'), other], path.join(tmp, 'm2'), getExperiment, quiet)).rejects.toThrow(/other options or configs/);
  });

  it('--jobs 2 runs the cells in two processes and gives the same tables as one process; --cells picks cells', async () => {
    const options = { budget: 'smoke' as const, seeds: 1, methods: ['mlp', 'padim'], classes: ['fabric'] };
    const seq = await runGrid(table1, options, { outDir: path.join(tmp, 'seq'), log: quiet });
    const lines: string[] = [];
    const par = await runGrid(table1, options, { outDir: path.join(tmp, 'par'), jobs: 2, log: (l) => lines.push(l) });
    expect([...par.ran].sort()).toEqual([...seq.ran].sort());
    expect(par.reused).toEqual([]);
    expect(lines).toContain('running 4 runs in 2 parallel jobs (TF_NUM_INTRAOP_THREADS=' + (process.env.TF_NUM_INTRAOP_THREADS || String(Math.max(1, Math.floor(os.cpus().length / 2)))) + ' each)');
    expect(lines.filter((l) => l.startsWith('[job 1] ')).length).toBeGreaterThan(2);
    expect(lines.filter((l) => l.startsWith('[job 2] ')).length).toBeGreaterThan(2);
    expect(lines.some((l) => /oneDNN|absl/.test(l))).toBe(false);
    expect(par.summary).toBe(seq.summary);
    for (const f of ['table1.md', 'table2.md']) expect(read(tmp, 'par', 'tables', f), f).toBe(read(tmp, 'seq', 'tables', f));
    // a rerun reuses everything without starting jobs
    const again = await runGrid(table1, options, { outDir: path.join(tmp, 'par'), jobs: 2, log: (l) => lines.push(l) });
    expect(again.ran).toEqual([]);
    expect(again.reused).toHaveLength(4);
    // --cells: only those cells, no tables; an unknown key is a one-line error naming the cells
    const one = await runGrid(table1, options, { outDir: path.join(tmp, 'one'), cells: ['padim_unified_all_s0'], log: quiet });
    expect(one).toEqual({ ran: ['padim_unified_all_s0'], reused: [], summary: null });
    await expect(runGrid(table1, options, { outDir: path.join(tmp, 'one'), cells: ['nope'], log: quiet })).rejects.toThrow(/no cell 'nope' \(cells: .*padim_unified_all_s0/);
  });
});
