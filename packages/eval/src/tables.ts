// Per-class result tables in the format of the UniAD paper's Tables 1–2: rows = classes grouped as objects /
// textures with group means and an overall mean; columns = methods; each cell "unified / separate", shown as
// "mean ± std" over seeds when several runs exist. Optional columns with the poster's numbers and our delta.
import { stringify } from 'csv-stringify/sync';
import { mean as mjMean, std as mjStd } from 'mathjs';
import { UserError } from '@unified-ad/core';
import type { MetricName, MetricValues } from './evaluate';
import { MVTEC_OBJECTS, MVTEC_TEXTURES, posterTableFor, type PaperCell, type PaperTable } from './reference/uniad-poster';

export type Setting = 'unified' | 'separate';
export const SETTINGS: Setting[] = ['unified', 'separate'];

/** One evaluated run: a method in a setting with a seed; per-class values as evaluate() returns them (0..1). */
export interface RunResult {
  method: string;
  setting: Setting;
  seed?: number;
  per_class: Record<string, MetricValues>;
}

/** Ordered class groups: group name -> classes. */
export type ClassGroups = Record<string, string[]>;

/** MVTec AD's objects and textures; Magnetic Tile (a surface) is put with the textures. */
export const DEFAULT_GROUPS: ClassGroups = {
  objects: MVTEC_OBJECTS,
  textures: [...MVTEC_TEXTURES, 'magnetic_tile'],
};

export interface TableOptions {
  metric: MetricName;
  /** method columns in this order (default: order of first appearance in the results) */
  methods?: string[];
  /** class groups (default DEFAULT_GROUPS); classes in none of them go to `otherGroup` */
  groups?: ClassGroups;
  /** name of the group of ungrouped classes (default 'other') */
  otherGroup?: string;
  /** value multiplier (default 100: percent) and decimals (default 1; std gets one more) */
  scale?: number;
  digits?: number;
  /** std over seeds: 'sample' (n − 1, default) or 'population' (n) */
  std?: 'sample' | 'population';
  /** the poster's numbers: `compare` maps our method -> poster method (adds "paper" and "Δ" columns after it);
   *  `show` lists poster methods to add as columns of their own. The table defaults to posterTableFor(metric). */
  paper?: { table?: PaperTable; compare?: Record<string, string>; show?: string[] };
  /** how a class name is shown (default: 'metal_nut' -> 'Metal Nut') */
  displayName?: (cls: string) => string;
}

export interface TableRow {
  kind: 'class' | 'group-mean' | 'mean';
  group: string;
  /** the class name (kind 'class'), else the group name or 'all' */
  key: string;
  label: string;
  cells: string[];
}

export interface ResultTable {
  metric: MetricName;
  /** header of the value columns (the first two columns are group and category) */
  columns: string[];
  rows: TableRow[];
}

export function prettyClassName(cls: string): string {
  return cls
    .split('_')
    .map((w) => (w ? w[0].toUpperCase() + w.slice(1) : w))
    .join(' ');
}

const DASH = '–';

interface Stat {
  mean: number;
  std: number;
  n: number;
}

function stat(values: number[], kind: 'sample' | 'population'): Stat | null {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  const m = Number(mjMean(v));
  const s = v.length > 1 ? Number(mjStd(v, kind === 'sample' ? 'unbiased' : 'uncorrected')) : 0;
  return { mean: m, std: s, n: v.length };
}

