// The semantic protocol (CIFAR-10 format, made here: ten classes of distinct colours and stripes) and the demo
// path (shrunk with overrides), at the smoke budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import '../src/models';
import { demo, semantic } from '../src/experiments';
import { runGrid } from '../src/grid/runner';
import { parseCsv, writeReport } from '../src/report';

let tmp: string;
const quiet = () => {};

/** A CIFAR-10 binary folder: record = label byte + 32×32 R, G, B planes. Class k: hue k/10, stripes of period k+2. */
function writeFakeCifar(dir: string, perClassPerBatch: number): void {
  fs.mkdirSync(dir, { recursive: true });
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const batch = (n: number) => {
    const buf = Buffer.alloc(n * 10 * 3073);
    let o = 0;
    for (let i = 0; i < n; i++)
      for (let k = 0; k < 10; k++) {
        buf[o++] = k;
        const rgb = [Math.round(127 + 120 * Math.cos((2 * Math.PI * k) / 10)), Math.round(127 + 120 * Math.cos((2 * Math.PI * (k + 3.3)) / 10)), Math.round(127 + 120 * Math.cos((2 * Math.PI * (k + 6.6)) / 10))];
        for (let c = 0; c < 3; c++)
          for (let y = 0; y < 32; y++)
            for (let x = 0; x < 32; x++) buf[o++] = Math.max(0, Math.min(255, rgb[c] + (Math.floor(x / (k + 2)) % 2 ? 40 : -40) + Math.round(20 * (rand() - 0.5))));
      }
    return buf;
  };
  for (let b = 1; b <= 5; b++) fs.writeFileSync(path.join(dir, `data_batch_${b}.bin`), batch(perClassPerBatch));
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), batch(perClassPerBatch));
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uniad-sem-'));
  process.env.UNIFIED_AD_CACHE = path.join(tmp, 'cache');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('semantic (CIFAR-10 protocol)', () => {
  it('four normal-class sets, unified, image score = map mean; anomalies are exactly the other classes', async () => {
    const root = path.join(tmp, 'cifar');
    writeFakeCifar(root, 2);
    const out = path.join(tmp, 'semantic');
    const r = await runGrid(semantic, { budget: 'smoke', seeds: 1, root, methods: ['padim'] }, { outDir: out, log: quiet });
    expect(r.ran).toEqual(['padim_unified_all_s0_normal-01234', 'padim_unified_all_s0_normal-56789', 'padim_unified_all_s0_normal-02468', 'padim_unified_all_s0_normal-13579']);
    const cell = path.join(out, 'cells', 'padim_unified_all_s0_normal-02468');
    const cfg = YAML.parse(fs.readFileSync(path.join(cell, 'config.yaml'), 'utf8'));
    expect(cfg.data).toMatchObject({ type: 'cifar10', normalClasses: [0, 2, 4, 6, 8], maxTrainPerClass: 8, maxTestPerClass: 4 });
    expect(cfg.eval.imageScore).toEqual({ kind: 'mean' });
    const scores = parseCsv(fs.readFileSync(path.join(cell, 'scores.csv'), 'utf8')).slice(1).filter((x) => x.length > 1);
    expect(scores).toHaveLength(10 * 2); // two test images per class (the fake set has 2 per class)
    for (const s of scores) expect(s[3]).toBe(['good', 'airplane', 'bird', 'deer', 'frog', 'ship'].includes(s[2]) ? '0' : '1');
    const rows = parseCsv(fs.readFileSync(path.join(out, 'tables', 'semantic.csv'), 'utf8'));
    expect(rows.map((x) => x[0])).toEqual(['normal classes', '{0,1,2,3,4}', '{5,6,7,8,9}', '{0,2,4,6,8}', '{1,3,5,7,9}', 'mean']);
    // colours and stripe periods separate the classes: the statistical model ranks the other classes higher
    for (const row of rows.slice(1)) expect(Number(row[1])).toBeGreaterThan(90);
  });

  it('without --root it says what it needs', async () => {
    await expect(runGrid(semantic, { budget: 'smoke', seeds: 1 }, { outDir: path.join(tmp, 'x'), log: quiet })).rejects.toThrow(/semantic: --root .* is required/);
  });
});

describe('demo', () => {
  it('features → training → evaluation → tables, anomaly-map grids, curves and one HTML report', async () => {
    const out = path.join(tmp, 'demo');
    const shrink = ['data.classes=[disk, screw]', 'data.trainPerClass=6', 'data.testGoodPerClass=2', 'data.testDefectPerClass=2', 'data.size=64', 'train.epochs=2', 'train.evalEvery=1', 'eval.resolution=64'];
    const r = await runGrid(demo, { budget: 'smoke', seeds: 1, overrides: shrink }, { outDir: out, log: quiet });
    expect(r.ran.sort()).toEqual(['patchcore_unified_all_s0', 'uniad_unified_all_s0']);
    expect(r.summary).toMatch(/Table 1: image-level AUROC .*\(demo\)/);
    expect(r.summary).not.toContain('(paper)'); // synthetic 'screw' is not MVTec AD's screw
    const pics = fs.readdirSync(path.join(out, 'cells', 'uniad_unified_all_s0', 'pictures')).sort();
    expect(pics).toEqual(['anomaly-maps-disk.png', 'anomaly-maps-screw.png', 'training-curves.png', 'training-curves.svg']);
    expect(fs.readdirSync(path.join(out, 'cells', 'patchcore_unified_all_s0', 'pictures')).sort()).toEqual(['anomaly-maps-disk.png', 'anomaly-maps-screw.png']);
    const html = fs.readFileSync(writeReport(out), 'utf8');
    expect(html).toContain('<h1>Experiment demo</h1>');
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(5);
    expect(html).toContain('Table 2: pixel-level AUROC');
  });
});
