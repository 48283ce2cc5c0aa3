// Paper-format tables (unified / separate per cell) from finished run folders of any grids, e.g. grids run
// separately per method:  npx ts-node experiments/scripts/collect-tables.ts <out-dir> [label=]<grid-or-cell-dir> ...
// A cell counts when its results.json exists; unfinished cells are listed and left out. `label=dir` shows the
// runs of dir under that column name instead of their method (e.g. two profiles of one method side by side).
// --paper (anywhere in the arguments): the runs are on MVTec AD classes (e.g. bottle), so a column named like a
// poster method (us, psvdd, draem, …; case-insensitive) gets the poster's numbers and Δ beside it, in the table
// (image / pixel) where the poster reports that method.
// --keep <results-dir>: the columns of an earlier output folder (its i_auroc.csv, p_auroc.csv and tables.md) that the
// given runs do not make are kept, before the new ones, with their wall-time rows; so one method's column can be
// re-made (or a new profile added) without the other methods' run folders; --rename <old>=<new> (with --keep) gives a
// kept column a new name (e.g. the previous profile's column, beside the new one).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, writeFileAtomic } from '@unified-ad/core';
import { parse as parseCsv } from 'csv-parse/sync';
import { buildResultTable, csvRowLabels, posterTableFor, tableToCsv, tableToMarkdown, type MetricName, type ResultTable } from '@unified-ad/eval';
import { cellDirs } from './cells';

interface CellRun { method: string; setting: 'unified' | 'separate'; seed: number; per_class: Record<string, Record<string, number>>; parameters_total: number; seconds: number }


/** Our column → the poster's method of the same name (case-insensitive), for the poster table of `metric`. */
function posterCompare(columns: string[], metric: MetricName): Record<string, string> {
  const poster = posterTableFor(metric)?.methods ?? [];
  const out: Record<string, string> = {};
  for (const c of columns) {
    const pm = poster.find((p) => p.toLowerCase() === c.toLowerCase());
    if (pm) out[c] = pm;
  }
  return out;
}

/** Puts the columns of `csvFile` that `t` lacks before t's own (rows matched by group and category; '–' where absent). */
function keepColumns(t: ResultTable, csvFile: string, rename: Map<string, string>): ResultTable {
  if (!fs.existsSync(csvFile)) throw new UserError(`--keep: ${csvFile}: no such file`);
  const rows = parseCsv(fs.readFileSync(csvFile, 'utf8')) as string[][];
  const header = rows[0] ?? [];
  if (header[0] !== 'group' || header[1] !== 'category') throw new UserError(`--keep: ${csvFile}: not a results table (its header is not group,category,...)`);
  for (const [old, name] of rename) {
    if (!header.includes(old)) throw new UserError(`--rename: ${csvFile} has no column '${old}'`);
    if (header.includes(name)) throw new UserError(`--rename: ${csvFile} already has a column '${name}'`);
  }
  const kept = header.slice(2).map((c, i) => [rename.get(c) ?? c, i + 2] as const).filter(([c]) => !t.columns.includes(c));
  const byKey = new Map(rows.slice(1).map((r) => [`${r[0]}|${r[1]}`, r]));
  return {
    ...t,
    columns: [...kept.map(([c]) => c), ...t.columns],
    rows: t.rows.map((r) => ({ ...r, cells: [...kept.map(([, i]) => byKey.get(csvRowLabels(r).join('|'))?.[i] ?? '–'), ...r.cells] })),
  };
}

/** The wall-time table rows of an earlier tables.md for the methods in `columns`. */
function keptTimeRows(mdFile: string, columns: string[], rename: Map<string, string>): string[] {
  if (!fs.existsSync(mdFile)) return [];
  const out: string[] = [];
  for (const l of fs.readFileSync(mdFile, 'utf8').split('\n')) {
    const m = /^\| (.+?) \| (unified|separate) \| ([\d,]+) \| (\d+) \|$/.exec(l);
    const name = m ? (rename.get(m[1]!) ?? m[1]!) : null;
    if (m && columns.includes(name!)) out.push(`| ${name} | ${m[2]} | ${m[3]} | ${m[4]} |`);
  }
  return out;
}

