// Label-free monitor vs test curves (issue #14 item 3): per run, Spearman ρ over the evaluated epochs between the
// monitor's val.synthetic_* and the test metrics, the test AUROC at the epoch train.select=synthetic picks vs the last
// epoch vs the test-set best, and ρ across runs (final synthetic vs final test). Writes monitor-correlation.{md,csv}.
//   npx ts-node experiments/scripts/monitor-correlation.ts <out-dir> <label>=<run-dir|metrics.jsonl> ...
// The runs need train.monitor=<k> (or train.select=synthetic) and train.evalEvery > 0.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '@unified-ad/core';
import { monitorCsv, monitorTable, readMonitorPoints, summariseRun } from '../src/monitor-correlation';
import { tableToMarkdown } from '../src/tables';

function main(argv: string[]): void {
  const [out, ...pairs] = argv;
  if (!out || pairs.length === 0) throw new UserError('usage: monitor-correlation.ts <out-dir> <label>=<run-dir|metrics.jsonl> ...');
  const runs = pairs.map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UserError(`'${p}': expected label=path`);
    return summariseRun(p.slice(0, eq), readMonitorPoints(p.slice(eq + 1)));
  });
  fs.mkdirSync(out, { recursive: true });
  const md = tableToMarkdown(monitorTable(runs));
  fs.writeFileSync(path.join(out, 'monitor-correlation.md'), md);
  fs.writeFileSync(path.join(out, 'monitor-correlation.csv'), monitorCsv(runs));
  console.log(md);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(e instanceof UserError ? `error: ${e.message}\n` : `${(e as Error).stack}\n`);
  process.exit(1);
}
