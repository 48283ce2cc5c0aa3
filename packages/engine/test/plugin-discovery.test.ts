// plugin discovery: a new method package dropped into packages/ of a copy of the workspace is found by the CLI
// (`uniad info` lists it, `uniad train` runs it, `uniad eval` restores its saved state) and by vitest, with no
// other file changed. The package is the example of docs/adding-a-method.md (test/fixtures/models-example).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '..', '..', '..');
const SKIP = new Set(['node_modules', '.git', 'runs', 'dist', '.nx']);

describe('plugin discovery', () => {
  let ws: string;
  const run = (args: string[], cwd = ws) =>
    execFileSync(process.execPath, [path.join(ws, 'experiments', 'bin', 'uniad.js'), ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

  beforeAll(() => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'uniad-plugin-'));
    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.base.json', 'vitest.config.mts', 'nx.json']) fs.copyFileSync(path.join(repo, f), path.join(ws, f));
    for (const d of ['packages', 'experiments', 'scripts'])
      fs.cpSync(path.join(repo, d), path.join(ws, d), { recursive: true, filter: (src) => !SKIP.has(path.basename(src)) && !src.includes(`${path.sep}results${path.sep}`) });
    fs.symlinkSync(path.join(repo, 'node_modules'), path.join(ws, 'node_modules'), 'dir');
    // the only change: a new package folder
    fs.cpSync(path.join(__dirname, 'fixtures', 'models-example'), path.join(ws, 'packages', 'models-example'), { recursive: true });
    fs.mkdirSync(path.join(ws, 'packages', 'models-example', 'test'));
    fs.writeFileSync(
      path.join(ws, 'packages', 'models-example', 'test', 'registered.test.ts'),
      "import { it, expect } from 'vitest';\nimport { getModelEntry } from '@unified-ad/core';\nit('is registered', () => expect(getModelEntry('pixel-ae').family).toBe('reconstruction'));\n",
    );
  });
  afterAll(() => fs.rmSync(ws, { recursive: true, force: true }));

  it('uniad info lists the new method', () => {
    const out = run(['info']);
    expect(out).toMatch(/pixel-ae\s+convolutional autoencoder on pixels/);
    expect(out).toMatch(/pixel-ae \(reconstruction, images 64²\)/);
  });

  it('uniad train runs it on smoke data and uniad eval restores its saved state', () => {
    const cfg = path.join(ws, 'pixel-ae.yaml');
    fs.writeFileSync(cfg, 'extends: smoke.yaml\nname: pixel-ae-smoke\nmodel: { name: pixel-ae, config: { size: 32, width: 8 } }\ntrain: { epochs: 2, evalEvery: 0 }\n');
    const out = path.join(ws, 'run');
    run(['train', '--config', cfg, '--out', out]);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    expect(res.method).toBe('pixel-ae');
    expect(res.feature_spec).toBeNull();
    expect(Number.isFinite(res.mean.i_auroc) && Number.isFinite(res.mean.p_auroc)).toBe(true);
    // registry defaults applied beneath the config: lr 1e-3 (smoke.yaml sets 0.001 too), blur 2 (smoke sets none)
    expect(fs.readFileSync(path.join(out, 'config.yaml'), 'utf8')).toMatch(/blurSigma: 2/);
    expect(fs.existsSync(path.join(out, 'state.ckpt'))).toBe(true);
    run(['eval', out]);
    const ev = JSON.parse(fs.readFileSync(path.join(out, 'eval-last.json'), 'utf8'));
    expect(ev.sources[0].source).toMatch(/checkpoints\/last\.ckpt$/);
    for (const k of ['i_auroc', 'p_auroc']) expect(ev.mean[k]).toBeCloseTo(res.mean[k], 10);
  });

  it('vitest finds the new package as a project', () => {
    const out = execFileSync(process.execPath, [path.join(repo, 'node_modules', 'vitest', 'vitest.mjs'), 'list', '--project', '@unified-ad/models-example'], { cwd: ws, encoding: 'utf8', timeout: 300_000 });
    expect(out).toMatch(/registered\.test\.ts > is registered/);
  });
});
