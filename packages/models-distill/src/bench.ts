// Speed of us / mkd / psvdd at their default (paper-profile) shapes, batch 8, one Adam step, random inputs:
// `<m>_train_step_ms`, `<m>_predict_ms` (8 images) and `<m>_train_gflops` (the step's achieved GFLOP/s, from an
// analytic count of the convolutions' multiply-adds: forward × 3 for forward + backward).
import type { Scalar, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import { tf, Rng, tensorFitData, TrainConfigSchema, makeGradientStep, optimizerFromConfig, type Batch, type FitData, type Method, type Sample } from '@unified-ad/core';
import { Mkd, MkdConfigSchema, MKD_CHANNELS } from './mkd/mkd';
import { UninformedStudents, UsConfigSchema, US_CHANNELS } from './us/us';
import { PatchSvdd, PsvddConfigSchema } from './psvdd/psvdd';

const sample = (i: number): Sample => ({ id: `s${i}`, className: 'x', split: 'train', label: 0, defectType: 'good', imagePath: `#${i}` });

function randomData(n: number, size: number, grid: number, channels: number): { data: FitData; features?: Tensor4D } {
  const rng = new Rng(0);
  const img = new Uint8Array(n * size * size * 3);
  for (let i = 0; i < img.length; i++) img[i] = Math.floor(rng.uniform() * 256);
  const features = channels ? (rng.normalTensor([n, grid, grid, channels]) as Tensor4D) : undefined;
  return { data: tensorFitData(Array.from({ length: n }, (_, i) => sample(i)), { features, images: { size, data: img } }), features };
}

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

function timeStep(vars: Map<string, Variable>, loss: (b: Batch, r: Rng) => Scalar, data: FitData, batch: number, steps: number): number {
  const opt = optimizerFromConfig(TrainConfigSchema.parse({ lr: 1e-4, optimizer: { name: 'adam' }, clipNorm: null }), vars);
  const step = makeGradientStep(vars, loss, opt, null);
  const idx = Array.from({ length: batch }, (_, i) => i);
  const rng = new Rng(1);
  const ts: number[] = [];
  for (let k = 0; k <= steps; k++) {
    const t0 = process.hrtime.bigint();
    const [l, g] = tf.tidy(() => step(data.batch(idx), rng));
    l.dataSync();
    tf.dispose([l, g]);
    if (k) ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  opt.dispose();
  return ts.sort((a, b) => a - b)[ts.length >> 1];
}

function timePredict(m: Method, data: FitData, n: number): number {
  const t0 = process.hrtime.bigint();
  const p = tf.tidy(() => { const r = m.predict(data.batch(Array.from({ length: n }, (_, i) => i))); return [r.maps!, r.scores ?? tf.zeros([1])]; });
  p[0].dataSync();
  tf.dispose(p);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const r1 = (x: number) => Math.round(x * 10) / 10;

export async function benchDistill(steps = 3): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const B = 8;
  {
    const cfg = MkdConfigSchema.parse({});
    const C = MKD_CHANNELS.reduce((a, b) => a + b, 0);
    const { data, features } = randomData(B, cfg.size, 28, C);
    const m = new Mkd(cfg, C, 28, new Rng(0));
    const ms = timeStep(m.net.namedVariables(), (b) => m.loss(b), data, B, steps);
    out.mkd_train_step_ms = r1(ms);
    out.mkd_train_gflops = r1((3 * 2 * B * studentMacs(cfg.size, cfg.widths, cfg.convsPerStage, MKD_CHANNELS)) / (ms * 1e6));
    out.mkd_predict_ms = r1(timePredict(m, data, B));
    m.dispose(); features?.dispose();
  }
  {
    const cfg = UsConfigSchema.parse({});
    const C = US_CHANNELS.reduce((a, b) => a + b, 0);
    const { data, features } = randomData(B, cfg.size, 28, C);
    const m = new UninformedStudents(cfg, C, 28, new Rng(0));
    const ms = timeStep(m.ensemble.namedVariables(), (b) => m.loss(b), data, B, steps);
    out.us_train_step_ms = r1(ms);
    out.us_train_gflops = r1((3 * 2 * B * cfg.students * studentMacs(cfg.size, cfg.widths, cfg.convsPerStage, US_CHANNELS)) / (ms * 1e6));
    out.us_predict_ms = r1(timePredict(m, data, B));
    m.dispose(); features?.dispose();
  }
  {
    const cfg = PsvddConfigSchema.parse({ bankSize: 20000 });
    const { data } = randomData(B, cfg.size, 0, 0);
    const m = new PatchSvdd(cfg, new Rng(0));
    await m.fit(data, { train: TrainConfigSchema.parse({ epochs: 1, batchSize: B, optimizer: { name: 'adam' }, evalEvery: 0, clipNorm: null }), seed: 0, label: 'psvdd', log: () => {} });
    const ms = timeStep(m.net.namedVariables(), (b, r) => m.loss(b, r), data, B, steps);
    // per image: pos-64 and svdd-64 pairs (2 × 2 patches of 4 quadrants), pos-32 and svdd-32 pairs (2 × 2 patches)
    const perImage = 4 * 4 * encoderDeepMacs(32, cfg.width, cfg.D) + 4 * encoderDeepMacs(32, cfg.width, cfg.D);
    out.psvdd_train_step_ms = r1(ms);
    out.psvdd_train_gflops = r1((3 * 2 * B * perImage) / (ms * 1e6));
    out.psvdd_predict_ms = r1(timePredict(m, data, B));
    m.dispose();
  }
  return out;
}
