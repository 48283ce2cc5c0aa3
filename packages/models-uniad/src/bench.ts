// Speed of UniAD at the paper's exact shape: C = 272, 14×14, d = 256, 4 + 4 layers, 8 heads, FFN 1024, batch 8,
// AdamW + clipping (one training step = forward, backward, clip, update).
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { Rng, benchReconstructor } from '@unified-ad/core';
import { UniADConfigSchema } from './config';
import { UniAD } from './model';

export async function benchUniAD(opts: { steps?: number; warmup?: number } = {}): Promise<Record<string, number>> {
  const rng = new Rng(0);
  const model = new UniAD(UniADConfigSchema.parse({}), 272, 14, rng);
  const x = rng.normalTensor([8, 14, 14, 272]) as Tensor4D;
  const { trainMs, inferMs } = benchReconstructor(model, x, opts.steps ?? 5, opts.warmup ?? 2);
  const params = model.parameterCount();
  x.dispose();
  model.dispose();
  return { uniad_train_step_b8_ms: Math.round(trainMs * 10) / 10, uniad_infer_b8_ms: Math.round(inferMs * 10) / 10, uniad_params_c272: params };
}

if (require.main === module) benchUniAD().then((r) => console.log(JSON.stringify(r)));
