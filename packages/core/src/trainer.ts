// The gradient loop every gradient-trained method calls from its `fit` (method.ts): shuffled batches from the
// seeded Rng, the method's loss, an optimizer (AdamW by default) with a per-epoch lr schedule, gradient clipping by
// global norm, evaluation every k epochs, best/last checkpoints (weights, buffers, optimizer slots, RNG state) with
// exact resume, JSONL + TensorBoard logs, Ctrl-C within one step.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Scalar, Tensor, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import { z } from 'zod';
import { tf } from './engine';
import { Rng, type RngState } from './rng';
import type { Reconstructor } from './types';
import type { Batch, BatchLoss, FitContext, FitData, FitReport, Trainable } from './method';
import { loadVariablesState, variablesState } from './method';
import { AdamW, stepLR } from './optim/adamw';
import { OptimizerConfigSchema, createOptimizer } from './optim/config';
import { ScheduleConfigSchema, lrAt } from './optim/schedules';
import { tensorFitData } from './fit-data';
import { loadCheckpoint, saveCheckpoint, type CheckpointTensor } from './checkpoint';
import { TensorBoardWriter } from './tensorboard';
import { progress } from './progress';
import { UserError } from './errors';
import { parseJsonlLines } from './config';

export const TrainConfigSchema = z
  .object({
    epochs: z.number().int().positive().default(1000),
    batchSize: z.number().int().positive().default(8),
    lr: z.number().positive().default(1e-4),
    betas: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.9, 0.999]),
    eps: z.number().positive().default(1e-8),
    weightDecay: z.number().min(0).default(1e-4),
    /**
     * optimizer other than the default AdamW(betas, eps, weightDecay above), e.g. {name: sgd, momentum: 0.9,
     * nesterov: true, weightDecay: 1e-4}; null = that default
     */
    optimizer: OptimizerConfigSchema.nullable().default(null),
    /** lr schedule other than the default StepLR(lrStepSize, lrGamma), e.g. {kind: cosine}; null = that default */
    schedule: ScheduleConfigSchema.nullable().default(null),
    /** StepLR: multiply lr by gamma every stepSize epochs */
    lrStepSize: z.number().int().positive().default(800),
    lrGamma: z.number().positive().default(0.1),
    /** clip gradients to this global L2 norm; null = off */
    clipNorm: z.number().positive().nullable().default(0.1),
    /** evaluate every k epochs (and after the last); 0 = never */
    evalEvery: z.number().int().min(0).default(10),
    /** time budget: stop (and evaluate) after the first epoch that ends past this many minutes of training and
     * evaluation, counted over resumes; null = run all epochs. The LR schedule still follows `epochs`. */
    maxMinutes: z.number().positive().nullable().default(null),
    /** metric (dotted path into the evaluation result) that picks the best checkpoint; higher is better */
    bestKey: z.string().default('mean.p_auroc'),
    /**
     * label-free monitor: this many normal training images are held out of training and, with synthetic
     * cut-paste anomalies, evaluated at every periodic evaluation (val.synthetic_*); 0 = off
     */
    monitor: z.number().int().min(0).default(0),
    /**
     * which model the run reports: 'last' (the final epoch) or 'synthetic' (the epoch with the best
     * val.synthetic_p_auroc of the monitor, chosen without test labels; holds out 8 images unless monitor is set)
     */
    select: z.enum(['last', 'synthetic']).default('last'),
    seed: z.number().int().default(133),
  })
  .strict();
export type TrainConfig = z.infer<typeof TrainConfigSchema>;

export type EvalResult = Record<string, unknown>;

export interface TrainOptions {
  model: Reconstructor;
  /** training features [N, H, W, C] (kept by the caller; not disposed here) */
  features: Tensor4D;
  config: TrainConfig;
  /** run folder: checkpoints/, metrics.jsonl, tb/ (omit to keep nothing on disk) */
  outDir?: string;
  /** continue from outDir/checkpoints/last.ckpt if present */
  resume?: boolean;
  /** evaluation callback (epoch counted from 1) */
  evaluate?: (epoch: number) => Promise<EvalResult>;
  /** called after each epoch with its log record */
  onEpoch?: (record: EpochRecord) => void;
  /** label for progress output */
  label?: string;
  /** stop after this many epochs in this call (for tests of resume); the schedule still follows config.epochs */
  stopAfterEpoch?: number;
}

