// Tables and pictures of one run folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Sample } from '@unified-ad/core';
import { readTrainingLog, writeAnomalyGrid, writeShortcutCurves, type GridSample } from '@unified-ad/eval';
import type { RunConfig, RunResult } from '@unified-ad/engine';
import type { PictureSample } from './run-folder';
import { writeTable, type Table } from './tables';

/** A metric's column label in the tables. */
export const METRIC_LABELS: Record<string, string> = { i_auroc: 'I-AUROC', i_ap: 'I-AP', i_f1max: 'I-F1max', p_auroc: 'P-AUROC', p_ap: 'P-AP', p_f1max: 'P-F1max', aupro: 'AUPRO', mad: 'mAD' };

/** Every metric per class and the mean over classes, in %. */
export function metricsTable(result: Pick<RunResult, 'per_class' | 'mean'>, title: string): Table {
  const classes = Object.keys(result.per_class);
  const metrics = [...new Set(Object.values(result.per_class).flatMap((m) => Object.keys(m)))];
  const pct = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? (100 * v).toFixed(2) : '-');
  const row = (name: string, m: Record<string, number>) => [name, ...metrics.map((k) => pct(m[k]))];
  return {
    title,
    header: ['class', ...metrics.map((k) => METRIC_LABELS[k] ?? k)],
    rows: [...classes.map((c) => row(c, result.per_class[c] as Record<string, number>)), row('mean', result.mean as Record<string, number>)],
  };
}

/** tables/<name>.csv and .md: every metric per class, and the mean. */
export async function writeRunTables(outDir: string, result: Pick<RunResult, 'per_class' | 'mean'>, name = 'metrics', title = 'Metrics per class (%)'): Promise<Table> {
  const t = metricsTable(result, title);
  writeTable(path.join(outDir, 'tables'), name, t);
  return t;
}

/**
 * pictures/: per class an anomaly-map grid (input | ground truth | map over the image; eval's writeAnomalyGrid),
 * and for trained models the training curves (loss, I-/P-AUROC per epoch from metrics.jsonl; eval's
 * writeShortcutCurves). Returns the written files.
 */
export async function writeRunPictures(
  outDir: string,
  cfg: RunConfig,
  result: RunResult,
  pics: PictureSample[],
  loadImage: ((s: Sample) => Promise<Float32Array>) | null,
): Promise<string[]> {
  const dir = path.join(outDir, 'pictures');
  const written: string[] = [];
  const r = cfg.eval.resolution;
  if (pics.length && loadImage) {
    const classes = [...new Set(pics.map((p) => p.sample.className))];
    // one colour range for all grids of the run, so that classes compare
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of pics) for (const v of p.map.data) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    for (const c of classes) {
      const rows: GridSample[] = [];
      for (const p of pics.filter((x) => x.sample.className === c)) {
        rows.push({ image: await loadImage(p.sample), height: r, width: r, mask: p.mask, map: p.map, label: p.sample.label, score: p.score, name: p.sample.id.split('/').slice(-2).join('/') });
      }
      const file = path.join(dir, `anomaly-maps-${safeName(c)}.png`);
      await writeAnomalyGrid(file, rows, { title: `${result.method} (${result.setting}) · ${c}`, range: hi > lo ? [lo, hi] : undefined });
      written.push(file);
    }
  }
  const logs = result.groups
    .filter((g) => g.history.length > 0)
    .map((g) => ({ group: g.group, file: cfg.setting === 'unified' ? path.join(outDir, 'metrics.jsonl') : path.join(outDir, 'separate', g.group, 'metrics.jsonl') }))
    .filter((g) => fs.existsSync(g.file));
  if (logs.length) {
    const series = logs.map((g) => ({ name: cfg.setting === 'unified' ? result.method : `${result.method} · ${g.group}`, log: readTrainingLog(g.file) }));
    const out = await writeShortcutCurves(path.join(dir, 'training-curves'), series, { title: `${result.method} (${result.setting}): training loss and test AUROC per epoch` });
    written.push(out.png);
  }
  return written;
}

const safeName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-');
