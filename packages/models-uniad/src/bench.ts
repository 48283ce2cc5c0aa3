// Speed of UniAD at the paper's exact shape: C = 272, 14×14, d = 256, 4 + 4 layers, 8 heads, FFN 1024, batch 8,
// AdamW + clipping (one training step = forward, backward, clip, update).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { Rng, benchReconstructor, nn } from '@unified-ad/core';
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

/**
 * The paper-shape step in float32 (`uniad_train_step_b8_ms`, `uniad_infer_b8_ms`) and with the linear layers'
 * matmuls in bfloat16 (`…_bf16_ms`, `nn.setMatmulPrecision('bf16')`; opt-in, not used by any profile yet).
 */
export async function benchUniAD(opts: { steps?: number; warmup?: number } = {}): Promise<Record<string, number>> {
  const r = (x: number) => Math.round(x * 10) / 10;
  const out: Record<string, number> = {};
  for (const p of ['fp32', 'bf16'] as const) {
    const before = nn.setMatmulPrecision(p);
    const rng = new Rng(0);
    const model = new UniAD(UniADConfigSchema.parse({}), 272, 14, rng);
    const x = rng.normalTensor([8, 14, 14, 272]) as Tensor4D;
    try {
      const { trainMs, inferMs } = benchReconstructor(model, x, opts.steps ?? 7, opts.warmup ?? 2);
      const tag = p === 'fp32' ? '' : '_bf16';
      out[`uniad_train_step_b8${tag}_ms`] = r(trainMs);
      out[`uniad_infer_b8${tag}_ms`] = r(inferMs);
      out.uniad_params_c272 = model.parameterCount();
    } finally {
      nn.setMatmulPrecision(before);
      x.dispose();
      model.dispose();
    }
  }
  return out;
}

/** Ours / PyTorch's time for the keys both benches produced (≤ 0.6 is issue #16's target). */
export function uniadTorchRatios(keys: Record<string, number | string>): Record<string, number> {
  const out: Record<string, number> = {};
  const ratio = (ours: string, torch: string, key: string) => {
    const a = keys[ours], b = keys[torch];
    if (typeof a === 'number' && typeof b === 'number' && b > 0) out[key] = Math.round((a / b) * 1000) / 1000;
  };
  ratio('uniad_train_step_b8_ms', 'uniad_torch_train_step_b8_ms', 'uniad_train_step_vs_torch');
  ratio('uniad_infer_b8_ms', 'uniad_torch_infer_b8_ms', 'uniad_infer_vs_torch');
  ratio('uniad_train_step_b8_bf16_ms', 'uniad_torch_train_step_b8_ms', 'uniad_train_step_bf16_vs_torch');
  ratio('uniad_infer_b8_bf16_ms', 'uniad_torch_infer_b8_ms', 'uniad_infer_bf16_vs_torch');
  return out;
}

if (require.main === module) benchUniAD().then((r) => console.log(JSON.stringify(r)));