export interface EpochRecord {
  epoch: number;
  step: number;
  train_loss: number;
  grad_norm: number;
  lr: number;
  time_s: number;
  /** wall seconds since the start of training (training and evaluation, over resumes) at the end of this epoch */
  elapsed_s?: number;
  eval?: EvalResult;
}

export interface TrainResult {
  epochsRun: number;
  lastEpoch: number;
  finalLoss: number;
  best: { epoch: number; value: number } | null;
  history: EpochRecord[];
  interrupted: boolean;
  secondsPerStep: number;
}

export function getPath(obj: unknown, dotted: string): number | undefined {
  let cur: unknown = obj;
  for (const p of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return typeof cur === 'number' ? cur : undefined;
}

/** Optimizer surface the loop needs (AdamW, Adam, SGD). */
export interface LoopOptimizer {
  lr: number;
  apply(grads: Map<string, Tensor>, clipNorm: number | null): Tensor;
  getState(): { step: number; lr: number; slots: Map<string, Float32Array[] | [Float32Array, Float32Array]> };
  setState(s: { step: number; lr: number; slots: Map<string, Float32Array[]> }): void;
  dispose(): void;
}

/** Checkpoint tensor names of optimizer slot k (AdamW's m / v keep their historical names). */
const slotName = (k: number, name: string) => (k === 0 ? `adam_m/${name}` : k === 1 ? `adam_v/${name}` : `slot${k}/${name}`);

/** Snapshot of everything that resume needs: the weights and buffers as a method state, plus optimizer slots. */
function makeCheckpoint(vars: Map<string, Variable>, buffers: Map<string, Variable>, opt: LoopOptimizer, meta: Record<string, unknown>) {
  const tensors: CheckpointTensor[] = variablesState(vars, buffers).tensors;
  const st = opt.getState();
  for (const [name, slots] of st.slots) {
    const shape = vars.get(name)!.shape;
    slots.forEach((data, k) => tensors.push({ name: slotName(k, name), shape, data }));
  }
  return { meta: { ...meta, optStep: st.step, optLr: st.lr }, tensors };
}

/** Loads model weights (and optionally buffers and optimizer state) from a checkpoint file. */
export function restoreCheckpoint(file: string, vars: Map<string, Variable>, opt?: LoopOptimizer, buffers?: Map<string, Variable>): Record<string, unknown> {
  const ck = loadCheckpoint(file);
  loadVariablesState(ck, file, vars, buffers);
  const byName = new Map(ck.tensors.map((t) => [t.name, t]));
  if (opt) {
    const slots = new Map<string, Float32Array[]>();
    for (const name of vars.keys()) {
      const list: Float32Array[] = [];
      for (let k = 0; byName.has(slotName(k, name)); k++) list.push(byName.get(slotName(k, name))!.data);
      if (list.length) slots.set(name, list);
    }
    opt.setState({ step: ck.meta.optStep as number, lr: ck.meta.optLr as number, slots });
  }
  return ck.meta;
}

/**
 * One optimisation step: loss and gradients of `vars`, clipping by global norm (null = off), optimizer update.
 * Returns [loss, pre-clip gradient norm] as tensors (call inside tf.tidy).
 */
export function makeGradientStep<B>(vars: Map<string, Variable>, loss: (batch: B, rng: Rng) => Scalar, opt: LoopOptimizer, clipNorm: number | null): (batch: B, rng: Rng) => [Tensor, Tensor] {
  const varList = [...vars.values()];
  const keys = [...vars.keys()];
  const nameOf = new Map(varList.map((v, i) => [v.name, keys[i]]));
  return (batch, rng) => {
    const { value, grads } = tf.variableGrads(() => loss(batch, rng), varList);
    const g = new Map<string, Tensor>();
    for (const [k, t] of Object.entries(grads)) g.set(nameOf.get(k)!, t);
    return [value, opt.apply(g, clipNorm)];
  };
}

/** makeGradientStep for a feature reconstructor (features in, loss out). */
export function makeTrainStep(model: Reconstructor, opt: LoopOptimizer, clipNorm: number | null): (batch: Tensor4D, rng: Rng) => [Tensor, Tensor] {
  return makeGradientStep(model.namedVariables(), (b: Tensor4D, r: Rng) => model.loss(b, r), opt, clipNorm);
}

/** Median ms of a paper-style training step (AdamW, clipping 0.1) and of an inference batch of `x`. */
export function benchReconstructor(model: Reconstructor, x: Tensor4D, steps: number, warmup = 1): { trainMs: number; inferMs: number } {
  const rng = new Rng(0);
  const opt = new AdamW(model.namedVariables(), { lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-4 });
  const step = makeTrainStep(model, opt, 0.1);
  const time = (f: () => void, n: number) => {
    for (let i = 0; i < warmup; i++) f();
    const ts: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      f();
      ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return ts.sort((a, b) => a - b)[n >> 1]!; // the median: the machine may be shared
  };
  const readAndDispose = (t: Tensor) => { t.dataSync(); t.dispose(); };
  const trainMs = time(() => {
    const [loss, norm] = tf.tidy(() => step(x, rng));
    readAndDispose(loss);
    norm.dispose();
  }, steps);
  const inferMs = time(() => readAndDispose(model.predict(x).maps), steps * 2);
  opt.dispose();
  return { trainMs, inferMs };
}

export interface GradientFitOptions {
  /** the network: trainable variables (and buffers) */
  net: Trainable;
  /** training-mode loss of a batch; all randomness from the rng */
  loss: BatchLoss;
  data: FitData;
  ctx: FitContext;
  /** the method's own optimizer (its parameter groups); default: built from ctx.train */
  optimizer?: LoopOptimizer;
  /** the method's own lr at an epoch (counted from 0); default: from ctx.train */
  lrAt?: (epoch: number) => number;
}

/** The optimizer of a train config: `optimizer`, else AdamW with its betas / eps / weight decay. */
export function optimizerFromConfig(cfg: TrainConfig, vars: Map<string, Variable>): LoopOptimizer {
  if (cfg.optimizer) return createOptimizer(cfg.optimizer, vars, cfg.lr) as unknown as LoopOptimizer;
  return new AdamW(vars, { lr: cfg.lr, betas: cfg.betas as [number, number], eps: cfg.eps, weightDecay: cfg.weightDecay }) as unknown as LoopOptimizer;
}

/** The lr schedule of a train config: `schedule`, else StepLR(lrStepSize, lrGamma). */
export function lrFromConfig(cfg: TrainConfig): (epoch: number) => number {
  if (cfg.schedule) return (e) => lrAt(cfg.schedule!, cfg.lr, e, cfg.epochs);
  return (e) => stepLR(cfg.lr, e, cfg.lrStepSize, cfg.lrGamma);
}

/** Lets the event loop run (a pending SIGINT handler), at about a microsecond per call. */
const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));