function main(args: string[]): void {
  const paper = args.includes('--paper');
  let argv = args.filter((a) => a !== '--paper');
  /** the value of `--flag <value>` (removed from argv), each occurrence */
  const take = (flag: string): string[] => {
    const vals: string[] = [];
    for (let k = argv.indexOf(flag); k >= 0; k = argv.indexOf(flag)) {
      const v = argv[k + 1];
      if (!v || v.startsWith('--')) throw new UserError(`${flag} needs a value`);
      vals.push(v);
      argv = [...argv.slice(0, k), ...argv.slice(k + 2)];
    }
    return vals;
  };
  const keep = take('--keep').pop() ?? null;
  const rename = new Map(take('--rename').map((r) => {
    const eq = r.indexOf('=');
    if (eq <= 0) throw new UserError(`--rename '${r}': expected <old>=<new>`);
    return [r.slice(0, eq), r.slice(eq + 1)] as [string, string];
  }));
  if (rename.size && !keep) throw new UserError('--rename renames columns kept with --keep; give --keep <folder>');
  const [out, ...dirs] = argv;
  if (!out || !dirs.length) throw new UserError('usage: collect-tables.ts [--paper] <out-dir> [label=]<grid-or-cell-dir> ...');
  const runs: CellRun[] = [];
  const unfinished: string[] = [];
  for (const arg of dirs) {
    const eq = arg.indexOf('=');
    const label = eq > 0 ? arg.slice(0, eq) : null;
    const dir = eq > 0 ? arg.slice(eq + 1) : arg;
    if (!fs.existsSync(dir)) throw new UserError(`${dir}: no such folder`);
    for (const d of cellDirs(dir)) {
      const f = path.join(d, 'results.json');
      if (!fs.existsSync(f)) { unfinished.push(path.basename(d)); continue; }
      const r = JSON.parse(fs.readFileSync(f, 'utf8')) as CellRun;
      runs.push(label ? { ...r, method: label } : r);
    }
  }
  if (!runs.length) throw new UserError('no finished runs (results.json) in the given folders');
  // separate runs of one method/seed are one column entry: join their classes
  const joined = new Map<string, CellRun>();
  for (const r of runs) {
    const k = `${r.method}|${r.setting}|${r.seed}`;
    const j = joined.get(k);
    if (j) { Object.assign(j.per_class, r.per_class); j.parameters_total += r.parameters_total; j.seconds += r.seconds; }
    else joined.set(k, { ...r, per_class: { ...r.per_class } });
  }
  const all = [...joined.values()];
  const methods = [...new Set(all.map((r) => r.method))].sort((a, b) => (a === 'uniad' ? 1 : b === 'uniad' ? -1 : a.localeCompare(b)));
  fs.mkdirSync(out, { recursive: true });
  let md = '';
  const keptColumns = new Set<string>();
  for (const [metric, title] of [['i_auroc', 'Image AUROC (%)'], ['p_auroc', 'Pixel AUROC (%)']] as [MetricName, string][]) {
    // a method without this metric (CutPaste: image scores only) gets no column of dashes
    const has = methods.filter((m) => all.some((r) => r.method === m && Object.values(r.per_class).some((c) => Number.isFinite(c[metric]))));
    let t = buildResultTable(all, { metric, methods: has, digits: 2, ...(paper ? { paper: { compare: posterCompare(has, metric) } } : {}) });
    if (keep) {
      t = keepColumns(t, path.join(keep, `${metric}.csv`), rename);
      t.columns.filter((c) => !has.includes(c)).forEach((c) => keptColumns.add(c));
    }
    writeFileAtomic(path.join(out, `${metric}.csv`), tableToCsv(t));
    md += tableToMarkdown(t, `${title}, unified / separate`) + '\n\n';
  }
  md += '| method | setting | parameters (all models) | wall time (s) |\n|---|---|---|---|\n';
  if (keep) for (const l of keptTimeRows(path.join(keep, 'tables.md'), [...keptColumns], rename)) md += `${l}\n`;
  for (const r of all) md += `| ${r.method} | ${r.setting} | ${r.parameters_total.toLocaleString('en-US')} | ${r.seconds.toFixed(0)} |\n`;
  if (paper) md += '\nPaper: the UniAD poster (MVTec AD, EfficientNet-B4 backbone), unified / separate; Δ = ours − paper.\n';
  if (unfinished.length) md += `\nNot finished (left out): ${unfinished.join(', ')}\n`;
  writeFileAtomic(path.join(out, 'tables.md'), md);
  process.stdout.write(md);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(e instanceof UserError ? `error: ${e.message}\n` : `${(e as Error).stack}\n`);
  process.exit(1);
}
