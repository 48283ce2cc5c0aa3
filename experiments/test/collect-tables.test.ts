// experiments/scripts/collect-tables.ts: paper-format tables from run folders, and --keep (earlier columns kept).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const script = path.join(__dirname, '..', 'scripts', 'collect-tables.ts');
const tsNode = require.resolve('ts-node/dist/bin.js');
let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uniad-collect-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** a finished run folder with these per-class values */
function run(name: string, method: string, setting: 'unified' | 'separate', perClass: Record<string, { i_auroc: number; p_auroc: number }>, seconds: number): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'config.yaml'), `name: ${name}\n`);
  fs.writeFileSync(path.join(d, 'results.json'), JSON.stringify({ method, setting, seed: 0, per_class: perClass, parameters_total: 1000, seconds }));
  return d;
}
const collect = (...args: string[]) => spawnSync(process.execPath, [tsNode, '-T', script, ...args], { encoding: 'utf8', cwd: path.join(__dirname, '..') });

describe('collect-tables', () => {
  it('makes the tables from run folders, and with --keep keeps an earlier folder\'s other columns', () => {
    const out = path.join(tmp, 'results');
    const a = run('a', 'padim', 'unified', { bottle: { i_auroc: 0.99, p_auroc: 0.97 }, magnetic_tile: { i_auroc: 0.9, p_auroc: 0.8 } }, 12);
    const b = run('b', 'uniad', 'unified', { bottle: { i_auroc: 0.95, p_auroc: 0.96 }, magnetic_tile: { i_auroc: 0.8, p_auroc: 0.7 } }, 34);
    const first = collect(out, a, `uniad=${b}`);
    expect(first.status, first.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, 'i_auroc.csv'), 'utf8').split('\n')[0]).toBe('group,category,padim,uniad');
    // a new profile of uniad, collected without padim's run folder
    const c = run('c', 'uniad', 'unified', { bottle: { i_auroc: 1, p_auroc: 0.98 }, magnetic_tile: { i_auroc: 0.86, p_auroc: 0.76 } }, 56);
    const second = collect(out, '--keep', out, '--rename', 'uniad=uniad (old)', c);
    expect(second.status, second.stderr).toBe(0);
    const rows = fs.readFileSync(path.join(out, 'i_auroc.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('group,category,padim,uniad (old),uniad');
    expect(rows.find((r) => r.includes(',magnetic_tile,'))).toBe('textures,magnetic_tile,90.00 / –,80.00 / –,86.00 / –');
    expect(rows[rows.length - 1]).toBe('all,mean,94.50 / –,87.50 / –,93.00 / –');
    const md = fs.readFileSync(path.join(out, 'tables.md'), 'utf8');
    expect(md).toContain('| padim | unified | 1,000 | 12 |');
    expect(md).toContain('| uniad (old) | unified | 1,000 | 34 |');
    expect(md).toContain('| uniad | unified | 1,000 | 56 |');
    expect(md).toContain('| Texture | Magnetic Tile | 90.00 / – | 80.00 / – | 86.00 / – |');
    const bad = collect(path.join(tmp, 'x'), '--keep', path.join(tmp, 'nope'), c);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n').pop()).toBe(`error: --keep: ${path.join(tmp, 'nope', 'i_auroc.csv')}: no such file`);
    const badName = collect(path.join(tmp, 'y'), '--keep', out, '--rename', 'nope=x', c);
    expect(badName.stderr.trim().split('\n').pop()).toBe(`error: --rename: ${path.join(out, 'i_auroc.csv')} has no column 'nope'`);
    // renaming onto a column the table already has would make two columns of one name
    const clash = collect(path.join(tmp, 'z'), '--keep', out, '--rename', 'uniad=padim', c);
    expect(clash.stderr.trim().split('\n').pop()).toBe(`error: --rename: ${path.join(out, 'i_auroc.csv')} already has a column 'padim'`);
  }, 60_000);
});
