// Rebuilds the models of a finished run folder: trainable ones from their best/last checkpoint, statistical ones
// by fitting again on the run's training features (deterministic given the run's seed; they keep no checkpoint).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng, UserError, createModel, getModelEntry, tf, type AnomalyModel } from '@unified-ad/core';
import { extractFeatures } from '@unified-ad/datasets';
import { loadRunData, loadTrainedWeights, resolveFeatureSpec, type RunConfig } from './engine';
import { toRunConfig } from './config-files';
import { readRunFolder } from './run-folder';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { displayPath } from './paths';

export interface RestoredGroup {
  group: string;
  classes: string[];
  model: AnomalyModel;
  /** checkpoint file the weights came from, or 'refit' */
  source: string;
}

export interface RestoredRun {
  cfg: RunConfig;
  groups: RestoredGroup[];
  dispose(): void;
}

export function checkpointFile(runDir: string, cfg: RunConfig, group: string, which: 'best' | 'last'): string {
  const dir = cfg.setting === 'unified' ? runDir : path.join(runDir, 'separate', group);
  const want = path.join(dir, 'checkpoints', `${which}.ckpt`);
  if (fs.existsSync(want)) return want;
  const last = path.join(dir, 'checkpoints', 'last.ckpt');
  if (which === 'best' && fs.existsSync(last)) return last; // no evaluation during training → no best.ckpt
  throw new UserError(`${runDir}: no checkpoint ${path.relative(runDir, want)} (did the run finish?)`);
}

export function readRunConfig(runDir: string): RunConfig {
  const { cfg } = readRunFolder(runDir);
  return toRunConfig(cfg, path.join(runDir, 'config.yaml'));
}

export async function restoreRun(runDir: string, which: 'best' | 'last' = 'last', log: (l: string) => void = () => {}): Promise<RestoredRun> {
  const cfg = readRunConfig(runDir);
  const entry = getModelEntry(cfg.model.name);
  const { dataset, trainSamples, classes } = await loadRunData(cfg);
  const spec = await resolveFeatureSpec(cfg);
  const groups = cfg.setting === 'unified' ? [{ name: 'all', classes }] : classes.map((c) => ({ name: c, classes: [c] }));
  const out: RestoredGroup[] = [];
  const backboneOptions = { path: cfg.backbone.path };
  // trainable models need only the feature shape: extract one sample (a cache hit after training)
  const needAll = entry.kind === 'statistical';
  const fsTrain = await extractFeatures(dataset, needAll ? trainSamples : trainSamples.slice(0, 1), spec, { batchSize: cfg.features.batchSize, backboneOptions });
  try {
    const [, grid, , channels] = fsTrain.features.shape;
    for (const g of groups) {
      const rng = new Rng(cfg.seed);
      const model = createModel(entry.name, cfg.model.config, { inChannels: channels, gridSize: grid, rng });
      if (model.kind === 'trainable') {
        const file = checkpointFile(runDir, cfg, g.name, which);
        loadTrainedWeights(model, file);
        out.push({ group: g.name, classes: g.classes, model, source: file });
      } else {
        const inGroup = new Set(g.classes);
        const idx = trainSamples.flatMap((s, i) => (inGroup.has(s.className) ? [i] : []));
        const x = tf.tidy(() => tf.gather(fsTrain.features, tf.tensor1d(idx, 'int32')) as Tensor4D);
        try {
          await model.fit({ samples: idx.map((i) => trainSamples[i]), features: x }, rng);
        } finally {
          x.dispose();
        }
        out.push({ group: g.name, classes: g.classes, model, source: 'refit' });
      }
      log(`  [${g.name}] ${out[out.length - 1].source === 'refit' ? 'refitted on the training features' : `weights from ${displayPath(out[out.length - 1].source)}`}`);
    }
  } finally {
    fsTrain.features.dispose();
  }
  return { cfg, groups: out, dispose: () => out.forEach((g) => g.model.dispose()) };
}
