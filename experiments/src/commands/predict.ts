// `uniad predict <images…> --run <run-dir>`: anomaly score, decision and heat map for new images with a trained
// run. Images go through the run's backbone and neck, the run's model (best checkpoint), the run's map
// post-processing and image score. Decision: score >= threshold (--threshold, else the run's thresholds.json).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { z } from 'zod';
import { UserError, readJsonFile, quantizeInto, tensorFitData, tf, writeFileAtomic, type ImageStore } from '@unified-ad/core';
import { createBackbone, extractAligned } from '@unified-ad/backbones';
import { loadImageFile } from '@unified-ad/datasets';
import { imageScoreFromMap } from '@unified-ad/eval';
import { predictAll, resolveFeatureSpec, resolveInputs } from '@unified-ad/engine';
import { restoreRun } from '@unified-ad/engine';
import { writeHeatmapPng } from '../heatmap';
import { tableToText, type Table } from '../tables';
import { displayPath, uniqueStems } from '../paths';

export interface PredictOptions {
  run: string;
  threshold?: number;
  /** separate-setting runs: which class's model */
  className?: string;
  out?: string;
  checkpoint?: 'best' | 'last';
  log?: (l: string) => void;
}

export interface PredictRow {
  image: string;
  score: number;
  threshold: number;
  anomalous: boolean;
  heatmap: string;
}

const ThresholdsSchema = z.object({ thresholds: z.record(z.string(), z.number().nullable()) }).loose();

function runThreshold(runDir: string, key: string): number | null {
  const f = path.join(runDir, 'thresholds.json');
  if (!fs.existsSync(f)) return null;
  const t = readJsonFile(f, ThresholdsSchema, 'pass --threshold <score>, or re-run the training to rewrite it').thresholds[key];
  return typeof t === 'number' && Number.isFinite(t) ? t : null;
}

/** The model (group) of a run that --class selects; one-line errors for a missing or unknown class. */
function pickGroup<G extends { group: string; classes: string[] }>(setting: string, groups: G[], className: string | undefined, runDir: string): G {
  if (setting === 'separate') {
    if (!className) throw new UserError(`predict: ${runDir} has one model per class; choose one with --class (${groups.map((x) => x.group).join(', ')})`);
    const found = groups.find((x) => x.group === className);
    if (!found) throw new UserError(`predict: --class '${className}' is not in ${runDir} (${groups.map((x) => x.group).join(', ')})`);
    return found;
  }
  const g = groups[0]!;
  if (className !== undefined && !g.classes.includes(className)) throw new UserError(`predict: --class '${className}' is not a class of ${runDir} (${g.classes.join(', ')})`);
  return g;
}

/** The run's setting and models as its results.json lists them (null when it has none or they are unreadable: restoring then says why). */
function listedGroups(runDir: string): { setting: string; groups: { group: string; classes: string[] }[] } | null {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(runDir, 'results.json'), 'utf8')) as { setting?: unknown; groups?: { group?: unknown; classes?: unknown }[] };
    if (typeof r.setting !== 'string' || !Array.isArray(r.groups) || r.groups.length === 0) return null;
    const groups = r.groups.map((g) => ({ group: String(g.group), classes: Array.isArray(g.classes) ? g.classes.map(String) : [] }));
    return { setting: r.setting, groups };
  } catch {
    return null;
  }
}

