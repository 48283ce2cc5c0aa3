// `uniad train`: one run into a self-describing folder. The engine writes config.yaml, env.json, metrics.jsonl,
// checkpoints/ and results.json; this adds scores.csv (every test image's score), thresholds.json (image-score
// F1-max thresholds), timings.json, tables/ (per-class metrics, CSV + Markdown) and pictures/ (anomaly-map grids,
// training curves) through the eval package.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { z } from 'zod';
import { UserError, readJsonFile, writeFileAtomic, type AnomalyMap, type Sample } from '@unified-ad/core';
import { loadDataset } from '@unified-ad/datasets';
import { binaryMetrics, imageScoreFromMap } from '@unified-ad/eval';
import { runExperiment, type RunConfig, type RunResult } from '@unified-ad/engine';
import { writeRunPictures, writeRunTables } from './artifacts';

/** One test image kept for the anomaly-map pictures. */
export interface PictureSample {
  sample: Sample;
  map: AnomalyMap;
  mask: Float32Array | null;
  score: number;
}

export interface ScoreRow {
  id: string;
  className: string;
  defectType: string;
  label: number;
  score: number;
}

export interface TrainRunOptions {
  outDir: string;
  resume?: boolean;
  log?: (line: string) => void;
  /** skip pictures (grids of experiments with many runs) */
  pictures?: boolean;
}

/** Picks up to k normal and k anomalous samples per class, spreading the anomalous ones over defect types. */
export function pickPictureSamples(samples: Sample[], k: number): number[] {
  const out: number[] = [];
  const classes = [...new Set(samples.map((s) => s.className))];
  for (const c of classes) {
    const idx = samples.flatMap((s, i) => (s.className === c ? [i] : []));
    out.push(...idx.filter((i) => samples[i].label === 0).slice(0, k));
    const byType = new Map<string, number[]>();
    for (const i of idx) if (samples[i].label === 1) byType.set(samples[i].defectType, [...(byType.get(samples[i].defectType) ?? []), i]);
    const queues = [...byType.values()];
    const bad: number[] = [];
    for (let r = 0; bad.length < k && queues.some((q) => r < q.length); r++) for (const q of queues) if (r < q.length && bad.length < k) bad.push(q[r]);
    out.push(...bad);
  }
  return out;
}

/** Image-score thresholds at maximal F1 per class and over all classes (NaN where a class has no anomaly). */
export function f1Thresholds(rows: ScoreRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  const classes = [...new Set(rows.map((r) => r.className))];
  for (const c of [...classes, '__all__']) {
    const rs = c === '__all__' ? rows : rows.filter((r) => r.className === c);
    const m = binaryMetrics(Float64Array.from(rs, (r) => r.score), rs.map((r) => r.label));
    out[c === '__all__' ? 'all' : c] = m.f1Threshold;
  }
  return out;
}

