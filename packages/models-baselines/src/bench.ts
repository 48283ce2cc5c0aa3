// Speed of the baselines at the shapes of the paper's comparisons (`npm run bench baselines`):
// reconstructors at C = 272 on 14×14, batch 8, one AdamW + clipping step (as UniAD's bench);
// PaDiM on a bottle-sized training set (209 × 28×28 × 152 channels, 100 kept); PatchCore on
// 209 × 28×28 × 128 with a 1 % coreset. Random features: PatchCore's coreset is at its slowest there
// (no redundancy among patches).
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, benchReconstructor, createModel, type FeatureReconstructorMethod, type StatisticalMethod } from '@unified-ad/core';
import './reconstructors/mlp';
import './reconstructors/cnn';
import './reconstructors/transformer';
import './padim';
import './patchcore';

const round = (x: number) => Math.round(x * 10) / 10;

function timeMs(f: () => void, n: number, warmup = 1): number {
  for (let i = 0; i < warmup; i++) f();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t0) / 1e6 / n;
}

function benchTrainable(name: string, steps: number): Record<string, number> {
  const rng = new Rng(0);
  const model = (createModel(name, {}, { inChannels: 272, gridSize: 14, rng }) as FeatureReconstructorMethod).net;
  const x = rng.normalTensor([8, 14, 14, 272]) as Tensor4D;
  const { trainMs, inferMs } = benchReconstructor(model, x, steps);
  const params = model.parameterCount();
  x.dispose();
  model.dispose();
  return { [`${name}_train_step_b8_ms`]: round(trainMs), [`${name}_infer_b8_ms`]: round(inferMs), [`${name}_params_c272`]: params };
}

async function benchStatistical(name: 'padim' | 'patchcore', channels: number): Promise<Record<string, number>> {
  const x = tf.tidy(() => tf.add(new Rng(1).normalTensor([209, 28, 28, channels]), tf.mul(new Rng(2).normalTensor([1, 28, 28, channels]), 2))) as Tensor4D;
  const test = x.slice([0, 0, 0, 0], [83, -1, -1, -1]) as Tensor4D;
  const model = (createModel(name, {}, { inChannels: channels, gridSize: 28, rng: new Rng(0) }) as StatisticalMethod).model;
  const t0 = process.hrtime.bigint();
  await model.fit({ samples: [], features: x }, new Rng(0));
  const fitMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const predictMs = timeMs(() => {
    for (let s = 0; s < 83; s += 16) {
      const p = model.predict(test.slice([s, 0, 0, 0], [Math.min(16, 83 - s), -1, -1, -1]) as Tensor4D);
      p.maps.dataSync();
      tf.dispose([p.maps, p.scores ?? []]);
    }
  }, 1, 0);
  model.dispose();
  tf.dispose([x, test]);
  return { [`${name}_fit_209_ms`]: round(fitMs), [`${name}_predict_83_ms`]: round(predictMs) };
}

export async function benchBaselines(opts: { steps?: number } = {}): Promise<Record<string, number>> {
  const steps = opts.steps ?? 3;
  const out: Record<string, number> = {};
  for (const name of ['mlp', 'cnn', 'transformer']) Object.assign(out, benchTrainable(name, steps));
  Object.assign(out, await benchStatistical('padim', 152));
  Object.assign(out, await benchStatistical('patchcore', 128));
  return out;
}

if (require.main === module) benchBaselines().then((r) => console.log(JSON.stringify(r)));
