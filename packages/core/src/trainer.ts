// One trainer for every feature reconstructor (UniAD, MLP, CNN, Transformer): AdamW, StepLR, gradient clipping
// by global norm, evaluation every k epochs, best/last checkpoints with exact resume, JSONL + TensorBoard logs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Scalar, Tensor, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import { z } from 'zod';
import { tf } from './engine';
import { Rng, type RngState } from './rng';
import type { Reconstructor } from './types';
import { AdamW, stepLR } from './optim/adamw';
import { loadCheckpoint, saveCheckpoint, type CheckpointTensor } from './checkpoint';
import { TensorBoardWriter } from './tensorboard';
import { progress } from './progress';
import { UserError } from './errors';

export const TrainConfigSchema = z
  .object({
    epochs: z.number().int().positive().default(1000),
    batchSize: z.number().int().positive().default(8),
    lr: z.number().positive().default(1e-4),
    betas: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.9, 0.999]),
    eps: z.number().positive().default(1e-8),
    weightDecay: z.number().min(0).default(1e-4),
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

/** Snapshot of everything that resume needs. */
function makeCheckpoint(vars: Map<string, Variable>, opt: AdamW, meta: Record<string, unknown>) {
  const tensors: CheckpointTensor[] = [];
  for (const [name, v] of vars) tensors.push({ name: `model/${name}`, shape: v.shape, data: v.dataSync() as Float32Array });
  const st = opt.getState();
  for (const [name, [m, v]] of st.slots) {
    const shape = vars.get(name)!.shape;
    tensors.push({ name: `adam_m/${name}`, shape, data: m }, { name: `adam_v/${name}`, shape, data: v });
  }
  return { meta: { ...meta, optStep: st.step, optLr: st.lr }, tensors };
}

/** Loads model weights (and optionally optimizer state) from a checkpoint file. */
export function restoreCheckpoint(file: string, vars: Map<string, Variable>, opt?: AdamW): Record<string, unknown> {
  const ck = loadCheckpoint(file);
  const byName = new Map(ck.tensors.map((t) => [t.name, t]));
  for (const [name, v] of vars) {
    const t = byName.get(`model/${name}`);
    if (!t) throw new UserError(`${file}: checkpoint has no weights for '${name}' (was it made by another model/config?)`);
    if (t.shape.join('x') !== v.shape.join('x'))
      throw new UserError(`${file}: '${name}' has shape [${t.shape}] in the checkpoint but [${v.shape}] in the model`);
    v.assign(tf.tensor(t.data, v.shape));
  }
  if (opt) {
    const slots = new Map<string, [Float32Array, Float32Array]>();
    for (const name of vars.keys()) {
      const m = byName.get(`adam_m/${name}`), v = byName.get(`adam_v/${name}`);
      if (m && v) slots.set(name, [m.data, v.data]);
    }
    opt.setState({ step: ck.meta.optStep as number, lr: ck.meta.optLr as number, slots });
  }
  return ck.meta;
}

/**
 * One optimisation step: loss and gradients of the model's variables, clipping by global norm (null = off),
 * AdamW update. Returns [loss, pre-clip gradient norm] as tensors (call inside tf.tidy).
 */
