// One engine for every method: data → cached backbone features → fit (train or statistics) → test → results.
// Unified setting: one model on the normal images of all classes. Separate: one model per class.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import * as YAML from 'yaml';
import {
  tf, Rng, UserError, backboneDefaultLayers, createModel, getModelEntry, train, restoreCheckpoint, writeFileAtomic,
  type AnomalyModel, type Dataset, type FeatureSpec, type Sample, type EpochRecord,
} from '@unified-ad/core';
import { loadDataset, extractFeatures } from '@unified-ad/datasets';
import type { EvaluationResult as EvalResult, MetricValues } from '@unified-ad/eval';
import type { RunConfig } from './run-config';
import { predictAll, type Predictions } from './predict';
import { TestSet } from './testset';
import { describeEnvironment } from './environment';

export interface GroupResult {
  /** 'all' (unified) or the class name (separate) */
  group: string;
  classes: string[];
  parameters: number;
  fitSeconds: number;
  history: EpochRecord[];
  best: { epoch: number; value: number } | null;
  eval: EvalResult;
}

export interface RunResult {
  name: string;
  method: string;
  setting: 'unified' | 'separate';
  seed: number;
  per_class: Record<string, MetricValues>;
  mean: MetricValues;
  /** parameters of all models of the run (separate: the sum over the per-class models) */
  parameters_total: number;
  /** float32 memory of those parameters / statistics in MB (the paper's memory argument for the unified model) */
  weights_mb_total: number;
  models: number;
  groups: GroupResult[];
  feature_spec: FeatureSpec;
  seconds: number;
}

export interface RunOptions {
  /** run folder (config, env, logs, checkpoints, results) */
  outDir?: string;
  resume?: boolean;
  /** relative data paths are resolved against this folder (default: cwd) */
  baseDir?: string;
  log?: (line: string) => void;
  /** keep the final predictions (for pictures) */
  onPredictions?: (group: string, test: TestSet, pred: Predictions) => Promise<void> | void;
}

export async function resolveFeatureSpec(cfg: RunConfig): Promise<FeatureSpec> {
  const entry = getModelEntry(cfg.model.name);
  let layers = cfg.features.layers ?? entry.defaultFeatures.layers;
  if (!layers || layers.length === 0) layers = [...backboneDefaultLayers({ id: cfg.backbone.id, path: cfg.backbone.path })];
  return {
    backbone: cfg.backbone.id,
    layers,
    size: cfg.features.size ?? entry.defaultFeatures.size,
    inputSize: cfg.backbone.inputSize,
  };
}

