// One engine for every method: data → the inputs it declared (cached backbone features, decoded images) → fit →
// state saved → predict → metrics → results.
// Unified setting: one model on the normal images of all classes. Separate: one model per class.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import {
  Rng, UserError, createModel, getModelEntry, saveCheckpoint, tensorFitData, writeFileAtomic,
  type Dataset, type FeatureSpec, type Method, type Sample, type EpochRecord,
} from '@unified-ad/core';
import { loadDataset } from '@unified-ad/datasets';
import type { EvaluationResult as EvalResult, MetricValues } from '@unified-ad/eval';
import type { RunConfig } from './run-config';
import { predictAll, type Predictions } from './predict';
import { TestSet } from './testset';
import { describeEnvironment } from './environment';
import { disposeInputs, loadInputs, resolveFeatureSpec, resolveInputs, selectRows, type InputSet } from './inputs';

/** File of a fitted model's state in its group folder (restored by `uniad eval` / `predict` without refitting). */
export const STATE_FILE = 'state.ckpt';

/** Ctrl-C during a run: the last finished epoch is checkpointed; the CLI exits with code 130. */
export class InterruptedError extends UserError {
  readonly exitCode = 130;
}

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
  /** backbone features read (null: the method reads images only) */
  feature_spec: FeatureSpec | null;
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
  const imageSize = resolveInputs(cfg).images?.size ?? 0;
  const reads = [spec ? `features ${spec.layers.join('+')} @${spec.size}` : null, imageSize ? `images @${imageSize}` : null].filter(Boolean).join(', ');
  log(`${cfg.name}: ${entry.name} (${cfg.setting}) on ${classes.length} class(es): ${trainSamples.length} train / ${testSamples.length} test images; ${reads}`);

  // one call for train + test: the backbone is built at most once, and only when the cache misses
  const all = await loadInputs(cfg, dataset, [...trainSamples, ...testSamples], spec);
  const nTr = trainSamples.length;
  const inTrain = selectRows(all, trainSamples.map((_, i) => i));
  const inTest = selectRows(all, testSamples.map((_, i) => nTr + i));
  disposeInputs(all);
  const [, grid, , channels] = inTrain.features?.shape ?? [0, 0, 0, 0];

  const groups = cfg.setting === 'unified' ? [{ name: 'all', classes }] : classes.map((c) => ({ name: c, classes: [c] }));
  const results: GroupResult[] = [];
  try {
    for (const g of groups) {
      const inGroup = new Set(g.classes);
      const trIdx = trainSamples.flatMap((s, i) => (inGroup.has(s.className) ? [i] : []));
      const teIdx = testSamples.flatMap((s, i) => (inGroup.has(s.className) ? [i] : []));
      const trainX: InputSet = selectRows(inTrain, trIdx);
      const testX: InputSet = selectRows(inTest, teIdx);
      const trainData = tensorFitData(trIdx.map((i) => trainSamples[i]), trainX);
      const testData = tensorFitData(teIdx.map((i) => testSamples[i]), testX);
      const test = await TestSet.load(dataset, teIdx.map((i) => testSamples[i]), cfg.eval.resolution);
      const rng = new Rng(cfg.seed);
      const model: Method = createModel(entry.name, cfg.model.config, { inChannels: channels, gridSize: grid, imageSize, rng });
      const groupDir = outDir ? (cfg.setting === 'unified' ? outDir : path.join(outDir, 'separate', g.name)) : undefined;
      const tg = Date.now();
      const evalNow = (metrics = cfg.eval.metrics) => test.evaluate(predictAll(model, testData, cfg.eval), cfg.eval, metrics as never);
      try {
        const r = await model.fit(trainData, {
          train: { ...cfg.train, seed: cfg.seed }, seed: cfg.seed, outDir: groupDir, resume: opts.resume,
          label: `${entry.name}/${g.name}`, log,
          evaluate: async () => evalNow(cfg.eval.periodicMetrics) as unknown as Record<string, unknown>,
          onEpoch: (rec) => {
            if (rec.eval) {
              const m = (rec.eval as unknown as EvalResult).mean;
              log(`  [${g.name}] epoch ${rec.epoch}: loss ${rec.train_loss.toExponential(3)}  I-AUROC ${fmt(m.i_auroc)}  P-AUROC ${fmt(m.p_auroc)}`);
            }
          },
        });
        if (r.interrupted) throw new InterruptedError(`interrupted at epoch ${r.lastEpoch}; resume with --resume`);
        const fitSeconds = (Date.now() - tg) / 1000;
        if (groupDir) {
          fs.mkdirSync(groupDir, { recursive: true });
          saveCheckpoint(path.join(groupDir, STATE_FILE), model.state());
        }
        const pred = predictAll(model, testData, cfg.eval);
        const ev = test.evaluate(pred, cfg.eval, cfg.eval.metrics as never);
        await opts.onPredictions?.(g.name, test, pred);
        results.push({ group: g.name, classes: g.classes, parameters: model.parameterCount(), fitSeconds, history: r.history, best: r.best, eval: ev });
        log(`  [${g.name}] done in ${fitSeconds.toFixed(1)} s: ` + g.classes.map((c) => `${c} I ${fmt(ev.per_class[c]?.i_auroc)} P ${fmt(ev.per_class[c]?.p_auroc)}`).join(', '));
      } finally {
        model.dispose();
        disposeInputs(trainX);
        disposeInputs(testX);
      }
    }
  } finally {
    disposeInputs(inTrain);
    disposeInputs(inTest);
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

const fmt = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '  -  ' : (100 * x).toFixed(2));
