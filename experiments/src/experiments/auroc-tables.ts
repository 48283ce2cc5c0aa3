// Tables 1 and 2 of the paper in the poster's format (eval's buildResultTable): per class, "unified / separate"
// AUROC of every method (± std over seeds), and beside UniAD and PaDiM the poster's numbers and our difference
// where the classes are MVTec AD's. Also the parameter counts (one unified model vs. one model per class).
import * as path from 'node:path';
import { listModels, writeFileAtomic } from '@unified-ad/core';
import { buildResultTable, posterTableFor, tableToCsv as resultTableToCsv, tableToMarkdown as resultTableToMarkdown, type ResultTable, type RunResult as EvalRunResult } from '@unified-ad/eval';
import type { CellResult, PlanOptions } from '../grid/plan';
import { tableToText, writeTable, type Table } from '../tables';

/** Our registry name → the poster's column (the registry entry's `paperName`), for the methods the poster reports. */
export function posterMethods(): Record<string, string> {
  return Object.fromEntries(listModels().filter((m) => m.paperName).map((m) => [m.name, m.paperName!]));
}

export function methodsOf(results: CellResult[]): string[] {
  const out: string[] = [];
  for (const r of results) if (!out.includes(r.cell.method)) out.push(r.cell.method);
  return out;
}

/** One run per (method, setting, variant, seed): the separate setting's per-class cells are joined. */
export function joinRuns(results: CellResult[]): EvalRunResult[] {
  const runs = new Map<string, EvalRunResult>();
  for (const r of results) {
    const k = [r.cell.method, r.cell.setting, r.cell.variant ?? '', r.cell.seed].join('|');
    const run = runs.get(k) ?? { method: r.cell.method, setting: r.cell.setting, seed: r.cell.seed, per_class: {} };
    Object.assign(run.per_class, r.result.per_class);
    runs.set(k, run);
  }
  return [...runs.values()];
}

/** True when a run's data is (or contains) MVTec AD, so that the poster's numbers apply to its classes. */
export function isMvtecData(data: unknown): boolean {
  const d = data as { type?: string; parts?: unknown[] };
  return d?.type === 'mvtec' || (d?.type === 'combined' && (d.parts ?? []).some(isMvtecData));
}

/**
 * One AUROC table (metric i_auroc → Table 1, p_auroc → Table 2). On MVTec AD, rows are grouped as objects /
 * textures and UniAD and PaDiM get the poster's numbers beside them; other data (e.g. synthetic classes that share
 * a name with an MVTec category) gets neither.
 */
export function aurocTable(results: CellResult[], metric: 'i_auroc' | 'p_auroc'): ResultTable {
  const runs = joinRuns(results);
  const methods = methodsOf(results);
  const mvtec = results.some((r) => isMvtecData(r.cell.config.data));
  const poster = posterMethods();
  // a method the poster reports in only one of its tables (FCDD: Table 2) gets the paper column only there
  const inTable = new Set(posterTableFor(metric)?.methods ?? []);
  const compare = Object.fromEntries(methods.filter((m) => poster[m] && inTable.has(poster[m])).map((m) => [m, poster[m]]));
  return buildResultTable(runs, { metric, methods, ...(mvtec ? { paper: { compare } } : { groups: {}, otherGroup: 'classes' }) });
}

/** eval's ResultTable as a plain table (for the terminal and the report's CSV reader). */
export function resultAsTable(t: ResultTable, title: string, notes: string[] = []): Table {
  return {
    title,
    header: ['group', 'class', ...t.columns],
    align: ['l', 'l', ...t.columns.map(() => 'r' as const)],
    rows: t.rows.map((r) => [r.kind === 'mean' ? 'all' : r.group, r.kind === 'class' ? r.label : 'Mean', ...r.cells]),
    notes,
  };
}

/** Parameters of the unified model vs. the sum of the per-class models, per method (first seed). */
/** A parameter count as the tables print it: 1.12 M, 279.3 k, 512. */
export const formatCount = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));

export function parameterTable(results: CellResult[]): Table {
  const f = formatCount;
  const rows = methodsOf(results).map((m) => {
    const seed = Math.min(...results.filter((r) => r.cell.method === m).map((r) => r.cell.seed));
    const uni = results.find((r) => r.cell.method === m && r.cell.setting === 'unified' && r.cell.seed === seed);
    const seps = results.filter((r) => r.cell.method === m && r.cell.setting === 'separate' && r.cell.seed === seed);
    const sepTotal = seps.reduce((a, r) => a + r.result.parameters_total, 0);
    return [m, uni ? f(uni.result.parameters_total) : '-', seps.length ? `${f(sepTotal)} (${seps.length} models)` : '-'];
  });
  return { title: 'Parameters (learned weights or stored statistics): one unified model vs. one model per class', header: ['method', 'unified', 'separate (sum)'], rows };
}

/** Every metric of every cell, long form. */
export function longCsv(results: CellResult[]): string {
  const lines = ['method,setting,variant,seed,class,metric,value'];
  for (const r of results)
    for (const [c, m] of Object.entries(r.result.per_class))
      for (const [k, v] of Object.entries(m as Record<string, number>)) lines.push([r.cell.method, r.cell.setting, r.cell.variant ?? '', r.cell.seed, c, k, v].join(','));
  return lines.join('\n') + '\n';
}

export async function renderAurocTables(options: PlanOptions, results: CellResult[], outDir: string, dataName: string): Promise<string> {
  const dir = path.join(outDir, 'tables');
  const seeds = new Set(results.map((r) => r.cell.seed)).size;
  const text: string[] = [];
  for (const [name, metric, what] of [['table1', 'i_auroc', 'image-level AUROC (detection)'], ['table2', 'p_auroc', 'pixel-level AUROC (localization)']] as const) {
    const t = aurocTable(results, metric);
    const withPaper = t.columns.some((c) => c.endsWith('(paper)'));
    const notes = [
      `AUROC in %, unified / separate${seeds > 1 ? `; mean ± std over ${seeds} seeds (n − 1)` : ''}.` +
        (withPaper ? ' Paper: the UniAD poster (MVTec AD, EfficientNet-B4 backbone); Δ = ours − paper.' : ''),
    ];
    const title = `${name === 'table1' ? 'Table 1' : 'Table 2'}: ${what} on ${dataName}, budget ${options.budget}`;
    writeFileAtomic(path.join(dir, `${name}.md`), `**${title}**\n\n${resultTableToMarkdown(t)}\n${notes.join('\n')}\n`);
    writeFileAtomic(path.join(dir, `${name}.csv`), resultTableToCsv(t));
    text.push(tableToText(resultAsTable(t, title, notes)));
  }
  const tp = parameterTable(results);
  writeTable(dir, 'parameters', tp);
  text.push(tableToText(tp));
  writeFileAtomic(path.join(outDir, 'results.csv'), longCsv(results));
  return text.join('\n');
}