/** Builds the table model; render it with tableToMarkdown / tableToCsv. */
export function buildResultTable(results: RunResult[], opts: TableOptions): ResultTable {
  if (results.length === 0) throw new UserError('buildResultTable: no results given');
  const metric = opts.metric;
  const scale = opts.scale ?? 100;
  const digits = opts.digits ?? 1;
  const stdKind = opts.std ?? 'sample';
  const display = opts.displayName ?? prettyClassName;
  for (const r of results) {
    if (r.setting !== 'unified' && r.setting !== 'separate') {
      throw new UserError(`buildResultTable: run of '${r.method}' has setting '${r.setting}'; expected unified or separate`);
    }
  }
  const methods = opts.methods ?? [...new Set(results.map((r) => r.method))];
  // row order: the groups' classes that appear, then the other classes in order of appearance
  const present = new Set<string>();
  for (const r of results) for (const c of Object.keys(r.per_class)) present.add(c);
  const groups = opts.groups ?? DEFAULT_GROUPS;
  const grouped: [string, string[]][] = [];
  const seen = new Set<string>();
  for (const [g, classes] of Object.entries(groups)) {
    const cs = classes.filter((c) => present.has(c) && !seen.has(c));
    cs.forEach((c) => seen.add(c));
    if (cs.length) grouped.push([g, cs]);
  }
  const others = [...present].filter((c) => !seen.has(c));
  if (others.length) grouped.push([opts.otherGroup ?? 'other', others]);
  const allClasses = grouped.flatMap(([, cs]) => cs);

  const paperTable = opts.paper ? (opts.paper.table ?? posterTableFor(metric)) : undefined;
  if (opts.paper && !paperTable) throw new UserError(`buildResultTable: no poster table for metric '${metric}'`);
  const compare = opts.paper?.compare ?? {};
  const show = opts.paper?.show ?? [];
  for (const pm of [...Object.values(compare), ...show]) {
    if (!paperTable!.methods.includes(pm)) {
      throw new UserError(`buildResultTable: poster ${paperTable!.id} has no method '${pm}' (has ${paperTable!.methods.join(', ')})`);
    }
  }

  // runs of each method and setting
  const runsOf = (m: string, s: Setting) => results.filter((r) => r.method === m && r.setting === s);
  // value of one run for a row: a class value, or the mean over the row's classes (NaN-free)
  const runValue = (r: RunResult, classes: string[]): number => {
    const v = classes.map((c) => r.per_class[c]?.[metric]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    return v.length === classes.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  };
  const fmt = (x: number, d = digits) => (x * 1).toFixed(d);
  const fmtStat = (s: Stat | null) => (s === null ? DASH : s.n > 1 ? `${fmt(s.mean * scale)} ± ${fmt(s.std * scale, digits + 1)}` : fmt(s.mean * scale));
  const ours = (m: string, classes: string[]): [Stat | null, Stat | null] =>
    SETTINGS.map((s) => stat(runsOf(m, s).map((r) => runValue(r, classes)), stdKind)) as [Stat | null, Stat | null];

  // the poster's value for a row: a class cell; for a group, the stated mean when the row's classes are exactly the
  // poster's group, else the mean of the poster's cells of those classes (null when one is missing)
  const paperValue = (pm: string, kind: TableRow['kind'], key: string, classes: string[]): PaperCell | null => {
    const t = paperTable!;
    if (kind === 'class') return t.classes[key]?.[pm] ?? null;
    const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((c) => b.includes(c));
    if (kind === 'mean' && sameSet(classes, [...MVTEC_OBJECTS, ...MVTEC_TEXTURES])) return t.means.all[pm];
    if (sameSet(classes, MVTEC_OBJECTS)) return t.means.objects[pm];
    if (sameSet(classes, MVTEC_TEXTURES)) return t.means.textures[pm];
    const cells = classes.map((c) => t.classes[c]?.[pm]);
    if (cells.some((c) => !c)) return null;
    const avg = (i: 0 | 1) => cells.reduce((a, c) => a + c![i], 0) / cells.length;
    return [avg(0), avg(1)];
  };
  const paperDigits = (pm: string, s: Setting) => paperTable?.precision?.[pm]?.[s] ?? 1;
  const fmtPaper = (pm: string, c: PaperCell | null) =>
    c === null
      ? DASH
      : `${c[0].toFixed(paperDigits(pm, 'unified'))}${c.length === 3 ? ` ± ${c[2].toFixed(2)}` : ''} / ${c[1].toFixed(paperDigits(pm, 'separate'))}`;
  const signed = (x: number) => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(digits);

  const columns: string[] = [];
  for (const m of methods) {
    columns.push(m);
    if (compare[m]) columns.push(`${compare[m]} (paper)`, `Δ vs paper`);
  }
  for (const pm of show) columns.push(`${pm} (paper)`);

  const makeRow = (kind: TableRow['kind'], group: string, key: string, label: string, classes: string[]): TableRow => {
    const cells: string[] = [];
    for (const m of methods) {
      const [u, s] = ours(m, classes);
      cells.push(`${fmtStat(u)} / ${fmtStat(s)}`);
      const pm = compare[m];
      if (pm) {
        const pc = paperValue(pm, kind, key, classes);
        cells.push(fmtPaper(pm, pc));
        const d = (o: Stat | null, i: 0 | 1) => (o === null || pc === null ? DASH : signed(o.mean * scale - pc[i]));
        cells.push(`${d(u, 0)} / ${d(s, 1)}`);
      }
    }
    for (const pm of show) cells.push(fmtPaper(pm, paperValue(pm, kind, key, classes)));
    return { kind, group, key, label, cells };
  };

  const rows: TableRow[] = [];
  for (const [g, cs] of grouped) {
    for (const c of cs) rows.push(makeRow('class', g, c, display(c), [c]));
    if (grouped.length > 1) rows.push(makeRow('group-mean', g, g, 'Mean', cs));
  }
  rows.push(makeRow('mean', 'all', 'all', 'Mean', allClasses));
  return { metric, columns, rows };
}

const GROUP_LABELS: Record<string, string> = { objects: 'Object', textures: 'Texture', other: 'Other', all: 'All' };
const groupLabel = (g: string) => GROUP_LABELS[g] ?? prettyClassName(g);

/** A row's first two CSV columns: [group, category] (a group mean is [group, 'mean'], the overall mean ['all', 'mean']). */
export function csvRowLabels(r: TableRow): [string, string] {
  return [r.kind === 'class' ? r.group : r.kind === 'mean' ? 'all' : r.group, r.kind === 'class' ? r.key : 'mean'];
}

/** CSV (RFC 4180) with a header row; every row names its group. */
export function tableToCsv(t: ResultTable): string {
  const records = [['group', 'category', ...t.columns], ...t.rows.map((r) => [...csvRowLabels(r), ...r.cells])];
  return stringify(records);
}

/** GitHub Markdown table in the paper's layout: group label on its first row, group means after each group. */
export function tableToMarkdown(t: ResultTable, caption?: string): string {
  const header = ['Group', 'Category', ...t.columns];
  const lines: string[] = [];
  if (caption) lines.push(caption, '');
  lines.push(`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? ':--' : ':-:')).join('|')}|`);
  let lastGroup = '';
  for (const r of t.rows) {
    const g = r.kind === 'mean' ? '' : r.group !== lastGroup ? groupLabel(r.group) : '';
    if (r.kind !== 'mean') lastGroup = r.group;
    const label = r.kind === 'class' ? r.label : `**${r.label}**`;
    lines.push(`| ${[r.kind === 'mean' ? '**Mean**' : g, r.kind === 'mean' ? '' : label, ...r.cells].join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
