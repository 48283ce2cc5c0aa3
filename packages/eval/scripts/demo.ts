// Makes every output of @unified-ad/eval from small synthetic data: metrics via evaluate(), a paper-format table
// (CSV + Markdown), identical-shortcut curves (SVG + PNG) and an anomaly-map grid (PNG).
//   npx ts-node packages/eval/scripts/demo.ts [outDir]      (default: a new folder under the OS temp dir)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Rng } from '@unified-ad/core';
import {
  buildResultTable,
  evaluate,
  parseTrainingLog,
  syntheticPixels,
  tableToCsv,
  tableToMarkdown,
  writeAnomalyGrid,
  writeShortcutCurves,
  type ClassInput,
  type RunResult,
} from '../src';
import { syntheticGridSamples, syntheticTrainingLog } from '../test/synthetic';

async function main() {
  const out = process.argv[2] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'eval-demo-'));
  fs.mkdirSync(out, { recursive: true });
  // metrics of two "methods" on three synthetic classes, unified with 3 seeds and separate with 1
  const runs: RunResult[] = [];
  const rng = new Rng(1);
  for (const [method, noise] of [['UniAD', 0], ['PaDiM', 1]] as const) {
    for (const [setting, seeds] of [['unified', [1, 2, 3]], ['separate', [1]]] as const) {
      for (const seed of seeds) {
        const input: Record<string, ClassInput> = {};
        for (const [k, cls] of ['bottle', 'carpet', 'magnetic_tile'].entries()) {
          const d = syntheticPixels(12, 64, 100 * seed + 10 * k + noise + (setting === 'separate' ? 7 : 0));
          if (noise) for (const m of d.maps) for (let i = 0; i < m.data.length; i += 3) m.data[i] += 0.8 * rng.next();
          input[cls] = { maps: d.maps, masks: d.masks, labels: d.labels };
        }
        const r = evaluate(input, { metrics: ['mad'], imageScore: { kind: 'avgpool-max', window: 8 } });
        runs.push({ method, setting, seed, per_class: r.per_class });
      }
    }
  }
  for (const metric of ['i_auroc', 'p_auroc', 'aupro'] as const) {
    const t = buildResultTable(runs, { metric, ...(metric !== 'aupro' ? { paper: { compare: { UniAD: 'UniAD' } } } : {}) });
    fs.writeFileSync(path.join(out, `table_${metric}.csv`), tableToCsv(t));
    fs.writeFileSync(path.join(out, `table_${metric}.md`), tableToMarkdown(t, `${metric} (%), unified / separate`));
  }
  const logs = [25, 45, 70].map((peak, i) => parseTrainingLog(syntheticTrainingLog(100, 5, peak, i + 1)));
  await writeShortcutCurves(path.join(out, 'shortcut_mlp'), [{ name: 'MLP', log: logs[0] }], { title: 'MLP: identical shortcut (synthetic log)' });
  await writeShortcutCurves(path.join(out, 'shortcut_overlay'), [{ name: 'MLP', log: logs[0] }, { name: 'CNN', log: logs[1] }, { name: 'Transformer', log: logs[2] }], { title: 'Identical shortcut (synthetic logs)' });
  await writeAnomalyGrid(path.join(out, 'grid_synthetic.png'), syntheticGridSamples(2, 3, 96), { title: 'synthetic class' });
  console.log(`demo outputs in ${out}:\n  ${fs.readdirSync(out).join('\n  ')}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
