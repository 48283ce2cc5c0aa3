// Speed of draem / cutpaste / fcdd at their cpu profiles (`npm run bench selfsup`; experiments/configs/<m>-cpu.yaml:
// image size, network, batch and optimizer), random 0..255 images, on the native engine:
// `<m>_train_step_ms` (median of one optimizer step at the profile's batch, the host-side anomaly generation inside
// the loss included), `<m>_predict_ms` (per image, median predict of one batch) and `<m>_train_gflops` (the step's
// achieved GFLOP/s from an analytic count of the convolutions' and linear layers' multiply-adds, forward × 3 for
// forward + backward; BatchNorm, pooling, resizing, losses and the augmentation count nothing).
import type { Scalar, Variable } from '@tensorflow/tfjs-node';
import {
  Rng, TrainConfigSchema, benchFitData, timeTrainStep, timePredict, convMacs, trainGflops, createModel, parseModelConfig, requireNativeEngine,
  type Batch, type Method,
} from '@unified-ad/core';
import { createBackbone } from '@unified-ad/backbones';
import type { FrozenPrefix } from './common';
import { levelWidths, type DraemConfig } from './draem';
import type { CutPasteConfig } from './cutpaste';
import { FCDD_LAYOUT, type FcddConfig } from './fcdd';

export type SelfsupMethod = 'draem' | 'cutpaste' | 'fcdd';
export interface BenchProfile {
  /** model.config (parsed with the method's schema) */
  model: Record<string, unknown>;
  /** train keys that shape the step: batchSize, lr, optimizer, clipNorm */
  train: { batchSize: number } & Record<string, unknown>;
}

/**
 * The model and step keys of experiments/configs/<m>-cpu.yaml (a test checks they still agree). The frozen prefix of
 * FCDD and CutPaste is the embedded MobileNetV2 here (the same network as the ImageNet one, bundled, so the bench runs offline).
 */
export const SELFSUP_CPU_PROFILES: Record<SelfsupMethod, BenchProfile> = {
  draem: {
    model: { size: 64, recWidth: 16, recDepth: 4, discWidth: 8, discDepth: 4, source: 'image' },
    train: { batchSize: 8, lr: 0.001, optimizer: { name: 'adam' }, clipNorm: null },
  },
  cutpaste: {
    model: { encoder: 'backbone', size: 128, channels: [256], convsPerStage: 1, headLayers: [256, 128], variant: '3way' },
    train: { batchSize: 16, lr: 0.03, optimizer: { name: 'sgd', momentum: 0.9, weightDecay: 0.00003 }, clipNorm: null },
  },
  fcdd: {
    model: { encoder: 'backbone', size: 128, width: 16, gaussStd: 7, confettiSize: [4, 29] },
    train: { batchSize: 16, lr: 0.01, optimizer: { name: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 0.0001 }, clipNorm: null },
  },
};

/** Multiply-adds of one DraemUNet forward pass on an S-px image (encoder double convs, decoder up-conv + double conv, output conv). */
export function draemUNetMacs(size: number, inC: number, outC: number, base: number, depth: number, skips: boolean): number {
  const c = levelWidths(base, depth);
  const side = (l: number) => size / 2 ** l;
  let macs = 0;
  for (let l = 0; l < depth; l++) macs += convMacs(side(l), side(l), 3, l ? c[l - 1]! : inC, c[l]!) + convMacs(side(l), side(l), 3, c[l]!, c[l]!);
  for (let l = depth - 2; l >= 0; l--) {
    const s = side(l);
    macs += convMacs(s, s, 3, c[l + 1]!, c[l + 1]!) + convMacs(s, s, 3, c[l + 1]! + (skips ? c[l]! : 0), c[l]!) + convMacs(s, s, 3, c[l]!, c[l]!);
  }
  return macs + convMacs(size, size, 3, c[0]!, outC);
}

/** Multiply-adds of DRAEM's forward pass (reconstructive RGB → RGB, then discriminative 6 → 2) on one image. */
export const draemMacs = (cfg: DraemConfig): number =>
  draemUNetMacs(cfg.size, 3, 3, cfg.recWidth, cfg.recDepth, false) + draemUNetMacs(cfg.size, 6, 2, cfg.discWidth, cfg.discDepth, true);

