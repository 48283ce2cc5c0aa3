// `uniad predict <images…> --run <run-dir>`: anomaly score, decision and heat map for new images with a trained
// run. Images go through the run's backbone and neck, the run's model (best checkpoint), the run's map
// post-processing and image score. Decision: score >= threshold (--threshold, else the run's thresholds.json).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { UserError, createBackbone, extractAligned, tf, writeFileAtomic } from '@unified-ad/core';
import { loadImageFile } from '@unified-ad/datasets';
import { imageScoreFromMap } from '@unified-ad/eval';
import { predictAll, resolveFeatureSpec } from '../engine';
import { restoreRun } from '../restore';
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

function runThreshold(runDir: string, key: string): number | null {
  const f = path.join(runDir, 'thresholds.json');
  if (!fs.existsSync(f)) return null;
  const t = (JSON.parse(fs.readFileSync(f, 'utf8')) as { thresholds: Record<string, number> }).thresholds[key];
  return typeof t === 'number' && Number.isFinite(t) ? t : null;
}

export async function predictImages(images: string[], opts: PredictOptions): Promise<{ rows: PredictRow[]; table: Table }> {
  if (images.length === 0) throw new UserError('predict: give at least one image file');
  for (const f of images) if (!fs.existsSync(f)) throw new UserError(`predict: image not found: ${f}`);
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const runDir = path.resolve(opts.run);
  const run = await restoreRun(runDir, opts.checkpoint ?? 'last', log);
  try {
    const { cfg } = run;
    let g = run.groups[0];
    if (cfg.setting === 'separate') {
      if (!opts.className) throw new UserError(`predict: ${runDir} has one model per class; choose one with --class (${run.groups.map((x) => x.group).join(', ')})`);
      const found = run.groups.find((x) => x.group === opts.className);
      if (!found) throw new UserError(`predict: --class '${opts.className}' is not in ${runDir} (${run.groups.map((x) => x.group).join(', ')})`);
      g = found;
    }
    const thresholdKey = cfg.setting === 'separate' ? g.group : 'all';
    const threshold = opts.threshold ?? runThreshold(runDir, thresholdKey);
    if (threshold === null) throw new UserError(`predict: ${runDir} has no usable thresholds.json entry '${thresholdKey}'; pass --threshold <score>`);
    const spec = await resolveFeatureSpec(cfg);
    const side = spec.inputSize;
    const pixels = await Promise.all(images.map((f) => loadImageFile(f, side)));
    const backbone = await createBackbone({ id: cfg.backbone.id, path: cfg.backbone.path, inputSize: cfg.backbone.inputSize });
    let feats: Tensor4D;
    try {
      const flat = new Float32Array(images.length * side * side * 3);
      pixels.forEach((p, i) => flat.set(p, i * side * side * 3));
      feats = tf.tidy(() => extractAligned(backbone, tf.tensor4d(flat, [images.length, side, side, 3]), spec.layers, spec.size));
    } finally {
      backbone.dispose();
    }
    const pred = (() => {
      try {
        return predictAll(g.model, feats, cfg.eval);
      } finally {
        feats.dispose();
      }
    })();
    const outDir = path.resolve(opts.out ?? path.join(runDir, 'predictions'));
    const rows: PredictRow[] = [];
    const stems = uniqueStems(images);
    for (const [i, file] of images.entries()) {
      const score = pred.scores ? pred.scores[i] : imageScoreFromMap(pred.maps[i], cfg.eval.imageScore);
      const r = cfg.eval.resolution;
      const image = r === side ? pixels[i] : await loadImageFile(file, r);
      const heat = path.join(outDir, `${stems[i]}_heatmap.png`);
      await writeHeatmapPng(heat, image, pred.maps[i]);
      rows.push({ image: file, score, threshold, anomalous: score >= threshold, heatmap: heat });
    }
    const csv = ['image,score,threshold,anomalous,heatmap', ...rows.map((r) => [r.image, r.score, r.threshold, r.anomalous ? 1 : 0, r.heatmap].join(','))].join('\n') + '\n';
    writeFileAtomic(path.join(outDir, 'predictions.csv'), csv);
    const table: Table = {
      title: `Predictions of ${displayPath(runDir)} (${cfg.model.name}, ${cfg.setting}${cfg.setting === 'separate' ? ` model '${g.group}'` : ''}); threshold ${threshold.toPrecision(4)}${opts.threshold === undefined ? ' (the run\'s F1-max threshold)' : ''}`,
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
