// Median training-step and predict times of us / mkd / psvdd at the sizes of their cpu profiles (random inputs).
// npx ts-node -T packages/models-distill/scripts/step-time.ts [batch] [default|cpu]  (cpu: the configs of experiments/configs/<m>-cpu.yaml)
import type { Scalar, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import { tf, Rng, tensorFitData, TrainConfigSchema, makeGradientStep, optimizerFromConfig, type Method, type Sample } from '@unified-ad/core';
import { Mkd, MkdConfigSchema, UninformedStudents, UsConfigSchema, PatchSvdd, PsvddConfigSchema } from '../src';

const batch = Number(process.argv[2] ?? 16);
const cpu = process.argv[3] === 'cpu';
const CPU: Record<string, Record<string, unknown>> = { mkd: { size: 64 }, us: { size: 64, widths: [8, 16, 32, 64] }, psvdd: { size: 128, width: 0.5, bankSize: 20000 } };
const sample = (i: number): Sample => ({ id: `s${i}`, className: 'x', split: 'train', label: 0, defectType: 'good', imagePath: `#${i}` });

function data(n: number, size: number, grid: number, channels: number) {
  const rng = new Rng(0);
  const img = new Uint8Array(n * size * size * 3).map(() => Math.floor(rng.uniform() * 256));
  const features = channels ? (rng.normalTensor([n, grid, grid, channels]) as Tensor4D) : undefined;
  return tensorFitData(Array.from({ length: n }, (_, i) => sample(i)), { features, images: { size, data: img } });
}

function time(label: string, net: { namedVariables(): Map<string, Variable> }, loss: (b: ReturnType<ReturnType<typeof data>['batch']>, r: Rng) => Scalar, m: Method, d: ReturnType<typeof data>) {
  const cfg = TrainConfigSchema.parse({ lr: 1e-4, optimizer: { name: 'adam' }, clipNorm: null });
  const opt = optimizerFromConfig(cfg, net.namedVariables());
  const step = makeGradientStep(net.namedVariables(), loss, opt, null);
  const idx = Array.from({ length: batch }, (_, i) => i);
  const rng = new Rng(1);
  const ts: number[] = [];
  for (let k = 0; k < 4; k++) {
    const t0 = Date.now();
    const [l, g] = tf.tidy(() => step(d.batch(idx), rng));
    l.dataSync(); tf.dispose([l, g]);
    if (k) ts.push(Date.now() - t0);
  }
  ts.sort((a, b) => a - b);
  const t1 = Date.now();
  const p = tf.tidy(() => { const r = m.predict(d.batch(idx.slice(0, 8))); return [r.maps!, r.scores ?? tf.zeros([1])]; });
  p[0].dataSync(); tf.dispose(p);
  console.log(`${label}${cpu ? ' [cpu profile]' : ''}: train step (batch ${batch}) ${ts[1]} ms; predict 8 images ${Date.now() - t1} ms`);
  opt.dispose();
}

async function main() {
  {
    const cfg = MkdConfigSchema.parse(cpu ? CPU.mkd : {});
    const d = data(batch, cfg.size, 28, 168);
    const m = new Mkd(cfg, 168, 28, new Rng(0));
    time(`mkd ${JSON.stringify(cpu ? CPU.mkd : {})}`, m.net, (b) => m.loss(b), m, d);
    m.dispose();
  }
  {
    const cfg = UsConfigSchema.parse(cpu ? CPU.us : {});
    const d = data(batch, cfg.size, 28, 152);
    const m = new UninformedStudents(cfg, 152, 28, new Rng(0));
    time(`us ${JSON.stringify(cpu ? CPU.us : {})}`, m.ensemble, (b) => m.loss(b), m, d);
    m.dispose();
  }
  {
    const cfg = PsvddConfigSchema.parse(cpu ? CPU.psvdd : { bankSize: 20000 });
    const d = data(Math.max(batch, 8), cfg.size, 0, 0);
    const m = new PatchSvdd(cfg, new Rng(0));
    const t0 = Date.now();
    await m.fit(d, { train: TrainConfigSchema.parse({ epochs: 1, batchSize: batch, optimizer: { name: 'adam' }, evalEvery: 0, clipNorm: null }), seed: 0, label: 'psvdd', log: () => {} });
    console.log(`psvdd fit 1 epoch of ${batch} images + bank: ${Date.now() - t0} ms`);
    time(`psvdd ${JSON.stringify(cpu ? CPU.psvdd : {})}`, m.net, (b, r) => m.loss(b, r), m, d);
    m.dispose();
  }
}
main();
