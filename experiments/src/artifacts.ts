// Tables and pictures of one run folder.
import * as path from 'node:path';
import type { Sample } from '@unified-ad/core';
import type { RunConfig, RunResult } from './engine';
import type { PictureSample } from './run-folder';
import { writeTable, type Table } from './tables';

const LABELS: Record<string, string> = { i_auroc: 'I-AUROC', i_ap: 'I-AP', i_f1max: 'I-F1max', p_auroc: 'P-AUROC', p_ap: 'P-AP', p_f1max: 'P-F1max', aupro: 'AUPRO', mad: 'mAD' };

/** Every metric per class and the mean over classes, in %. */
export function metricsTable(result: Pick<RunResult, 'per_class' | 'mean'>, title: string): Table {
  const classes = Object.keys(result.per_class);
  const metrics = [...new Set(Object.values(result.per_class).flatMap((m) => Object.keys(m)))];
  const pct = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? (100 * v).toFixed(2) : '-');
  const row = (name: string, m: Record<string, number>) => [name, ...metrics.map((k) => pct(m[k]))];
  return {
    title,
    header: ['class', ...metrics.map((k) => LABELS[k] ?? k)],
    rows: [...classes.map((c) => row(c, result.per_class[c] as Record<string, number>)), row('mean', result.mean as Record<string, number>)],
  };
}

/** tables/<name>.csv and .md: every metric per class, and the mean. */
export async function writeRunTables(outDir: string, result: Pick<RunResult, 'per_class' | 'mean'>, name = 'metrics', title = 'Metrics per class (%)'): Promise<Table> {
  const t = metricsTable(result, title);
  writeTable(path.join(outDir, 'tables'), name, t);
  return t;
}

/** pictures/: anomaly-map grids (image, ground truth, map) and training curves. */
export async function writeRunPictures(
  _outDir: string,
  _cfg: RunConfig,
  _result: RunResult,
  _pics: PictureSample[],
  _loadImage: ((s: Sample) => Promise<Float32Array>) | null,
): Promise<void> {
  // filled in with the eval package's picture functions
}