export function makeTrainStep(model: Reconstructor, opt: AdamW, clipNorm: number | null): (batch: Tensor4D, rng: Rng) => [Tensor, Tensor] {
  const vars = model.namedVariables();
  const varList = [...vars.values()];
  const nameOf = new Map(varList.map((v, i) => [v.name, [...vars.keys()][i]]));
  return (batch, rng) => {
    const { value, grads } = tf.variableGrads(() => model.loss(batch, rng) as Scalar, varList);
    const g = new Map<string, Tensor>();
    for (const [k, t] of Object.entries(grads)) g.set(nameOf.get(k)!, t);
    return [value, opt.apply(g, clipNorm)];
  };
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

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { model, features, config: cfg } = opts;
  const n = features.shape[0];
  if (n === 0) throw new UserError('no training features (empty training set)');
  const vars = model.namedVariables();
  const opt = new AdamW(vars, { lr: cfg.lr, betas: cfg.betas as [number, number], eps: cfg.eps, weightDecay: cfg.weightDecay });
  const trainStep = makeTrainStep(model, opt, cfg.clipNorm);
  let rng = new Rng(cfg.seed);
  let startEpoch = 0;
  let best: { epoch: number; value: number } | null = null;
  const history: EpochRecord[] = [];

  const ckDir = opts.outDir ? path.join(opts.outDir, 'checkpoints') : null;
  const jsonl = opts.outDir ? path.join(opts.outDir, 'metrics.jsonl') : null;
  if (ckDir) fs.mkdirSync(ckDir, { recursive: true });

  if (opts.resume && ckDir && fs.existsSync(path.join(ckDir, 'last.ckpt'))) {
    const meta = restoreCheckpoint(path.join(ckDir, 'last.ckpt'), vars, opt);
    startEpoch = meta.epoch as number;
    rng = new Rng(meta.rng as RngState);
    best = (meta.best as typeof best) ?? null;
    // drop log lines of epochs after the checkpoint (an epoch in progress when it stopped)
    if (jsonl && fs.existsSync(jsonl)) {
      const kept = fs
        .readFileSync(jsonl, 'utf8')
        .split('\n')
        .filter((l) => l.trim() && (JSON.parse(l).epoch ?? 0) <= startEpoch);
      fs.writeFileSync(jsonl, kept.map((l) => l + '\n').join(''));
      for (const l of kept) history.push(JSON.parse(l));
    }
  } else if (jsonl && fs.existsSync(jsonl)) {
    fs.rmSync(jsonl);
  }
  const tb = opts.outDir ? new TensorBoardWriter(path.join(opts.outDir, 'tb')) : null;

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupt: stopping; the last completed epoch is checkpointed (resume with --resume). Ctrl-C again to quit now.\n');
  };
  process.on('SIGINT', onSigint);

  const stepsPerEpoch = Math.ceil(n / cfg.batchSize);
  const endEpoch = Math.min(cfg.epochs, opts.stopAfterEpoch ?? cfg.epochs);
  const bar = progress(opts.label ?? 'train', (endEpoch - startEpoch) * stepsPerEpoch);
  let totalSteps = 0;
  let totalStepTime = 0;
  let finalLoss = NaN;
  let epochsRun = 0;
  try {
    for (let e = startEpoch; e < endEpoch && !interrupted; e++) {
      const t0 = Date.now();
      opt.lr = stepLR(cfg.lr, e, cfg.lrStepSize, cfg.lrGamma);
      const perm = rng.permutation(n);
      let lossSum: Tensor = tf.scalar(0);
      let normSum: Tensor = tf.scalar(0);
      for (let s = 0; s < stepsPerEpoch; s++) {
        if (interrupted) break;
        const ts = process.hrtime.bigint();
        const idx = perm.slice(s * cfg.batchSize, (s + 1) * cfg.batchSize);
        const [loss, norm] = tf.tidy(() => trainStep(tf.gather(features, tf.tensor1d(idx, 'int32')) as Tensor4D, rng));
        const ls = lossSum.add(loss), ns = normSum.add(norm);
        lossSum.dispose(); normSum.dispose(); loss.dispose(); norm.dispose();
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
      if (opts.evaluate && cfg.evalEvery > 0 && (epoch % cfg.evalEvery === 0 || epoch === cfg.epochs || outOfTime)) {
        rec.eval = await opts.evaluate(epoch);
        const v = getPath(rec.eval, cfg.bestKey);
        if (v !== undefined && (best === null || v > best.value)) {
          best = { epoch, value: v };
          if (ckDir) saveCheckpoint(path.join(ckDir, 'best.ckpt'), makeCheckpoint(vars, opt, { epoch, rng: rng.getState(), best, kind: 'best' }));
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
      if (ckDir) saveCheckpoint(path.join(ckDir, 'last.ckpt'), makeCheckpoint(vars, opt, { epoch, rng: rng.getState(), best, kind: 'last' }));
      opts.onEpoch?.(rec);
      if (outOfTime) {
        if (e + 1 < endEpoch) process.stderr.write(`${opts.label ?? 'train'}: time budget train.maxMinutes=${cfg.maxMinutes} reached after epoch ${epoch}\n`);
        break;
      }
    }
  } finally {
    bar.stop();
    process.off('SIGINT', onSigint);
    tb?.close();
    opt.dispose();
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

function flatten(obj: unknown, prefix: string, out: Record<string, number>): void {
  if (typeof obj === 'number') out[prefix] = obj;
  else if (obj && typeof obj === 'object') for (const [k, v] of Object.entries(obj)) flatten(v, `${prefix}/${k}`, out);
}
