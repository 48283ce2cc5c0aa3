// How well the label-free monitor (packages/engine/src/monitor.ts: val.synthetic_* in each evaluation of
// metrics.jsonl) tracks the test curves: Spearman ρ over the evaluated epochs of a run, the test AUROC at the epoch
// the monitor picks (train.select=synthetic) vs the last epoch vs the test-set best, and ρ across runs.
// Used by experiments/scripts/monitor-correlation.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, parseJsonlLines } from '@unified-ad/core';
import type { Table } from './tables';

/** Ranks 1..n, ties get the average of their ranks. */
export function averageRanks(xs: number[]): number[] {
  const order = xs.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
  const r = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) r[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman ρ (Pearson of average ranks) over the pairs where both values are finite; NaN under 3 pairs or a constant side. */
export function spearman(a: number[], b: number[]): number {
  const keep = a.map((_, i) => i).filter((i) => Number.isFinite(a[i]) && Number.isFinite(b[i]));
  if (keep.length < 3) return NaN;
  const ra = averageRanks(keep.map((i) => a[i]!)), rb = averageRanks(keep.map((i) => b[i]!));
  const m = (keep.length + 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < keep.length; i++) {
    sab += (ra[i]! - m) * (rb[i]! - m);
    saa += (ra[i]! - m) ** 2;
    sbb += (rb[i]! - m) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** One evaluated epoch: test metrics (mean over classes) and the monitor's label-free values (NaN where absent). */
export interface MonitorPoint {
  epoch: number;
  test_i: number;
  test_p: number;
  test_shortcut: number;
  syn_i: number;
  syn_p: number;
  syn_shortcut: number;
  /** val.select: what train.select=synthetic maximises */
  select: number;
}

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

/** The evaluated epochs of a run folder's (or a file's) metrics.jsonl that carry a `val` block. */
export function readMonitorPoints(dirOrFile: string): MonitorPoint[] {
  if (!fs.existsSync(dirOrFile)) throw new UserError(`${dirOrFile}: no such run folder`);
  const file = fs.statSync(dirOrFile).isDirectory() ? path.join(dirOrFile, 'metrics.jsonl') : dirOrFile;
  if (!fs.existsSync(file)) throw new UserError(`${dirOrFile}: no metrics.jsonl (not a finished run folder?)`);
  const pts: MonitorPoint[] = [];
  const { lines } = parseJsonlLines(fs.readFileSync(file, 'utf8'), (n) => {
    throw new UserError(`${file}:${n}: not valid JSON`);
  });
  lines.forEach(({ value }) => {
    const o = (value ?? {}) as Record<string, any>;
    const ev = o.eval, val = ev?.val;
    if (!ev || !val || typeof val !== 'object') return;
    pts.push({
      epoch: num(o.epoch),
      test_i: num(ev.mean?.i_auroc), test_p: num(ev.mean?.p_auroc), test_shortcut: num(ev.shortcut?.ratio),
      syn_i: num(val.synthetic_i_auroc), syn_p: num(val.synthetic_p_auroc), syn_shortcut: num(val.synthetic_shortcut_ratio),
      select: num(val.select),
    });
  });
  if (!pts.length) throw new UserError(`${file}: no evaluation with a 'val' block (run with train.monitor=<k> and train.evalEvery > 0)`);
  return pts;
}

/** The trainer's rule (core/trainer.ts, bestKey val.select): the first evaluation whose value is strictly greater than the best so far. */
export function pickIndex(values: number[]): number {
  let best = -1;
  values.forEach((v, i) => {
    if (best < 0 || v > values[best]!) best = i;
  });
  return best;
}

/** The first index of the largest finite value (test-set best, the oracle). */
function argmax(values: number[]): number {
  let best = -1;
  values.forEach((v, i) => {
    if (Number.isFinite(v) && (best < 0 || v > values[best]!)) best = i;
  });
  return best;
}

export interface RunSummary {
  label: string;
  evals: number;
  rho_p: number;
  rho_i: number;
  rho_shortcut: number;
  picked: MonitorPoint;
  last: MonitorPoint;
  bestP: MonitorPoint;
  bestI: MonitorPoint;
}

export function summariseRun(label: string, pts: MonitorPoint[]): RunSummary {
  const col = (k: keyof MonitorPoint) => pts.map((p) => p[k]);
  const at = (i: number) => pts[Math.max(0, i)]!;
  return {
    label, evals: pts.length,
    rho_p: spearman(col('syn_p'), col('test_p')),
    rho_i: spearman(col('syn_i'), col('test_i')),
    rho_shortcut: spearman(col('syn_shortcut'), col('test_shortcut')),
    picked: at(pickIndex(col('select'))), last: pts[pts.length - 1]!,
    bestP: at(argmax(col('test_p'))), bestI: at(argmax(col('test_i'))),
  };
}

/** ρ across runs: per run the final synthetic value vs the final test value. */
export function acrossRuns(runs: RunSummary[]): { rho_p: number; rho_i: number; rho_shortcut: number } {
  const f = (s: keyof MonitorPoint, t: keyof MonitorPoint) => spearman(runs.map((r) => r.last[s]), runs.map((r) => r.last[t]));
  return { rho_p: f('syn_p', 'test_p'), rho_i: f('syn_i', 'test_i'), rho_shortcut: f('syn_shortcut', 'test_shortcut') };
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const pct = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '–');

export const MONITOR_HEADER = [
  'run', 'evals', 'ρ P (syn vs test)', 'ρ I', 'ρ shortcut',
  'picked ep', 'P @picked', 'I @picked', 'last ep', 'P @last', 'I @last', 'best P (ep)', 'best I (ep)',
  'syn P @last', 'syn I @last',
];

export function monitorRows(runs: RunSummary[]): string[][] {
  return runs.map((r) => [
    r.label, String(r.evals), f2(r.rho_p), f2(r.rho_i), f2(r.rho_shortcut),
    String(r.picked.epoch), pct(r.picked.test_p), pct(r.picked.test_i),
    String(r.last.epoch), pct(r.last.test_p), pct(r.last.test_i),
    `${pct(r.bestP.test_p)} (${r.bestP.epoch})`, `${pct(r.bestI.test_i)} (${r.bestI.epoch})`,
    pct(r.last.syn_p), pct(r.last.syn_i),
  ]);
}

export function monitorTable(runs: RunSummary[]): Table {
  const x = acrossRuns(runs);
  return {
    title: 'Label-free monitor vs test curves (test AUROC in %, mean over classes)',
    header: MONITOR_HEADER,
    rows: monitorRows(runs),
    notes: [
      `Across runs (${runs.length}; final synthetic vs final test): ρ P ${f2(x.rho_p)}, ρ I ${f2(x.rho_i)}, ρ shortcut ${f2(x.rho_shortcut)}.`,
      'ρ: Spearman over the evaluated epochs (average ranks for ties; – under 3 points or a constant curve). ' +
        'picked: the first epoch of the largest val.select (= val.synthetic_p_auroc, what train.select=synthetic keeps); ' +
        'best P / best I: the test-set best epoch of each metric (uses test labels, an oracle).',
    ],
  };
}

export function monitorCsv(runs: RunSummary[]): string {
  const head = ['run', 'evals', 'rho_p', 'rho_i', 'rho_shortcut', 'picked_epoch', 'picked_test_p', 'picked_test_i', 'last_epoch', 'last_test_p', 'last_test_i',
    'bestp_epoch', 'bestp_test_p', 'besti_epoch', 'besti_test_i', 'last_syn_p', 'last_syn_i', 'last_syn_shortcut', 'last_test_shortcut'];
  const v = (x: number) => (Number.isFinite(x) ? String(Math.round(x * 1e4) / 1e4) : '');
  const lines = runs.map((r) => [r.label, String(r.evals), v(r.rho_p), v(r.rho_i), v(r.rho_shortcut), String(r.picked.epoch), v(r.picked.test_p), v(r.picked.test_i),
    String(r.last.epoch), v(r.last.test_p), v(r.last.test_i), String(r.bestP.epoch), v(r.bestP.test_p), String(r.bestI.epoch), v(r.bestI.test_i),
    v(r.last.syn_p), v(r.last.syn_i), v(r.last.syn_shortcut), v(r.last.test_shortcut)].join(','));
  return [head.join(','), ...lines].join('\n') + '\n';
}
