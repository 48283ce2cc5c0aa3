// Identical-shortcut curves (paper Fig. 3a) from finished runs: one figure per method and one overlay.
//   npx ts-node experiments/scripts/shortcut-curves.ts <out-dir> <name>=<run-dir-or-metrics.jsonl> ...
// e.g. the unified cells of a real-benchmark:  mlp=runs/.../cells/mlp_unified_all_s0  uniad=runs/.../cells/uniad_unified_all_s0
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '@unified-ad/core';
import { epochPoints, readTrainingLog, writeShortcutCurves } from '@unified-ad/eval';
import { fig3Table, type CurveSeries } from '../src/experiments/fig3';
import { tableToMarkdown } from '../src/tables';

async function main(argv: string[]): Promise<void> {
  const [out, ...pairs] = argv;
  if (!out || pairs.length === 0) throw new UserError('usage: shortcut-curves.ts <out-dir> <name>=<run-dir|metrics.jsonl> ...');
  fs.mkdirSync(out, { recursive: true });
  const series = pairs.map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UserError(`'${p}': expected name=path`);
    let file = p.slice(eq + 1);
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'metrics.jsonl');
    return { name: p.slice(0, eq), log: readTrainingLog(file) };
  });
  for (const s of series) {
    const r = await writeShortcutCurves(path.join(out, `shortcut-${s.name}`), [s]);
    console.log(r.png);
  }
  const r = await writeShortcutCurves(path.join(out, 'shortcut-overlay'), series);
  console.log(r.png);
  // peak vs. final test AUROC per run: the identical shortcut's signature is a drop after the peak
  const curves: CurveSeries[] = series.map((s) => {
    const pts = epochPoints(s.log);
    return { method: s.name, epoch: pts.map((p) => p.epoch), loss: pts.map((p) => p.train_loss ?? NaN), i_auroc: pts.map((p) => p.i_auroc ?? NaN), p_auroc: pts.map((p) => p.p_auroc ?? NaN), ratio: pts.map((p) => p.shortcut_ratio ?? NaN) };
  });
  const md = tableToMarkdown(fig3Table(curves, 'as run'));
  fs.writeFileSync(path.join(out, 'shortcut-peaks.md'), md);
  console.log(md);
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(e instanceof UserError ? `error: ${e.message}\n` : `${e.stack}\n`);
  process.exit(1);
});
