// Pictures of experiments, drawn with the eval package's renderers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readTrainingLog, writeShortcutCurves, type CurveSeries } from '@unified-ad/eval';
import type { CellResult } from './grid/plan';

/**
 * Identical-shortcut curves (paper Fig. 3a) of several runs, one series per method (its first seed's run):
 * writes <base>.png and <base>.svg; returns the PNG path, or null when no run has a training log.
 */
export async function writeCurvesPicture(base: string, results: CellResult[], title: string): Promise<string | null> {
  const series: CurveSeries[] = [];
  for (const m of [...new Set(results.map((r) => r.cell.method))]) {
    const run = results.filter((r) => r.cell.method === m).sort((a, b) => a.cell.seed - b.cell.seed)[0];
    const file = path.join(run.dir, 'metrics.jsonl');
    if (fs.existsSync(file)) series.push({ name: m, log: readTrainingLog(file) });
  }
  if (!series.length) return null;
  return (await writeShortcutCurves(base, series, { title })).png;
}
