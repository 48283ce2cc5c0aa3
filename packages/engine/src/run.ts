// One engine for every method: data → the inputs it declared (cached backbone features, decoded images) → fit →
// state saved → predict → metrics → results.
// Unified setting: one model on the normal images of all classes. Separate: one model per class.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import {
  Rng, UserError, acquireLock, createModel, getModelEntry, loadCheckpoint, saveCheckpoint, tensorFitData, writeFileAtomic,
  type Dataset, type FeatureSpec, type Method, type Sample, type EpochRecord,
} from '@unified-ad/core';
import { backboneWeightsHash } from '@unified-ad/backbones';
import { loadDataset } from '@unified-ad/datasets';
import type { MetricValues } from '@unified-ad/eval';
import type { RunConfig } from './run-config';
import { predictAll, type Predictions } from './predict';
import { TestSet, type EvalResult } from './testset';
import { MapKeeper } from './kept-maps';
import { heldOutRows, makeSyntheticValidation, syntheticScores, type SyntheticValidation } from './monitor';
import { assertSameRun, dataListing, runFingerprint, writeFingerprint, type Fingerprint } from './fingerprint';
import { describeEnvironment } from './environment';
import { disposeInputs, loadInputs, methodBackbone, resolveFeatureSpec, resolveInputs, runBackboneOptions, selectRows, type InputSet } from './inputs';

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
  /** the model that results report: the last epoch, or the one the label-free monitor picked (train.select) */
  selected?: { epoch: number; by: 'last' | 'val.synthetic' };
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
  if (opts.resume && outDir && !fs.existsSync(path.join(outDir, 'config.yaml')))
    throw new UserError(`--resume: ${outDir} holds no run to continue (no config.yaml); leave out --resume to start one there`);
  const { dataset, trainSamples, testSamples, classes } = await loadRunData(cfg, opts.baseDir);
  // before anything is written to the folder: reading the engine settings checks them (a bad UNIFIED_AD_* value is
  // a one-line error here, not a half-made run folder that then asks for --resume)
  const env = outDir ? describeEnvironment(cfg.seed) : null;
  let release: (() => void) | null = null;
  if (outDir) {
    fs.mkdirSync(outDir, { recursive: true });
    // one writer per run folder; a second gets one line naming the owner
    release = acquireLock(outDir, `${entry.name} run`);
    // what determines the numbers: a resumed run must have been made with the same config, data and weights
    const fp = await fingerprintOf(cfg, [...trainSamples, ...testSamples]);
    if (opts.resume) {
      for (const w of assertSameRun(outDir, fp, { missing: 'warn' })) log(`warning: ${w}`);
    }
    writeFingerprint(outDir, fp);
    writeFileAtomic(path.join(outDir, 'config.yaml'), YAML.stringify(cfg));
    writeFileAtomic(path.join(outDir, 'env.json'), JSON.stringify(env, null, 2));
  }
  try {
    return await runLocked(cfg, opts, { dataset, trainSamples, testSamples, classes }, t0, log);
  } finally {
    release?.();
  }
}

/** The fingerprint of a run: its resolved config (less its name), the listing of its data, the backbone weights. */
export async function fingerprintOf(cfg: RunConfig, samples: Sample[]): Promise<Fingerprint> {
  const spec = await resolveFeatureSpec(cfg);
  const weightsSha256 = spec || resolveInputs(cfg).backbone ? await backboneWeightsHash(runBackboneOptions(cfg)) : null;
  return runFingerprint({ config: cfg, dataListing: dataListing(samples), weightsSha256, ignoreKeys: ['name'] });
}

