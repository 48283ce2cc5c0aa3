// Speed of UniAD at the paper's exact shape: C = 272, 14×14, d = 256, 4 + 4 layers, 8 heads, FFN 1024, batch 8,
// AdamW + clipping (one training step = forward, backward, clip, update).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { Rng, benchReconstructor, engineInfo } from '@unified-ad/core';
import { UniADConfigSchema } from './config';
import { UniAD } from './model';

/**
 * The same step in PyTorch on this machine, now (reference/uniad_torch_bench.py), when python3 can import torch:
 * keys uniad_torch_train_step_b8_ms, uniad_torch_infer_b8_ms. Throws when torch is absent (the bench skips it).
 */
export function benchUniADTorch(): Record<string, number | string> {
  const script = path.join(__dirname, '..', 'reference', 'uniad_torch_bench.py');
  const j = childJson('python3', [script, '--steps', '7'], 'PyTorch reference not run', process.env);
  return { uniad_torch_version: j.torch_version!, uniad_torch_train_step_b8_ms: j.torch_uniad_train_step_b8_ms!, uniad_torch_infer_b8_ms: j.torch_uniad_infer_b8_ms! };
}

/** Runs a bench child and returns the JSON object on the last line of its stdout; throws `what (last stderr line)`. */
function childJson(cmd: string, args: string[], what: string, env: NodeJS.ProcessEnv): Record<string, number | string> {
  const c = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, env });
  if (c.status !== 0) throw new Error(`${what} (${(c.stderr || c.error?.message || `${cmd} failed`).trim().split('\n').pop()})`);
  return JSON.parse(c.stdout.trim().split('\n').pop()!) as Record<string, number | string>;
}

/**
 * The paper-shape step in this process's oneDNN math mode: float32 (`uniad_train_step_b8_ms`, `uniad_infer_b8_ms`)
 * or, under UNIFIED_AD_FPMATH=bf16, bfloat16 matmuls and convolutions (`…_bf16_ms`). TensorFlow fixes the mode per
 * process, so a float32 process then measures the bf16 pair in a child process, one after the other, never at the
 * same time; if the child fails, the float32 pair is still returned (and the failure said on stderr).
 */
export async function benchUniAD(opts: { steps?: number; warmup?: number } = {}): Promise<Record<string, number>> {
  const r = (x: number) => Math.round(x * 10) / 10;
  const out: Record<string, number> = {};
  const rng = new Rng(0);
  const model = new UniAD(UniADConfigSchema.parse({}), 272, 14, rng);
  const x = rng.normalTensor([8, 14, 14, 272]) as Tensor4D;
  try {
    const { trainMs, inferMs } = benchReconstructor(model, x, opts.steps ?? 7, opts.warmup ?? 2);
    const tag = engineInfo.fpmath === 'bf16' ? '_bf16' : '';
    out[`uniad_train_step_b8${tag}_ms`] = r(trainMs);
    out[`uniad_infer_b8${tag}_ms`] = r(inferMs);
    out.uniad_params_c272 = model.parameterCount();
  } finally {
    x.dispose();
    model.dispose();
  }
  if (engineInfo.fpmath === 'fp32') {
    try {
      Object.assign(out, benchUniADBf16(opts));
    } catch (e) {
      process.stderr.write(`bench uniad: bf16 pair skipped (${(e as Error).message})\n`);
    }
  }
  return out;
}

/** The same bench in a child process with UNIFIED_AD_FPMATH=bf16 (its keys end in `_bf16_ms`). */
export function benchUniADBf16(opts: { steps?: number; warmup?: number } = {}): Record<string, number> {
  const args = ['-r', 'ts-node/register/transpile-only', __filename, String(opts.steps ?? 7), String(opts.warmup ?? 2)];
  return childJson(process.execPath, args, 'bf16 bench child failed', { ...process.env, UNIFIED_AD_FPMATH: 'bf16' }) as Record<string, number>;
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

if (require.main === module) {
  const [steps, warmup] = process.argv.slice(2).map(Number);
  benchUniAD({ steps: steps || undefined, warmup: Number.isFinite(warmup) ? warmup : undefined }).then((r) => console.log(JSON.stringify(r)));
}
