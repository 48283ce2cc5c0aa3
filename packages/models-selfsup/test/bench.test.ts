// The bench part (`benchMethods`, `npm run bench selfsup`): every key finite and positive at tiny sizes, the
// profiles it times are the shipped cpu profiles, and the analytic multiply-add counts on hand-computed cases.
import { describe, it, expect } from 'vitest';
import * as path from 'node:path';
import type { Tensor4D, Variable } from '@tensorflow/tfjs-node';
import { tf, Rng, readYaml, repoRoot, parseModelConfig, createModel } from '@unified-ad/core';
import { benchMethods, SELFSUP_CPU_PROFILES, draemMacs, draemUNetMacs, cutPasteMacs, fcddMacs, type CutPasteConfig, type DraemConfig, type FcddConfig } from '../src';

describe('selfsup bench', () => {
  it('benchMethods reports step ms, predict ms per image and GFLOP/s for the three methods (tiny sizes)', async () => {
    const before = tf.memory().numTensors;
    const r = await benchMethods({
      steps: 1,
      predictReps: 1,
      profiles: {
        draem: { model: { size: 32, recWidth: 4, recDepth: 3, discWidth: 4, discDepth: 3, source: 'image' }, train: { batchSize: 2, lr: 1e-3, optimizer: { name: 'adam' }, clipNorm: null } },
        cutpaste: { model: { size: 32, channels: [8, 16], convsPerStage: 1, headLayers: [16] }, train: { batchSize: 2, lr: 0.01, optimizer: { name: 'sgd', momentum: 0.9 }, clipNorm: null } },
        fcdd: { model: { size: 32, width: 4 }, train: { batchSize: 2, lr: 0.01, optimizer: { name: 'sgd', momentum: 0.9, nesterov: true }, clipNorm: null } },
      },
    });
    const keys = ['draem', 'cutpaste', 'fcdd'].flatMap((m) => [`${m}_train_step_ms`, `${m}_train_gflops`, `${m}_predict_ms`]);
    expect(Object.keys(r).sort()).toEqual(keys.sort());
    for (const k of keys) {
      expect(Number.isFinite(r[k]), k).toBe(true);
      expect(r[k], k).toBeGreaterThan(0);
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('times the shipped cpu profiles (experiments/configs/<m>-cpu.yaml)', () => {
    for (const [name, prof] of Object.entries(SELFSUP_CPU_PROFILES)) {
      const y = readYaml(path.join(repoRoot(), 'experiments', 'configs', `${name}-cpu.yaml`)) as { model: { name: string; config: unknown }; train: Record<string, unknown> };
      expect(y.model.name).toBe(name);
      expect(parseModelConfig(name, prof.model)).toEqual(parseModelConfig(name, y.model.config));
      for (const k of ['batchSize', 'lr', 'optimizer', 'clipNorm']) expect(prof.train[k], `${name} train.${k}`).toEqual(y.train[k]);
    }
  });

  it('counts multiply-adds as the networks are built', () => {
    // FCDD width 1 at 16 px: 3→1 @16², M, 1→2 @8², M, 2→4, 4→4 @4², M, 4→8, 8→8 @2², 1×1 8→1 @2²
    const f = parseModelConfig('fcdd', { size: 16, width: 1 }) as FcddConfig;
    expect(fcddMacs(f)).toBe(256 * 9 * 3 + 64 * 9 * 2 + 16 * 9 * (8 + 16) + 4 * 9 * (32 + 64) + 4 * 8);
    // FCDD on a frozen prefix of 4 channels at stride 8, 16 px (2×2 cells), width 1 (8 channels): 4→8, 8→8, 1×1 8→1
    const fb = parseModelConfig('fcdd', { encoder: 'backbone', size: 16, width: 1 }) as FcddConfig;
    expect(fcddMacs(fb, 4)).toBe(4 * 9 * (4 * 8 + 8 * 8) + 4 * 8);
    // CutPaste 16 px, channels [2, 4], one conv per stage, head [5], 3 classes
    const c = parseModelConfig('cutpaste', { size: 16, channels: [2, 4], convsPerStage: 1, headLayers: [5] }) as CutPasteConfig;
    expect(cutPasteMacs(c)).toBe(256 * 9 * 3 * 2 + 64 * 9 * 2 * 4 + 4 * 5 + 5 * 3);
    // CutPaste on a frozen prefix of 4 channels at stride 8 (16 px: 2×2), one stage of 8, head [5], 3 classes
    const cb = parseModelConfig('cutpaste', { encoder: 'backbone', size: 16, backboneStride: 8, channels: [8], convsPerStage: 1, headLayers: [5] }) as CutPasteConfig;
    expect(cutPasteMacs(cb, 4)).toBe(4 * 9 * 4 * 8 + 8 * 5 + 5 * 3);
    // a 2-level U-Net, base 1 (widths 1, 2), 4 px, 3 → 3 without skips and 6 → 2 with
    const enc = (inC: number) => 16 * 9 * inC * 1 + 16 * 9 * 1 + 4 * 9 * 1 * 2 + 4 * 9 * 2 * 2;
    expect(draemUNetMacs(4, 3, 3, 1, 2, false)).toBe(enc(3) + 16 * 9 * (2 * 2 + 2 * 1 + 1) + 16 * 9 * 3);
    expect(draemUNetMacs(4, 6, 2, 1, 2, true)).toBe(enc(6) + 16 * 9 * (2 * 2 + 3 * 1 + 1) + 16 * 9 * 2);
  });

  it('the counts equal the multiply-adds of the convolutions (and linear layers) a forward pass runs', () => {
    // every convolution of the three nets goes through tf.fused.conv2d: count output elements × kh·kw·inC there
    const fused = tf.fused as unknown as { conv2d: (a: { filter: Tensor4D }) => Tensor4D };
    const orig = fused.conv2d;
    let macs = 0;
    fused.conv2d = (a) => { const y = orig(a); const [kh, kw, ci] = a.filter.shape; macs += y.size * kh * kw * ci; return y; };
    try {
      const run = (name: string, model: Record<string, unknown>) => {
        const cfg = parseModelConfig(name, model) as { size: number };
        const m = createModel(name, cfg, { inChannels: 0, gridSize: 0, imageSize: cfg.size, rng: new Rng(0) }) as unknown as { net: { forward(x: Tensor4D, t: boolean): unknown; namedVariables(): Map<string, Variable> }; dispose(): void };
        macs = 0;
        tf.tidy(() => { m.net.forward(tf.zeros([1, cfg.size, cfg.size, 3]), false); });
        // CutPaste's linear layers: in × out multiply-adds per row, one row per image
        const linear = [...m.net.namedVariables().values()].filter((v) => v.rank === 2).reduce((a, v) => a + v.size, 0);
        m.dispose();
        return { cfg, counted: macs + linear };
      };
      const d = run('draem', { size: 32, recWidth: 4, recDepth: 3, discWidth: 2, discDepth: 4 });
      expect(draemMacs(d.cfg as DraemConfig)).toBe(d.counted);
      const c = run('cutpaste', { size: 32, channels: [4, 8, 8], convsPerStage: 2, headLayers: [16, 8] });
      expect(cutPasteMacs(c.cfg as CutPasteConfig)).toBe(c.counted);
      const f = run('fcdd', { size: 32, width: 4 });
      expect(fcddMacs(f.cfg as FcddConfig)).toBe(f.counted);
    } finally {
      fused.conv2d = orig;
    }
  });
});