async function runLocked(
  cfg: RunConfig, opts: RunOptions, d: { dataset: Dataset; trainSamples: Sample[]; testSamples: Sample[]; classes: string[] }, t0: number, log: (l: string) => void,
): Promise<RunResult> {
  const { dataset, trainSamples, testSamples, classes } = d;
  const entry = getModelEntry(cfg.model.name);
  const outDir = opts.outDir;
  const spec = await resolveFeatureSpec(cfg);
  const inputs = resolveInputs(cfg);
  const imageSize = inputs.images?.size ?? 0;
  const reads = [spec ? `features ${spec.layers.join('+')} @${spec.size}` : null, imageSize ? `images @${imageSize}` : null, inputs.backbone ? `its own passes of ${cfg.backbone.id}` : null].filter(Boolean).join(', ');
  log(`${cfg.name}: ${entry.name} (${cfg.setting}) on ${classes.length} class(es): ${trainSamples.length} train / ${testSamples.length} test images; ${reads}`);

  // one call for train + test: the backbone is built at most once, and only when the cache misses
  // rows 0..nTr−1 are the training samples, nTr.. the test samples; each model selects its rows from this set
  const all = await loadInputs(cfg, dataset, [...trainSamples, ...testSamples], spec);
  const nTr = trainSamples.length;
  const [, grid, , channels] = all.features?.shape ?? [0, 0, 0, 0];
  // the label-free monitor's held-out images (none unless train.monitor / train.select ask for it)
  const monitorK = cfg.train.monitor || (cfg.train.select === 'synthetic' ? 8 : 0);
  if (monitorK > 0 && cfg.train.evalEvery === 0) {
    disposeInputs(all);
    throw new UserError(`train.monitor / train.select=synthetic need periodic evaluation: set train.evalEvery > 0`);
  }

  const groups = cfg.setting === 'unified' ? [{ name: 'all', classes }] : classes.map((c) => ({ name: c, classes: [c] }));
  const results: GroupResult[] = [];
  let backbone: Awaited<ReturnType<typeof methodBackbone>> = null;
  try {
    backbone = await methodBackbone(cfg);
    for (const g of groups) {
      const inGroup = new Set(g.classes);
      const trAll = trainSamples.flatMap((s, i) => (inGroup.has(s.className) ? [i] : []));
      const held = heldOutRows(trAll.length, monitorK, cfg.seed).map((k) => trAll[k]!);
      const heldSet = new Set(held);
      const trIdx = trAll.filter((i) => !heldSet.has(i));
      let val: SyntheticValidation | null = null;
      if (held.length) {
        const heldX = selectRows(all, held);
        val = makeSyntheticValidation(heldX, held.map((i) => trainSamples[i]!), cfg.seed);
        disposeInputs(heldX);
      }
      const teIdx = testSamples.flatMap((s, i) => (inGroup.has(s.className) ? [i] : []));
      const trainX: InputSet = selectRows(all, trIdx);
      const testX: InputSet = selectRows(all, teIdx.map((i) => nTr + i));
      const trainData = tensorFitData(trIdx.map((i) => trainSamples[i]), trainX);
      const testData = tensorFitData(teIdx.map((i) => testSamples[i]), testX);
      const test = await TestSet.load(dataset, teIdx.map((i) => testSamples[i]), cfg.eval.resolution);
      const rng = new Rng(cfg.seed);
      const model: Method = createModel(entry.name, cfg.model.config, { inChannels: channels, gridSize: grid, imageSize, rng, ...(backbone ? { backbone } : {}) });
      const groupDir = outDir ? (cfg.setting === 'unified' ? outDir : path.join(outDir, 'separate', g.name)) : undefined;
      const tg = Date.now();
      // eval.keepMaps: the maps of a few anomalous test images, from the predictions of each periodic evaluation
      const keeper = MapKeeper.create({ groupDir, keep: cfg.eval.keepMaps, maxSize: cfg.eval.keepMapsSize, resolution: cfg.eval.resolution, test, dataset, resume: !!opts.resume });
      const evalNow = async (epoch: number) => {
        const pred = predictAll(model, testData, cfg.eval);
        await keeper?.write(epoch, pred);
        return test.evaluate(pred, cfg.eval, cfg.eval.periodicMetrics as never);
      };
      try {
        const r = await model.fit(trainData, {
          train: { ...cfg.train, seed: cfg.seed, ...(cfg.train.select === 'synthetic' ? { bestKey: 'val.select' } : {}) }, seed: cfg.seed, outDir: groupDir, resume: opts.resume,
          label: `${entry.name}/${g.name}`, log,
          evaluate: async (epoch) => {
            const r = (await evalNow(epoch)) as unknown as Record<string, unknown>;
            if (val) {
              const v = syntheticScores(model, val);
              r.val = { ...v, select: v.synthetic_p_auroc ?? v.synthetic_i_auroc };
            }
            return r;
          },
          onEpoch: (rec) => {
            if (rec.eval) {
              const m = (rec.eval as unknown as EvalResult).mean;
              const sc = (rec.eval as unknown as EvalResult).shortcut?.ratio;
              log(`  [${g.name}] epoch ${rec.epoch}: loss ${rec.train_loss.toExponential(3)}  I-AUROC ${fmt(m.i_auroc)}  P-AUROC ${fmt(m.p_auroc)}${sc !== undefined ? `  shortcut ${sc.toFixed(2)}` : ''}`);
            }
          },
        });
        // maps of epochs after the checkpoint a resumed run started from were rewritten; any left over are dropped
        keeper?.prune(r.history.filter((h) => h.eval).map((h) => h.epoch));
        if (keeper && !r.history.some((h) => h.eval)) log(`  [${g.name}] eval.keepMaps: no periodic evaluation (${entry.name} has no training loop, or train.evalEvery = 0): no maps kept`);
        if (r.interrupted) throw new InterruptedError(`interrupted at epoch ${r.lastEpoch}; resume with --resume`);
        let selected: GroupResult['selected'] = { epoch: r.lastEpoch, by: 'last' };
        if (cfg.train.select === 'synthetic') {
          const bestFile = groupDir ? path.join(groupDir, 'checkpoints', 'best.ckpt') : null;
          if (!r.best || !bestFile || !fs.existsSync(bestFile)) throw new UserError(`train.select=synthetic: no checkpoint was selected (the method kept no best checkpoint${groupDir ? '' : '; a run folder is needed'})`);
          try {
            if (model.loadTrainingCheckpoint) await model.loadTrainingCheckpoint(loadCheckpoint(bestFile), bestFile, trainData);
            else model.loadState(loadCheckpoint(bestFile), bestFile);
          } catch (e) {
            throw new UserError(`train.select=synthetic: ${entry.name} cannot restore its training checkpoint ${path.basename(bestFile)} as a fitted model (${(e as Error).message})`);
          }
          selected = { epoch: r.best.epoch, by: 'val.synthetic' };
          log(`  [${g.name}] selected epoch ${r.best.epoch} by the label-free monitor (val.synthetic ${fmt(r.best.value)})`);
        }
        const fitSeconds = (Date.now() - tg) / 1000;
        if (groupDir) {
          fs.mkdirSync(groupDir, { recursive: true });
          saveCheckpoint(path.join(groupDir, STATE_FILE), model.state());
        }
        const pred = predictAll(model, testData, cfg.eval);
        const ev = test.evaluate(pred, cfg.eval, cfg.eval.metrics as never);
        await opts.onPredictions?.(g.name, test, pred);
        results.push({ group: g.name, classes: g.classes, parameters: model.parameterCount(), fitSeconds, history: r.history, best: r.best, selected, eval: ev });
        log(`  [${g.name}] done in ${fitSeconds.toFixed(1)} s: ` + g.classes.map((c) => `${c} I ${fmt(ev.per_class[c]?.i_auroc)} P ${fmt(ev.per_class[c]?.p_auroc)}`).join(', '));
      } finally {
        model.dispose();
        val?.dispose();
        disposeInputs(trainX);
        disposeInputs(testX);
      }
    }
  } finally {
    backbone?.dispose();
    disposeInputs(all);
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
