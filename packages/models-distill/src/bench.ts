// Speed of us / mkd / psvdd at their default (paper-profile) shapes, batch 8, one Adam step, random inputs:
// `<m>_train_step_ms`, `<m>_predict_ms` (per image, from a batch of 8) and `<m>_train_gflops` (the step's achieved GFLOP/s, from an
// analytic count of the convolutions' multiply-adds: forward × 3 for forward + backward).
import { Rng, TrainConfigSchema, benchFitData, timeTrainStep, timePredict, trainGflops } from '@unified-ad/core';
import { Mkd, MkdConfigSchema, MKD_CHANNELS } from './mkd/mkd';
import { UninformedStudents, UsConfigSchema, US_CHANNELS } from './us/us';
import { PatchSvdd, PsvddConfigSchema } from './psvdd/psvdd';

const randomData = (n: number, size: number, grid: number, channels: number) => benchFitData(n, size, channels ? { features: [grid, channels] } : {});

/** Multiply-adds of one StudentCNN forward pass on an S-px image. */
export function studentMacs(size: number, widths: number[], convsPerStage: number, groups: number[]): number {
  let macs = 0, inC = 3, s = size;
  widths.forEach((w, st) => {
    for (let k = 0; k < convsPerStage; k++) { macs += s * s * 9 * inC * w; inC = w; }
    s = Math.floor(s / 2);
    const g = st - (widths.length - groups.length);
    if (g >= 0) macs += s * s * w * groups[g];
  });
  return macs;
}

/** Multiply-adds of EncoderDeep on a K-px input (dense: any K ≥ 32). */
export function encoderDeepMacs(K: number, width: number, D: number): number {
  const c = (n: number) => Math.max(1, Math.round(n * width));
  const ch = [3, c(32), c(64), c(128), c(128), c(64), c(32), c(32), D];
  let s = Math.floor((K - 3) / 2) + 1, macs = s * s * 9 * 3 * ch[1];
  for (let i = 1; i < 8; i++) { s -= 2; macs += s * s * 9 * ch[i] * ch[i + 1]; }
  return macs;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;

export async function benchDistill(steps = 3): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const B = 8;
  {
    const cfg = MkdConfigSchema.parse({});
    const C = MKD_CHANNELS.reduce((a, b) => a + b, 0);
    const { data, features } = randomData(B, cfg.size, 28, C);
    const m = new Mkd(cfg, C, 28, new Rng(0));
    const ms = timeTrainStep(m.net.namedVariables(), (b) => m.loss(b), data, B, { steps });
    out.mkd_train_step_ms = r1(ms);
    out.mkd_train_gflops = r1(trainGflops(B * studentMacs(cfg.size, cfg.widths, cfg.convsPerStage, MKD_CHANNELS), ms));
    out.mkd_predict_ms = r2(timePredict(m, data, B) / B);
    m.dispose(); features?.dispose();
  }
  {
    const cfg = UsConfigSchema.parse({});
    const C = US_CHANNELS.reduce((a, b) => a + b, 0);
    const { data, features } = randomData(B, cfg.size, 28, C);
    const m = new UninformedStudents(cfg, C, 28, new Rng(0));
    const ms = timeTrainStep(m.ensemble.namedVariables(), (b) => m.loss(b), data, B, { steps });
    out.us_train_step_ms = r1(ms);
    out.us_train_gflops = r1(trainGflops(B * cfg.students * studentMacs(cfg.size, cfg.widths, cfg.convsPerStage, US_CHANNELS), ms));
    out.us_predict_ms = r2(timePredict(m, data, B) / B);
    m.dispose(); features?.dispose();
  }
  {
    const cfg = PsvddConfigSchema.parse({ bankSize: 20000 });
    const { data } = randomData(B, cfg.size, 0, 0);
    const m = new PatchSvdd(cfg, new Rng(0));
    await m.fit(data, { train: TrainConfigSchema.parse({ epochs: 1, batchSize: B, optimizer: { name: 'adam' }, evalEvery: 0, clipNorm: null }), seed: 0, label: 'psvdd', log: () => {} });
    const ms = timeTrainStep(m.net.namedVariables(), (b, r) => m.loss(b, r), data, B, { steps });
    // per image: pos-64 and svdd-64 pairs (2 × 2 patches of 4 quadrants), pos-32 and svdd-32 pairs (2 × 2 patches)
    const perImage = 4 * 4 * encoderDeepMacs(32, cfg.width, cfg.D) + 4 * encoderDeepMacs(32, cfg.width, cfg.D);
    out.psvdd_train_step_ms = r1(ms);
    out.psvdd_train_gflops = r1(trainGflops(B * perImage, ms));
    out.psvdd_predict_ms = r2(timePredict(m, data, B) / B);
    m.dispose();
  }
  return out;
}