/** Loads the dataset and splits it, restricted to cfg.classes when given. */
export async function loadRunData(cfg: RunConfig, baseDir?: string): Promise<{ dataset: Dataset; trainSamples: Sample[]; testSamples: Sample[]; classes: string[] }> {
  const dataset = await loadDataset(cfg.data, { baseDir, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  let classes = dataset.classes;
  if (cfg.classes) {
    for (const c of cfg.classes) if (!classes.includes(c)) throw new UserError(`classes: '${c}' is not in the dataset (has: ${classes.join(', ')})`);
    classes = cfg.classes;
  }
  const keep = new Set(classes);
  const trainSamples = dataset.samples.filter((s) => s.split === 'train' && keep.has(s.className));
  const testSamples = dataset.samples.filter((s) => s.split === 'test' && keep.has(s.className));
  for (const c of classes) {
    if (!trainSamples.some((s) => s.className === c)) throw new UserError(`class '${c}' has no training images`);
    if (!testSamples.some((s) => s.className === c)) throw new UserError(`class '${c}' has no test images`);
  }
  return { dataset, trainSamples, testSamples, classes };
}

function gatherRows(t: Tensor4D, idx: number[]): Tensor4D {
  return tf.tidy(() => tf.gather(t, tf.tensor1d(idx, 'int32')) as Tensor4D);
}

function meanOf(per: Record<string, MetricValues>): MetricValues {
  const out: Record<string, number> = {};
  const keys = new Set(Object.values(per).flatMap((v) => Object.keys(v)));
  for (const k of keys) {
    const vals = Object.values(per).map((v) => (v as Record<string, number>)[k]).filter((x) => Number.isFinite(x));
    out[k] = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : NaN;
  }
  return out as MetricValues;
}

export async function runExperiment(cfg: RunConfig, opts: RunOptions = {}): Promise<RunResult> {
  const t0 = Date.now();
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const entry = getModelEntry(cfg.model.name);
  const outDir = opts.outDir;
  if (outDir) {
    fs.mkdirSync(outDir, { recursive: true });
    writeFileAtomic(path.join(outDir, 'config.yaml'), YAML.stringify(cfg));
    writeFileAtomic(path.join(outDir, 'env.json'), JSON.stringify(describeEnvironment(cfg.seed), null, 2));
  }
  const { dataset, trainSamples, testSamples, classes } = await loadRunData(cfg, opts.baseDir);
  const spec = await resolveFeatureSpec(cfg);
  log(`${cfg.name}: ${entry.name} (${cfg.setting}) on ${classes.length} class(es): ${trainSamples.length} train / ${testSamples.length} test images; features ${spec.layers.join('+')} @${spec.size}`);

  // one call for train + test: the backbone is built at most once, and only when the cache misses
  const all = await extractFeatures(dataset, [...trainSamples, ...testSamples], spec, { batchSize: cfg.features.batchSize, backboneOptions: { path: cfg.backbone.path } });
  const nTr = trainSamples.length;
  const fsTrain = { features: all.features.slice([0, 0, 0, 0], [nTr, -1, -1, -1]) as Tensor4D };
  const fsTest = { features: all.features.slice([nTr, 0, 0, 0], [testSamples.length, -1, -1, -1]) as Tensor4D };
  all.features.dispose();
  const [, grid, , channels] = fsTrain.features.shape;

  const groups = cfg.setting === 'unified' ? [{ name: 'all', classes }] : classes.map((c) => ({ name: c, classes: [c] }));
  const results: GroupResult[] = [];
  try {
    for (const g of groups) {
      const inGroup = new Set(g.classes);
      const trIdx = trainSamples.flatMap((s, i) => (inGroup.has(s.className) ? [i] : []));
      const teIdx = testSamples.flatMap((s, i) => (inGroup.has(s.className) ? [i] : []));
      const trainX = gatherRows(fsTrain.features, trIdx);
      const testX = gatherRows(fsTest.features, teIdx);
      const test = await TestSet.load(dataset, teIdx.map((i) => testSamples[i]), cfg.eval.resolution);
      const rng = new Rng(cfg.seed);
      const model: AnomalyModel = createModel(entry.name, cfg.model.config, { inChannels: channels, gridSize: grid, rng });
      const groupDir = outDir ? (cfg.setting === 'unified' ? outDir : path.join(outDir, 'separate', g.name)) : undefined;
      const tg = Date.now();
      let history: EpochRecord[] = [];
      let best: GroupResult['best'] = null;
      const evalNow = (metrics = cfg.eval.metrics) => test.evaluate(predictAll(model, testX, cfg.eval), cfg.eval, metrics as never);
      try {
        if (model.kind === 'trainable') {
          const r = await train({
            model, features: trainX, config: { ...cfg.train, seed: cfg.seed }, outDir: groupDir, resume: opts.resume,
            label: `${entry.name}/${g.name}`,
            evaluate: async () => evalNow(cfg.eval.periodicMetrics) as unknown as Record<string, unknown>,
            onEpoch: (rec) => {
              if (rec.eval) {
                const m = (rec.eval as unknown as EvalResult).mean;
                log(`  [${g.name}] epoch ${rec.epoch}: loss ${rec.train_loss.toExponential(3)}  I-AUROC ${fmt(m.i_auroc)}  P-AUROC ${fmt(m.p_auroc)}`);
              }
            },
          });
          history = r.history;
          best = r.best;
          if (r.interrupted) throw new UserError(`interrupted at epoch ${r.lastEpoch}; resume with --resume`);
        } else {
          await model.fit({ samples: trIdx.map((i) => trainSamples[i]), features: trainX }, rng);
        }
        const fitSeconds = (Date.now() - tg) / 1000;
        const pred = predictAll(model, testX, cfg.eval);
        const ev = test.evaluate(pred, cfg.eval, cfg.eval.metrics as never);
        await opts.onPredictions?.(g.name, test, pred);
        results.push({ group: g.name, classes: g.classes, parameters: model.parameterCount(), fitSeconds, history, best, eval: ev });
        log(`  [${g.name}] done in ${fitSeconds.toFixed(1)} s: ` + g.classes.map((c) => `${c} I ${fmt(ev.per_class[c]?.i_auroc)} P ${fmt(ev.per_class[c]?.p_auroc)}`).join(', '));
      } finally {
        model.dispose();
        trainX.dispose();
        testX.dispose();
      }
    }
  } finally {
    fsTrain.features.dispose();
    fsTest.features.dispose();
  }
  const per_class: Record<string, MetricValues> = {};
  for (const r of results) for (const c of r.classes) per_class[c] = r.eval.per_class[c];
  const result: RunResult = {
    name: cfg.name, method: entry.name, setting: cfg.setting, seed: cfg.seed, per_class, mean: meanOf(per_class),
    parameters_total: results.reduce((a, r) => a + r.parameters, 0),
    weights_mb_total: (results.reduce((a, r) => a + r.parameters, 0) * 4) / 2 ** 20,
    models: results.length, groups: results,
    feature_spec: spec, seconds: (Date.now() - t0) / 1000,
  };
  if (outDir) writeFileAtomic(path.join(outDir, 'results.json'), JSON.stringify(result, null, 2));
  return result;
}

/** Loads a trained reconstructor from a run folder's checkpoint (best or last). */
export function loadTrainedWeights(model: AnomalyModel, file: string): void {
  if (model.kind !== 'trainable') throw new UserError(`${file}: only trainable models have checkpoints`);
  restoreCheckpoint(file, model.namedVariables());
}

const fmt = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '  -  ' : (100 * x).toFixed(2));