export async function trainRun(cfg: RunConfig, opts: TrainRunOptions): Promise<RunResult> {
  const outDir = path.resolve(opts.outDir);
  const rows: ScoreRow[] = [];
  const pics: PictureSample[] = [];
  const t0 = Date.now();
  const result = await runExperiment(cfg, {
    outDir,
    resume: opts.resume,
    log: opts.log,
    onPredictions: (_group, test, pred) => {
      test.samples.forEach((s, i) => {
        const score = pred.scores ? pred.scores[i] : imageScoreFromMap(pred.maps![i], cfg.eval.imageScore);
        rows.push({ id: s.id, className: s.className, defectType: s.defectType, label: s.label, score });
      });
      if (opts.pictures === false || cfg.eval.pictureSamples === 0 || !pred.maps) return;
      for (const i of pickPictureSamples(test.samples, cfg.eval.pictureSamples)) {
        const m = pred.maps[i]!;
        pics.push({ sample: test.samples[i], map: { data: Float32Array.from(m.data), height: m.height, width: m.width }, mask: test.masks[i], score: rows[rows.length - test.samples.length + i].score });
      }
    },
  });
  const tRun = (Date.now() - t0) / 1000;
  writeFileAtomic(path.join(outDir, 'scores.csv'), toCsv(rows));
  writeFileAtomic(path.join(outDir, 'thresholds.json'), JSON.stringify({ rule: 'image score >= threshold is anomalous; threshold at maximal F1 on the test set', thresholds: f1Thresholds(rows) }, null, 2));
  const t1 = Date.now();
  await writeRunTables(outDir, result, 'metrics', `${result.method} (${result.setting}) on ${describeData(cfg)}: metrics per class (%)`);
  if (pics.length) {
    const dataset = await loadDataset(cfg.data, { warn: () => {} });
    await writeRunPictures(outDir, cfg, result, pics, (s) => dataset.loadImage(s, cfg.eval.resolution));
  } else {
    await writeRunPictures(outDir, cfg, result, [], null);
  }
  const timings = {
    total_s: round((Date.now() - t0) / 1000),
    run_s: round(result.seconds),
    fit_s: Object.fromEntries(result.groups.map((g) => [g.group, round(g.fitSeconds)])),
    artifacts_s: round((Date.now() - t1) / 1000),
    engine_overhead_s: round(tRun - result.seconds),
  };
  writeFileAtomic(path.join(outDir, 'timings.json'), JSON.stringify(timings, null, 2));
  return result;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

function toCsv(rows: ScoreRow[]): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return ['id,class,defect_type,label,score', ...rows.map((r) => [q(r.id), q(r.className), q(r.defectType), r.label, r.score].join(','))].join('\n') + '\n';
}

const metricValues = z.record(z.string(), z.union([z.number(), z.null()]));

/**
 * The shape of results.json that readers rely on (extra keys are kept). A truncated or hand-edited file
 * fails here with one line naming the file and the key, instead of a TypeError later.
 */
export const RunResultFileSchema = z
  .object({
    name: z.string(),
    method: z.string(),
    setting: z.enum(['unified', 'separate']),
    seed: z.number(),
    per_class: z.record(z.string(), metricValues),
    mean: metricValues,
    parameters_total: z.number(),
    models: z.number().int().min(0),
    groups: z.array(z.object({ group: z.string(), classes: z.array(z.string()) }).loose()),
    seconds: z.number(),
  })
  .loose();

const RESULTS_HINT = 're-run (uniad train --resume, or uniad experiment run) to rewrite it';

/** Reads and checks a results.json (one-line UserError naming the file and key when malformed). */
export function readResultsFile(file: string): RunResult {
  return readJsonFile(file, RunResultFileSchema, RESULTS_HINT) as unknown as RunResult;
}

/** Reads a run folder's resolved config and results (UserError when it is not a run folder or a file is malformed). */
export function readRunFolder(dir: string): { cfg: Record<string, unknown>; result: RunResult | null } {
  const cfgFile = path.join(dir, 'config.yaml');
  if (!fs.existsSync(cfgFile)) throw new UserError(`${dir}: not a run folder (no config.yaml)`);
  let cfg: unknown;
  try {
    cfg = YAML.parse(fs.readFileSync(cfgFile, 'utf8'));
  } catch (e) {
    throw new UserError(`${cfgFile}: not valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (!cfg || typeof cfg !== 'object' || Array.isArray(cfg)) throw new UserError(`${cfgFile}: expected a mapping of run settings`);
  const resFile = path.join(dir, 'results.json');
  const result = fs.existsSync(resFile) ? readResultsFile(resFile) : null;
  return { cfg: cfg as Record<string, unknown>, result };
}

/** "synthetic", "mvtec-ad (bottle)", "combined: mvtec + magnetic-tile" */
export function describeData(cfg: RunConfig): string {
  const d = cfg.data as { type: string; parts?: { type: string }[]; name?: string };
  if (d.type === 'combined') return d.name ?? `combined: ${(d.parts ?? []).map((p) => p.type).join(' + ')}`;
  return d.type;
}