export async function predictImages(images: string[], opts: PredictOptions): Promise<{ rows: PredictRow[]; table: Table }> {
  if (images.length === 0) throw new UserError('predict: give at least one image file');
  for (const f of images) if (!fs.existsSync(f)) throw new UserError(`predict: image not found: ${f}`);
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const runDir = path.resolve(opts.run);
  // a wrong or missing --class is said before the models are restored (a PatchCore restore is not free)
  const listed = listedGroups(runDir);
  if (listed) pickGroup(listed.setting, listed.groups, opts.className, runDir);
  const run = await restoreRun(runDir, opts.checkpoint ?? 'last', log);
  try {
    const { cfg } = run;
    const g = pickGroup(cfg.setting, run.groups, opts.className, runDir);
    // one model for all classes: --class picks that class's F1-max threshold (the decision rule per class)
    const thresholdKey = cfg.setting === 'separate' ? g.group : (opts.className ?? 'all');
    const threshold = opts.threshold ?? runThreshold(runDir, thresholdKey);
    if (threshold === null) throw new UserError(`predict: ${runDir} has no usable thresholds.json entry '${thresholdKey}'; pass --threshold <score>`);
    const spec = await resolveFeatureSpec(cfg);
    const imageSize = resolveInputs(cfg).images?.size ?? 0;
    const side = spec?.inputSize ?? imageSize;
    const pixels = await Promise.all(images.map((f) => loadImageFile(f, side)));
    let feats: Tensor4D | undefined;
    if (spec) {
      const backbone = await createBackbone({ id: cfg.backbone.id, path: cfg.backbone.path, sha256: cfg.backbone.sha256, inputSize: cfg.backbone.inputSize });
      try {
        const flat = new Float32Array(images.length * side * side * 3);
        pixels.forEach((p, i) => flat.set(p, i * side * side * 3));
        feats = tf.tidy(() => extractAligned(backbone, tf.tensor4d(flat, [images.length, side, side, 3]), spec.layers, spec.size));
      } finally {
        backbone.dispose();
      }
    }
    let store: ImageStore | undefined;
    if (imageSize) {
      const b = imageSize * imageSize * 3;
      store = { size: imageSize, data: new Uint8Array(images.length * b) };
      for (const [i, f] of images.entries()) {
        quantizeInto(imageSize === side ? pixels[i] : await loadImageFile(f, imageSize), store.data.subarray(i * b, (i + 1) * b));
      }
    }
    const samples = images.map((f, i) => ({ id: `predict/${i}`, className: opts.className ?? g.classes[0] ?? 'all', split: 'test' as const, label: 0 as const, defectType: 'unknown', imagePath: f }));
    const pred = (() => {
      try {
        return predictAll(g.model, tensorFitData(samples, { features: feats, images: store }), cfg.eval);
      } finally {
        feats?.dispose();
      }
    })();
    const outDir = path.resolve(opts.out ?? path.join(runDir, 'predictions'));
    const rows: PredictRow[] = [];
    const stems = uniqueStems(images);
    for (const [i, file] of images.entries()) {
      const score = pred.scores ? pred.scores[i] : imageScoreFromMap(pred.maps![i], cfg.eval.imageScore);
      const r = cfg.eval.resolution;
      const image = r === side ? pixels[i] : await loadImageFile(file, r);
      const heat = path.join(outDir, `${stems[i]}_heatmap.png`);
      if (pred.maps) await writeHeatmapPng(heat, image, pred.maps[i]);
      rows.push({ image: file, score, threshold, anomalous: score >= threshold, heatmap: heat });
    }
    const csv = ['image,score,threshold,anomalous,heatmap', ...rows.map((r) => [r.image, r.score, r.threshold, r.anomalous ? 1 : 0, r.heatmap].join(','))].join('\n') + '\n';
    writeFileAtomic(path.join(outDir, 'predictions.csv'), csv);
    const table: Table = {
      title: `Predictions of ${displayPath(runDir)} (${cfg.model.name}, ${cfg.setting}${cfg.setting === 'separate' ? ` model '${g.group}'` : ''}); threshold ${threshold.toPrecision(4)}${opts.threshold === undefined ? ` (the run's F1-max threshold${thresholdKey === 'all' ? ' over all classes' : ` for ${thresholdKey}`})` : ''}`,
      header: ['image', 'score', 'decision', 'heat map'],
      align: ['l', 'r', 'l', 'l'],
      rows: rows.map((r) => [r.image, r.score.toPrecision(4), r.anomalous ? 'anomalous' : 'normal', displayPath(r.heatmap)]),
    };
    return { rows, table };
  } finally {
    run.dispose();
  }
}

export const formatPredictions = (t: Table) => tableToText(t);
