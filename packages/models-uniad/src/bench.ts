// Speed of UniAD at the paper's exact shape: C = 272, 14×14, d = 256, 4 + 4 layers, 8 heads, FFN 1024, batch 8,
// AdamW + clipping (one training step = forward, backward, clip, update).
import type { Scalar, Tensor, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, AdamW, clipByGlobalNorm } from '@unified-ad/core';
import { UniADConfigSchema } from './config';
import { UniAD } from './model';

export async function benchUniAD(opts: { steps?: number; warmup?: number } = {}): Promise<Record<string, number>> {
  const steps = opts.steps ?? 5, warmup = opts.warmup ?? 2;
  const rng = new Rng(0);
  const model = new UniAD(UniADConfigSchema.parse({}), 272, 14, rng);
  const vars = model.namedVariables();
  const varList = [...vars.values()];
  const names = new Map(varList.map((v, i) => [v.name, [...vars.keys()][i]]));
  const opt = new AdamW(vars, { lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-4 });
  const x = rng.normalTensor([8, 14, 14, 272]) as Tensor4D;
  const step = () => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => model.loss(x, rng) as Scalar, varList);
      const g = new Map<string, Tensor>(Object.entries(grads).map(([k, t]) => [names.get(k)!, t]));
      opt.apply(clipByGlobalNorm(g, 0.1).grads);
      return value;
    });
    loss.dataSync();
    loss.dispose();
  };
  const time = (f: () => void, n: number) => {
    for (let i = 0; i < warmup; i++) f();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    return Number(process.hrtime.bigint() - t0) / 1e6 / n;
  };
  const trainMs = time(step, steps);
  const inferMs = time(() => { const p = model.predict(x); p.maps.dataSync(); p.maps.dispose(); }, steps * 2);
  const params = model.parameterCount();
  x.dispose(); opt.dispose(); model.dispose();
  return { uniad_train_step_b8_ms: Math.round(trainMs * 10) / 10, uniad_infer_b8_ms: Math.round(inferMs * 10) / 10, uniad_params_c272: params };
}

if (require.main === module) benchUniAD().then((r) => console.log(JSON.stringify(r)));
