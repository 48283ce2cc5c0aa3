// Every metric per class and setting of finished grid runs, as one Markdown table (the per-method result tables of
// the method READMEs):  npx ts-node -T experiments/scripts/cell-metrics.ts <grid-or-cell-dir> ...
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '@unified-ad/core';
import { METRIC_LABELS } from '../src/artifacts';
import { cellDirs } from './cells';

const METRICS = ['i_auroc', 'i_ap', 'i_f1max', 'p_auroc', 'p_ap', 'p_f1max'];
interface Cell { method: string; setting: string; per_class: Record<string, Record<string, number>>; seconds: number }

function main(dirs: string[]): void {
  if (!dirs.length) throw new UserError('usage: cell-metrics.ts <grid-or-cell-dir> ...');
  const rows: string[] = [];
  for (const dir of dirs) {
    const cells = cellDirs(dir);
    if (!cells.length) throw new UserError(`${dir}: neither a grid run (cells/) nor a cell (config.yaml)`);
    const found: Cell[] = [];
    for (const c of cells) {
      const f = path.join(c, 'results.json');
      if (fs.existsSync(f)) found.push(JSON.parse(fs.readFileSync(f, 'utf8')) as Cell);
    }
    // unified first, then separate; classes in their order of appearance
    found.sort((a, b) => (a.setting === b.setting ? 0 : a.setting === 'unified' ? -1 : 1));
    for (const r of found)
      for (const [cls, m] of Object.entries(r.per_class)) {
        const v = METRICS.map((k) => (typeof m[k] === 'number' && Number.isFinite(m[k]) ? (100 * m[k]).toFixed(2) : '–'));
        rows.push(`| ${r.method} | ${cls.replace(/_/g, ' ')} | ${r.setting} | ${v.join(' | ')} | ${r.seconds.toFixed(0)} |`);
      }
  }
  const head = `| method | class | setting | ${METRICS.map((k) => METRIC_LABELS[k]).join(' | ')} | cell wall time (s) |`;
  process.stdout.write([head, `|---|---|---|${METRICS.map(() => '---:').join('|')}|---:|`, ...rows].join('\n') + '\n');
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(e instanceof UserError ? `error: ${e.message}\n` : `${(e as Error).stack}\n`);
  process.exit(1);
}
