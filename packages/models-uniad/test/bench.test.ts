import { describe, expect, it } from 'vitest';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { Rng, benchReconstructor, engineInfo, tf } from '@unified-ad/core';
import { UniAD, UniADConfigSchema, benchUniAD, uniadTorchRatios } from '../src';

describe('npm run bench: the UniAD part', () => {
  it('ratios against PyTorch are ours / theirs, only for keys both sides measured', () => {
    expect(uniadTorchRatios({ uniad_train_step_b8_ms: 600, uniad_torch_train_step_b8_ms: 1000, uniad_infer_b8_ms: 90, uniad_torch_infer_b8_ms: 300, uniad_train_step_b8_bf16_ms: 450 }))
      .toEqual({ uniad_train_step_vs_torch: 0.6, uniad_infer_vs_torch: 0.3, uniad_train_step_bf16_vs_torch: 0.45 });
    expect(uniadTorchRatios({ uniad_train_step_b8_ms: 600, uniad_torch_version: '2.13' })).toEqual({});
  });

  it.skipIf(engineInfo.backend !== 'tensorflow')('times fp32 steps at the paper shape here and bf16 ones in a child process in math mode bf16, leaks nothing', async () => {
    // one tiny training step first: the engine's first random mask caches a constant (kept for the process)
    const warm = new UniAD(UniADConfigSchema.parse({ hiddenDim: 32, heads: 2, ffnDim: 64, encoderLayers: 1, decoderLayers: 1 }), 16, 14, new Rng(0));
    const x = new Rng(1).normalTensor([2, 14, 14, 16]) as Tensor4D;
    benchReconstructor(warm, x, 1, 0);
    x.dispose(); warm.dispose();
    const n0 = tf.memory().numTensors;
    const r = await benchUniAD({ steps: 1, warmup: 0 });
    for (const k of ['uniad_train_step_b8_ms', 'uniad_infer_b8_ms', 'uniad_train_step_b8_bf16_ms', 'uniad_infer_b8_bf16_ms']) expect(r[k]).toBeGreaterThan(0);
    expect(r.uniad_params_c272).toBe(7717392);
    expect(engineInfo.fpmath).toBe('fp32'); // the child's mode does not leak into this process
    expect(tf.memory().numTensors).toBe(n0);
  }, 120_000);
});
