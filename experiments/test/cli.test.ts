// The command line without training: help, one-line user errors, config loading (extends, ${shared}, model
// config keys), sharding arithmetic, and the report page of a hand-made run folder.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildProgram, main } from '../src/cli';
import { expandVars, loadRunConfig, readConfigTree } from '../src/config-files';
import { inShard, parseShard } from '../src/grid/shard';
import { configHash } from '../src/grid/plan';
import { stat, fmtStat } from '../src/grid/stats';
import { uniqueStems } from '../src/paths';
import { parseCsv, writeReport } from '../src/report';
import { EXPERIMENTS } from '../src/experiments';

let stderr: string[];
let stdout: string[];
let tmp: string;

beforeEach(() => {
  stderr = [];
  stdout = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (stderr.push(String(s)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (stdout.push(String(s)), true));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uniad-cli-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const run = (...args: string[]) => main(['node', 'uniad', ...args]);
const errLines = () => stderr.join('').trimEnd().split('\n');

describe('uniad CLI', () => {
  it('--help lists every command and exits 0; experiment run --help lists the experiments and budgets', async () => {
    expect(await run('--help')).toBe(0);
    const help = stdout.join('');
    for (const c of ['info', 'train', 'eval', 'predict', 'features', 'experiment', 'report', 'demo']) expect(help).toMatch(new RegExp(`\\n  ${c}\\b`));
    stdout.length = 0;
    expect(await run('experiment', 'run', '--help')).toBe(0);
    const h2 = stdout.join('');
    for (const e of EXPERIMENTS) expect(h2).toContain(e.name);
    for (const b of ['smoke', 'cpu', 'paper', '--shard', '--seeds', '--out']) expect(h2).toContain(b);
  });

  it('a user error prints exactly one line "error: …" and exits 1, without a stack trace', async () => {
    expect(await run('train', '--config', path.join(tmp, 'missing.yaml'))).toBe(1);
    expect(errLines()).toHaveLength(1);
    expect(errLines()[0]).toMatch(/^error: config file not found: .*missing\.yaml/);
  });

  it('a bad model config value names the file and the key model.config.<key>', async () => {
    const f = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(f, 'extends: uniad-smoke.yaml\nmodel:\n  config:\n    hiddenDim: -3\n');
    expect(await run('train', '--config', f)).toBe(1);
    expect(errLines()).toHaveLength(1);
    expect(errLines()[0]).toMatch(/^error: .*bad\.yaml: key 'model\.config\.hiddenDim'/);
  });

  it('an unknown key, an unknown method and a bad override are one-line errors naming them', async () => {
    const f = path.join(tmp, 'unk.yaml');
    fs.writeFileSync(f, 'extends: uniad-smoke.yaml\ntrain:\n  epoch: 3\n');
    expect(await run('train', '--config', f)).toBe(1);
    expect(errLines()[0]).toMatch(/unknown key 'train\.epoch'/);
    stderr.length = 0;
    expect(await run('train', '--config', 'uniad-smoke', 'model.name=nope')).toBe(1);
    expect(errLines()).toHaveLength(1);
    expect(errLines()[0]).toMatch(/key 'model\.name': unknown method 'nope' \(registered: .*uniad/);
    stderr.length = 0;
    expect(await run('train', '--config', 'uniad-smoke', 'train.epochs')).toBe(1);
    expect(errLines()[0]).toBe("error: override 'train.epochs': expected key=value");
  });

  it('an internal error prints its stack trace and exits 1', async () => {
    const p = buildProgram();
    p.command('boom').action(() => {
      throw new TypeError('internal failure');
    });
    expect(await main(['node', 'uniad', 'boom'], p)).toBe(1);
    const text = stderr.join('');
    expect(text).toMatch(/^TypeError: internal failure\n\s+at /);
  });

  it('commander usage errors exit 1 (unknown experiment, bad budget, bad --seeds)', async () => {
    expect(await run('experiment', 'run', 'table9')).toBe(1);
    expect(stderr.join('')).toMatch(/value 'table9' is invalid .*Allowed choices are table1, table2/);
    expect(await run('experiment', 'run', 'table1', '--budget', 'huge')).toBe(1);
    expect(await run('experiment', 'run', 'table1', '--seeds', '0')).toBe(1);
    expect(stderr.join('')).toMatch(/positive integer/);
  });

  it('--shard is validated and shards partition the grid', async () => {
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    for (const bad of ['4/4', '1', '-1/2', 'a/b', '0/0']) expect(() => parseShard(bad)).toThrow(/--shard/);
    const items = Array.from({ length: 11 }, (_, i) => i);
    const parts = [0, 1, 2].map((i) => inShard(items, { index: i, count: 3 }));
    expect(parts.flat().sort((a, b) => a - b)).toEqual(items);
    expect(parts.map((p) => p.length)).toEqual([4, 4, 3]);
    expect(await run('experiment', 'run', 'fig3', '--shard', '2/2', '--out', tmp)).toBe(1);
    expect(errLines()).toEqual(["error: --shard '2/2': expected i/n with 0 <= i < n (i is 0-based)"]);
  });

  it('--cells does not combine with --jobs or --shard; --jobs must be a positive integer', async () => {
    expect(await run('experiment', 'run', 'fig3', '--cells', 'a,b', '--jobs', '2', '--out', tmp)).toBe(1);
    expect(errLines()).toEqual(['error: experiment run: --cells cannot be combined with --shard or --jobs']);
    expect(await run('experiment', 'run', 'fig3', '--jobs', '0', '--out', tmp)).toBe(1);
    expect(errLines().join('\n')).toMatch(/--jobs/);
  });
});

describe('configs', () => {
  it('every shipped config validates (those needing ../shared when it is present)', () => {
    const dir = path.resolve(__dirname, '..', 'configs');
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
      const raw = readConfigTree(path.join(dir, f));
      if (!raw.model) continue; // budget bases
      const needsShared = JSON.stringify(raw).includes('${shared}');
      if (needsShared && !fs.existsSync(path.resolve(__dirname, '..', '..', '..', 'shared'))) continue;
      const cfg = loadRunConfig(path.join(dir, f));
      expect(cfg.name, f).toBe(f.replace(/\.yaml$/, ''));
    }
  });

  it('extends merges deeply (child wins, arrays replaced) and loops are errors', () => {
    fs.writeFileSync(path.join(tmp, 'a.yaml'), 'extends: b.yaml\ntrain: { epochs: 7 }\n');
    fs.writeFileSync(path.join(tmp, 'b.yaml'), 'train: { epochs: 1, lr: 0.5 }\neval: { metrics: [i_auroc, p_auroc] }\n');
    expect(readConfigTree(path.join(tmp, 'a.yaml'))).toEqual({ train: { epochs: 7, lr: 0.5 }, eval: { metrics: ['i_auroc', 'p_auroc'] } });
    fs.writeFileSync(path.join(tmp, 'c.yaml'), 'extends: d.yaml\n');
    fs.writeFileSync(path.join(tmp, 'd.yaml'), 'extends: c.yaml\n');
    expect(() => readConfigTree(path.join(tmp, 'c.yaml'))).toThrow(/loops back/);
    // a different dataset type or image-score kind replaces the base's mapping instead of merging into it
    fs.writeFileSync(path.join(tmp, 'e.yaml'), 'extends: f.yaml\ndata: { type: mvtec, root: r }\neval: { imageScore: { kind: max } }\n');
    fs.writeFileSync(path.join(tmp, 'f.yaml'), 'data: { type: synthetic, size: 64 }\neval: { imageScore: { kind: avgpool-max, window: 16 }, blurSigma: 4 }\n');
    expect(readConfigTree(path.join(tmp, 'e.yaml'))).toEqual({ data: { type: 'mvtec', root: 'r' }, eval: { imageScore: { kind: 'max' }, blurSigma: 4 } });
  });

  it('${shared} and ${repo} expand; ${shared} without ../shared names the key', () => {
    const old = process.env.UNIFIED_AD_SHARED;
    try {
      process.env.UNIFIED_AD_SHARED = tmp;
      expect(expandVars({ data: { root: '${shared}/data/x' } }, 'f.yaml')).toEqual({ data: { root: `${tmp}/data/x` } });
      process.env.UNIFIED_AD_SHARED = path.join(tmp, 'absent');
      expect(() => expandVars({ data: { parts: [{ root: '${shared}/d' }] } }, 'f.yaml')).toThrow(/f\.yaml: key 'data\.parts\.0\.root' uses \$\{shared\}/);
      expect(() => expandVars({ a: '${nope}' }, 'f.yaml')).toThrow(/unknown variable/);
    } finally {
      if (old === undefined) delete process.env.UNIFIED_AD_SHARED;
      else process.env.UNIFIED_AD_SHARED = old;
    }
  });

  it('relative data paths become absolute against the current directory', () => {
    const cfg = loadRunConfig('uniad-smoke', ['data={type: mvtec, root: some/where}']);
    expect(cfg.data).toMatchObject({ type: 'mvtec', root: path.resolve('some/where') });
  });
});

describe('small helpers', () => {
  it('config hash ignores key order and sees values', () => {
    expect(configHash({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(configHash({ b: { d: 'x', c: [1, 2] }, a: 1 }));
    expect(configHash({ a: 1 })).not.toBe(configHash({ a: 2 }));
  });

  it('mean ± sample std (numbers checked by hand: 0.9, 0.92, 0.94 → 92.0 ± 2.0)', () => {
    const s = stat([0.9, 0.92, 0.94, NaN]);
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(0.92, 12);
    expect(s.std).toBeCloseTo(0.02, 12);
    expect(fmtStat(s)).toBe('92.0 ± 2.00');
    expect(fmtStat(stat([0.5]))).toBe('50.0');
  });

  it('unique heat-map names for images with the same base name', () => {
    expect(uniqueStems(['/a/good/000.png', '/a/cut/000.png', '/b/x.jpg'])).toEqual(['good_000', 'cut_000', 'x']);
  });

  it('CSV parser reads quotes, commas and doubled quotes', () => {
    expect(parseCsv('a,"b,c","d ""e"""\n1,2,3\n')).toEqual([['a', 'b,c', 'd "e"'], ['1', '2', '3']]);
  });

  it('report: one HTML page with the tables, embedded pictures, config and environment', () => {
    const d = path.join(tmp, 'run');
    fs.mkdirSync(path.join(d, 'tables'), { recursive: true });
    fs.mkdirSync(path.join(d, 'pictures'), { recursive: true });
    fs.writeFileSync(path.join(d, 'config.yaml'), 'name: x<y\n');
    fs.writeFileSync(path.join(d, 'env.json'), '{"seed": 3}');
    fs.writeFileSync(path.join(d, 'tables', 'metrics.csv'), 'class,I-AUROC\nbottle,99.50\nmean,99.50\n');
    fs.writeFileSync(path.join(d, 'tables', 'metrics.md'), '**Metrics per class**\n\n| class | I-AUROC |\n|---|---:|\n| bottle | 99.50 |\n\nnote line\n');
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    fs.writeFileSync(path.join(d, 'pictures', 'curves.png'), png);
    const html = fs.readFileSync(writeReport(d), 'utf8');
    expect(html).toContain('<h3>Metrics per class</h3>');
    expect(html).toContain('<td class="n">99.50</td>');
    expect(html).toContain('<p class="note">note line</p>');
    expect(html).toContain(`data:image/png;base64,${png.toString('base64')}`);
    expect(html).toContain('name: x&lt;y');
    expect(html).toContain('&quot;seed&quot;: 3');
    expect(() => writeReport(tmp)).toThrow(/neither a run folder/);
  });
});
