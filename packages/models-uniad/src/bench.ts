// Speed of UniAD at the paper's exact shape: C = 272, 14×14, d = 256, 4 + 4 layers, 8 heads, FFN 1024, batch 8,
// AdamW + clipping (one training step = forward, backward, clip, update).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { Rng, benchReconstructor } from '@unified-ad/core';
import { UniADConfigSchema } from './config';
import { UniAD } from './model';

/**
 * The same step in PyTorch on this machine, now (reference/uniad_torch_bench.py), when python3 can import torch:
 * keys uniad_torch_train_step_b8_ms, uniad_torch_infer_b8_ms. Throws when torch is absent (the bench skips it).
 */
export function benchUniADTorch(): Record<string, number | string> {
  const script = path.join(__dirname, '..', 'reference', 'uniad_torch_bench.py');
  const r = spawnSync('python3', [script, '--steps', '7'], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`PyTorch reference not run (${(r.stderr || r.error?.message || 'python3 failed').trim().split('\n').pop()})`);
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | string>;
  return { uniad_torch_version: j.torch_version!, uniad_torch_train_step_b8_ms: j.torch_uniad_train_step_b8_ms!, uniad_torch_infer_b8_ms: j.torch_uniad_infer_b8_ms! };
}

export async function benchUniAD(opts: { steps?: number; warmup?: number } = {}): Promise<Record<string, number>> {
  const rng = new Rng(0);
  const model = new UniAD(UniADConfigSchema.parse({}), 272, 14, rng);
  const x = rng.normalTensor([8, 14, 14, 272]) as Tensor4D;
  const { trainMs, inferMs } = benchReconstructor(model, x, opts.steps ?? 7, opts.warmup ?? 2);
  const params = model.parameterCount();
  x.dispose();
  model.dispose();
  return { uniad_train_step_b8_ms: Math.round(trainMs * 10) / 10, uniad_infer_b8_ms: Math.round(inferMs * 10) / 10, uniad_params_c272: params };
}

if (require.main === module) benchUniAD().then((r) => console.log(JSON.stringify(r)));