/**
 * The records of a metrics.jsonl written by a run that may have been killed: a last line cut short by the kill
 * belongs to the epoch in progress and is dropped; a bad line anywhere else means the file was damaged by
 * something else, and is a one-line error naming the file and line.
 */
export function readMetricsLog(file: string): { line: string; record: EpochRecord }[] {
  const damaged = (line: number): never => {
    throw new UserError(`${file}: line ${line} is not a JSON record (the file is damaged; delete it or the run folder and start again)`);
  };
  const { lines } = parseJsonlLines(fs.readFileSync(file, 'utf8'), damaged);
  return lines.map((l) => (l.value && typeof l.value === 'object' && !Array.isArray(l.value) ? { line: l.raw, record: l.value as EpochRecord } : damaged(l.line)));
}

/** The gradient loop: trains `net` on `data` with `loss`, as configured by ctx.train. */
export async function fitGradient(opts: GradientFitOptions): Promise<TrainResult> {
  const { net, loss, data, ctx } = opts;
  const cfg = ctx.train;
  const n = data.samples.length;
  if (n === 0) throw new UserError('no training data (empty training set)');
  const vars = net.namedVariables();
  const buffers = net.namedBuffers?.() ?? new Map<string, Variable>();
  const opt = opts.optimizer ?? optimizerFromConfig(cfg, vars);
  const lrAt = opts.lrAt ?? lrFromConfig(cfg);
  const trainStep = makeGradientStep(vars, loss, opt, cfg.clipNorm);
  let rng = new Rng(ctx.seed);
  let startEpoch = 0;
  let best: { epoch: number; value: number } | null = null;
  const history: EpochRecord[] = [];

  const ckDir = ctx.outDir ? path.join(ctx.outDir, 'checkpoints') : null;
  const jsonl = ctx.outDir ? path.join(ctx.outDir, 'metrics.jsonl') : null;
  if (ckDir) fs.mkdirSync(ckDir, { recursive: true });

  if (ctx.resume && ckDir && fs.existsSync(path.join(ckDir, 'last.ckpt'))) {
    const meta = restoreCheckpoint(path.join(ckDir, 'last.ckpt'), vars, opt, buffers);
    startEpoch = meta.epoch as number;
    rng = new Rng(meta.rng as RngState);
    best = (meta.best as typeof best) ?? null;
    // drop log lines of epochs after the checkpoint (an epoch in progress when it stopped)
    if (jsonl && fs.existsSync(jsonl)) {
      const kept = readMetricsLog(jsonl).filter((r) => (r.record.epoch ?? 0) <= startEpoch);
      fs.writeFileSync(jsonl, kept.map((r) => r.line + '\n').join(''));
      for (const r of kept) history.push(r.record);
    }
  } else if (jsonl && fs.existsSync(jsonl)) {
    fs.rmSync(jsonl);
  }
  const tb = ctx.outDir ? new TensorBoardWriter(path.join(ctx.outDir, 'tb')) : null;

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupt: stopping; the last completed epoch is checkpointed (resume with --resume). Ctrl-C again to quit now.\n');
  };
  process.on('SIGINT', onSigint);

  const stepsPerEpoch = Math.ceil(n / cfg.batchSize);
  const endEpoch = Math.min(cfg.epochs, ctx.stopAfterEpoch ?? cfg.epochs);
  const bar = progress(ctx.label ?? 'train', (endEpoch - startEpoch) * stepsPerEpoch);
  let totalSteps = 0;
  let totalStepTime = 0;
  let finalLoss = NaN;
  let epochsRun = 0;
  try {
    for (let e = startEpoch; e < endEpoch && !interrupted; e++) {
      const t0 = Date.now();
      opt.lr = lrAt(e);
      const perm = rng.permutation(n);
      let lossSum: Tensor = tf.scalar(0);
      let normSum: Tensor = tf.scalar(0);
      for (let s = 0; s < stepsPerEpoch; s++) {
        await yieldToEvents();
        if (interrupted) break;
        const ts = process.hrtime.bigint();
        const idx = perm.slice(s * cfg.batchSize, (s + 1) * cfg.batchSize);
        const [lossT, norm] = tf.tidy(() => trainStep(data.batch(idx), rng));
        const ls = lossSum.add(lossT), ns = normSum.add(norm);
        lossSum.dispose(); normSum.dispose(); lossT.dispose(); norm.dispose();
        lossSum = ls; normSum = ns;
        totalStepTime += Number(process.hrtime.bigint() - ts) / 1e9;
        totalSteps++;
        bar.tick(1);
      }
      if (interrupted) { lossSum.dispose(); normSum.dispose(); break; }
      const meanLoss = (lossSum.dataSync()[0]) / stepsPerEpoch;
      const meanNorm = (normSum.dataSync()[0]) / stepsPerEpoch;
      lossSum.dispose(); normSum.dispose();
      if (!Number.isFinite(meanLoss)) throw new UserError(`training diverged: loss is ${meanLoss} at epoch ${e + 1} (lower lr or check the features)`);
      const epoch = e + 1;
      const rec: EpochRecord = { epoch, step: epoch * stepsPerEpoch, train_loss: meanLoss, grad_norm: meanNorm, lr: opt.lr, time_s: (Date.now() - t0) / 1000 };
      const before = history.length ? (history[history.length - 1].elapsed_s ?? 0) : 0;
      const outOfTime = cfg.maxMinutes !== null && before + rec.time_s >= cfg.maxMinutes * 60;
      if (ctx.evaluate && cfg.evalEvery > 0 && (epoch % cfg.evalEvery === 0 || epoch === cfg.epochs || outOfTime)) {
        rec.eval = await ctx.evaluate(epoch);
        const v = getPath(rec.eval, cfg.bestKey);
        if (v !== undefined && (best === null || v > best.value)) {
          best = { epoch, value: v };
          if (ckDir) saveCheckpoint(path.join(ckDir, 'best.ckpt'), makeCheckpoint(vars, buffers, opt, { epoch, rng: rng.getState(), best, kind: 'best' }));
        }
      }
      rec.elapsed_s = Math.round((before + (Date.now() - t0) / 1000) * 1000) / 1000;
      history.push(rec);
      finalLoss = meanLoss;
      epochsRun++;
      if (jsonl) fs.appendFileSync(jsonl, JSON.stringify(rec) + '\n');
      if (tb) {
        const scalars: Record<string, number> = { 'train/loss': meanLoss, 'train/grad_norm': meanNorm, 'train/lr': opt.lr };
        if (rec.eval) flatten(rec.eval, 'eval', scalars);
        tb.scalars(epoch, scalars);
      }
      if (ckDir) saveCheckpoint(path.join(ckDir, 'last.ckpt'), makeCheckpoint(vars, buffers, opt, { epoch, rng: rng.getState(), best, kind: 'last' }));
      ctx.onEpoch?.(rec);
      if (outOfTime) {
        if (e + 1 < endEpoch) ctx.log(`${ctx.label ?? 'train'}: time budget train.maxMinutes=${cfg.maxMinutes} reached after epoch ${epoch}`);
        break;
      }
    }
  } finally {
    bar.stop();
    process.off('SIGINT', onSigint);
    tb?.close();
    if (!opts.optimizer) opt.dispose();
  }
  return {
    epochsRun,
    lastEpoch: history.length ? history[history.length - 1].epoch : startEpoch,
    finalLoss,
    best,
    history,
    interrupted,
    secondsPerStep: totalSteps ? totalStepTime / totalSteps : NaN,
  };
}