/** Multiply-adds of CutPasteNet's forward pass on one view (encoder convs, head and classifier; not a frozen prefix). */
export function cutPasteMacs(cfg: CutPasteConfig, prefixChannels = 0): number {
  // encoder 'backbone': the stages start on the frozen prefix's map (size / stride, prefixChannels), which counts nothing
  const bb = cfg.encoder === 'backbone';
  let macs = 0, inC = bb ? prefixChannels : 3, s = bb ? Math.floor(cfg.size / cfg.backboneStride) : cfg.size;
  cfg.channels.forEach((c, st) => {
    if (st > 0) s = Math.floor(s / 2);
    for (let k = 0; k < cfg.convsPerStage; k++) { macs += convMacs(s, s, 3, inC, c); inC = c; }
  });
  let inF = inC;
  for (const f of [...cfg.headLayers, cutPasteClasses(cfg)]) { macs += inF * f; inF = f; }
  return macs;
}
const cutPasteClasses = (cfg: CutPasteConfig) => (cfg.variant === '3way' ? 3 : 2);

/**
 * Multiply-adds of FCDD's trained layers' forward pass on one image: FcddNet (VGG11-style convs, the final 1×1), or
 * with encoder 'backbone' the FcddHead above the frozen prefix of `prefixChannels` channels at stride 8 (the frozen
 * prefix counts nothing: it runs forward only and is not FCDD's network).
 */
export function fcddMacs(cfg: FcddConfig, prefixChannels = 0): number {
  if (cfg.encoder === 'backbone') {
    const s = cfg.size / 8, h = 8 * cfg.width;
    return convMacs(s, s, 3, prefixChannels, h) + convMacs(s, s, 3, h, h) + convMacs(s, s, 1, h, 1);
  }
  let macs = 0, inC = 3, s = cfg.size;
  for (const l of FCDD_LAYOUT) {
    if (l === 'M') { s = Math.floor(s / 2); continue; }
    macs += convMacs(s, s, 3, inC, l * cfg.width);
    inC = l * cfg.width;
  }
  return macs + convMacs(s, s, 1, inC, 1);
}

type Trainable = Method & { net: { namedVariables(): Map<string, Variable> }; loss(b: Batch, r: Rng): Scalar; config: { size: number }; prefix?: FrozenPrefix | null };

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;

/**
 * `{draem,cutpaste,fcdd}_train_step_ms`, `_predict_ms` (per image), `_train_gflops` at the cpu profiles
 * (or `profiles`' overrides, e.g. tiny ones in a test). `steps` timed steps after one warm-up; predict: median of
 * `predictReps` calls on the profile's batch after one warm-up call.
 */
export async function benchSelfsup(opts: { steps?: number; predictReps?: number; profiles?: Partial<Record<SelfsupMethod, BenchProfile>> } = {}): Promise<Record<string, number>> {
  requireNativeEngine();
  const steps = opts.steps ?? 3;
  const out: Record<string, number> = {};
  for (const name of ['draem', 'cutpaste', 'fcdd'] as const) {
    const prof = opts.profiles?.[name] ?? SELFSUP_CPU_PROFILES[name];
    const cfg = parseModelConfig(name, prof.model) as { size: number };
    const B = prof.train.batchSize;
    const train = TrainConfigSchema.parse({ ...prof.train, epochs: 1, evalEvery: 0, maxMinutes: null, schedule: { kind: 'constant' } });
    const { data } = benchFitData(B, cfg.size);
    const backbone = (cfg as { encoder?: string }).encoder === 'backbone' ? await createBackbone({ id: 'mobilenet_v2_embedded' }) : null;
    const m = createModel(name, cfg, { inChannels: 0, gridSize: 0, imageSize: cfg.size, rng: new Rng(0), ...(backbone ? { backbone } : {}) }) as Trainable;
    // the frozen prefix the model chose (its channels feed the first trained layer)
    const prefixChannels = m.prefix?.channels ?? 0;
    try {
      const ms = timeTrainStep(m.net.namedVariables(), (b, r) => m.loss(b, r), data, B, { steps, train });
      const stepMacs =
        name === 'draem' ? B * draemMacs(cfg as DraemConfig)
        : name === 'cutpaste' ? B * cutPasteClasses(cfg as CutPasteConfig) * cutPasteMacs(cfg as CutPasteConfig, prefixChannels) // the originals + one copy per augmentation
        : B * fcddMacs(cfg as FcddConfig, prefixChannels);
      out[`${name}_train_step_ms`] = r1(ms);
      out[`${name}_train_gflops`] = r2(trainGflops(stepMacs, ms));
      // CutPaste scores need its density of the training embeddings: fit it by one epoch (one step) on the same images
      if (name === 'cutpaste') await m.fit(data, { train, seed: 0, label: 'bench', log: () => {} });
      out[`${name}_predict_ms`] = r2(timePredict(m, data, B, { reps: opts.predictReps ?? 3, warmup: 1 }) / B);
    } finally {
      m.dispose();
      backbone?.dispose();
    }
  }
  return out;
}
