import { describe, it, expect } from 'vitest';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, createModel, train, TrainConfigSchema, type Reconstructor, type FeatureReconstructorMethod } from '@unified-ad/core';
import { MlpConfigSchema, CnnConfigSchema, TransformerConfigSchema, TransformerReconstructor } from '../src';
import { normalFeatures, withDefect, mapStats } from './helpers';

const small: Record<string, Record<string, unknown>> = {
  mlp: { hiddenDim: 32, layers: 3 },
  cnn: { hiddenDim: 16, layers: 3 },
  transformer: { hiddenDim: 32, heads: 4, encoderLayers: 1, decoderLayers: 1, ffnDim: 64 },
};
const make = (name: string, cfg: Record<string, unknown>, c: number, grid: number, seed = 0) =>
  (createModel(name, cfg, { inChannels: c, gridSize: grid, rng: new Rng(seed) }) as FeatureReconstructorMethod<Reconstructor & { reconstruct(x: Tensor4D, rng: Rng | null): Tensor4D }>).net;

describe('feature reconstructors (identical-shortcut baselines)', () => {
  it('paper shape C = 272 on 14×14: parameter counts of the documented architectures', () => {
    const c = 272;
    const lin = (i: number, o: number) => i * o + o;
    const conv = (i: number, o: number) => 9 * i * o + o;
    const expected: Record<string, number> = {
      mlp: lin(c, 256) + 2 * lin(256, 256) + lin(256, c),
      cnn: conv(c, 256) + 2 * conv(256, 256) + conv(256, c),
      // in/out projections, learned position embedding (2 × 14 × 128), 4 encoder + 4 decoder post-norm layers, final LayerNorm
      transformer:
        lin(c, 256) + lin(256, c) + 2 * 14 * 128 +
        4 * (4 * lin(256, 256) + lin(256, 1024) + lin(1024, 256) + 2 * 512) +
        4 * (8 * lin(256, 256) + lin(256, 1024) + lin(1024, 256) + 3 * 512) + 512,
    };
    for (const name of ['mlp', 'cnn', 'transformer']) {
      const m = make(name, {}, c, 14);
      expect(m.parameterCount()).toBe(expected[name]);
      const x = normalFeatures(2, 14, c, 1);
      const p = m.predict(x);
      expect(p.maps.shape).toEqual([2, 14, 14]);
      expect(m.reconstruct(x, null).shape).toEqual([2, 14, 14, c]);
      tf.dispose([x, p.maps]);
      m.dispose();
    }
    expect(expected).toEqual({ mlp: 271376, cnn: 2434064, transformer: 7516688 });
  });

  it('config defaults follow UniAD; unknown keys fail; bad values are one-line errors', () => {
    expect(MlpConfigSchema.parse({})).toEqual({ hiddenDim: 256, layers: 4, dropout: 0.1 });
    expect(CnnConfigSchema.parse({})).toEqual({ hiddenDim: 256, layers: 4, kernel: 3, dropout: 0.1 });
    expect(TransformerConfigSchema.parse({})).toEqual({ hiddenDim: 256, heads: 8, encoderLayers: 4, decoderLayers: 4, ffnDim: 1024, dropout: 0.1, posEmbed: 'learned' });
    expect(() => make('mlp', { hidden: 3 }, 8, 4)).toThrow(/mlp.*config.*hidden/);
    expect(() => make('cnn', { kernel: 2 }, 8, 4)).toThrow(/kernel must be odd/);
    expect(() => make('transformer', { hiddenDim: 30, heads: 4 }, 8, 4)).toThrow(/divisible/);
    const t = make('transformer', small.transformer, 8, 4);
    const x = normalFeatures(1, 5, 8, 1);
    expect(() => t.predict(x)).toThrow(/transformer expects features \[\*, 4, 4, 8\]/);
    const m = make('mlp', small.mlp, 8, 4);
    const y = normalFeatures(1, 5, 6, 1);
    expect(() => m.predict(y)).toThrow(/mlp expects features \[\*, \*, \*, 8\]/);
    tf.dispose([x, y]);
    t.dispose();
    m.dispose();
  });

  it('same seed → identical weights and outputs; dropout only in training and driven by the Rng; no leaks', () => {
    for (const name of ['mlp', 'cnn', 'transformer']) {
      const x = normalFeatures(2, 6, 12, 1);
      const a = make(name, small[name], 12, 6, 5);
      const b = make(name, small[name], 12, 6, 5);
      const c = make(name, small[name], 12, 6, 6);
      const pa = a.predict(x).maps.dataSync();
      expect(Array.from(b.predict(x).maps.dataSync())).toEqual(Array.from(pa));
      expect(Array.from(c.predict(x).maps.dataSync())).not.toEqual(Array.from(pa));
      expect(Array.from(a.predict(x).maps.dataSync())).toEqual(Array.from(pa)); // eval mode is deterministic
      const l1 = a.loss(x, new Rng(1)).dataSync()[0];
      expect(b.loss(x, new Rng(1)).dataSync()[0]).toBe(l1);
      expect(a.loss(x, new Rng(2)).dataSync()[0]).not.toBe(l1);
      // no tensors left behind by predict / loss / gradient loops
      const vars = [...a.namedVariables().values()];
      const n0 = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        a.predict(x).maps.dispose();
        a.loss(x, new Rng(i)).dispose();
        const g = tf.variableGrads(() => a.loss(x, new Rng(i)), vars);
        tf.dispose([g.value, ...Object.values(g.grads)]);
      }
      expect(tf.memory().numTensors).toBe(n0);
      // names are stable checkpoint keys
      expect([...a.namedVariables().keys()]).toEqual([...b.namedVariables().keys()]);
      tf.dispose(x);
      [a, b, c].forEach((m) => m.dispose());
    }
  });

  it('the plain transformer has none of UniAD’s ideas: no learned query, no mask parameters; sine option has no pos params', () => {
    const t = make('transformer', small.transformer, 8, 4) as unknown as TransformerReconstructor;
    const names = [...t.namedVariables().keys()];
    expect(names.some((k) => k.includes('query'))).toBe(false);
    expect(names).toContain('pos_embed.row_embed');
    expect(names).toContain('decoder.0.cross_attn.q_proj.weight');
    const s = make('transformer', { ...small.transformer, posEmbed: 'sine' }, 8, 4);
    expect(t.parameterCount() - s.parameterCount()).toBe(2 * 4 * 16);
    t.dispose();
    s.dispose();
  });

  it('after a few hundred Adam steps on normal features (core trainer), the map is higher at a defect', async () => {
    const grid = 8;
    const c = 16;
    const defect = { top: 2, left: 3, size: 3 };
    const x = normalFeatures(16, grid, c, 1);
    const test = withDefect(normalFeatures(4, grid, c, 2), defect, 1);
    for (const name of ['mlp', 'cnn', 'transformer']) {
      const m = make(name, small[name], c, grid, 1);
      const before = m.loss(x, new Rng(0)).dataSync()[0];
      const epochs = { mlp: 300, cnn: 200, transformer: 120 }[name];
      const cfg = TrainConfigSchema.parse({ epochs, batchSize: 16, lr: 2e-3, weightDecay: 0, clipNorm: null, evalEvery: 0, seed: 3 });
      const r = await train({ model: m, features: x, config: cfg });
      console.log(`${name}: loss ${before.toFixed(4)} → ${r.finalLoss.toFixed(4)} in ${r.history.length} epochs (${(r.secondsPerStep * 1000).toFixed(1)} ms/step)`);
      expect(r.finalLoss).toBeLessThan(before / 3);
      const maps = m.predict(test).maps.dataSync();
      for (let i = 0; i < 4; i++) {
        const s = mapStats(maps.subarray(i * grid * grid, (i + 1) * grid * grid), grid, defect);
        if (i === 0) console.log(`${name}: defect ${s.inside.toFixed(3)} vs normal ${s.outside.toFixed(3)}`);
        expect(s.inside, `${name} image ${i}`).toBeGreaterThan(2 * s.outside);
      }
      m.dispose();
    }
    tf.dispose([x, test]);
  });
});