/** `train()` of a feature reconstructor on a features tensor (the v1 entry point; fitGradient underneath). */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { model, features } = opts;
  const data = tensorFitData(Array.from({ length: features.shape[0] }, (_, i) => syntheticSample(i)), { features });
  return fitGradient({
    net: model,
    loss: (b: Batch, rng: Rng) => model.loss(b.features!, rng),
    data,
    ctx: {
      train: opts.config, seed: opts.config.seed, outDir: opts.outDir, resume: opts.resume, label: opts.label ?? 'train',
      evaluate: opts.evaluate, onEpoch: opts.onEpoch, stopAfterEpoch: opts.stopAfterEpoch, log: (l) => process.stderr.write(l + '\n'),
    },
  });
}

const syntheticSample = (i: number) => ({ id: String(i), className: 'all', split: 'train' as const, label: 0 as const, defectType: 'good', imagePath: `#${i}` });

/** A FitReport from a TrainResult. */
export const fitReport = (r: TrainResult): FitReport => ({ history: r.history, best: r.best, interrupted: r.interrupted, lastEpoch: r.lastEpoch });

function flatten(obj: unknown, prefix: string, out: Record<string, number>): void {
  if (typeof obj === 'number') out[prefix] = obj;
  else if (obj && typeof obj === 'object') for (const [k, v] of Object.entries(obj)) flatten(v, `${prefix}/${k}`, out);
}
