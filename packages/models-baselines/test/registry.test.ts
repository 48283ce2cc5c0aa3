// The plug-in contract: importing the package registers every baseline, with its kind, a strict config
// schema with defaults, and the backbone features it consumes by default.
import { describe, it, expect } from 'vitest';
import { tf, Rng, createModel, getModelEntry, listModels } from '@unified-ad/core';
import '../src';

describe('registry entries of the baselines', () => {
  const expected = {
    mlp: { kind: 'trainable', size: 14 },
    cnn: { kind: 'trainable', size: 14 },
    transformer: { kind: 'trainable', size: 14 },
    padim: { kind: 'statistical', size: 28 },
    patchcore: { kind: 'statistical', size: 28 },
  } as const;

  it('all five register at import, with kind and default features', () => {
    const names = listModels().map((e) => e.name);
    for (const [name, want] of Object.entries(expected)) {
      expect(names).toContain(name);
      const e = getModelEntry(name);
      expect(e.kind).toBe(want.kind);
      expect(e.defaultFeatures.size).toBe(want.size);
      expect(e.description.length).toBeGreaterThan(10);
    }
    // reconstructors consume the same neck features as UniAD (the backbone's default layers at 14×14)
    expect(getModelEntry('mlp').defaultFeatures.layers).toEqual([]);
  });

  it('every config is strict with defaults: {} builds the model, an unknown key names itself', () => {
    for (const [name, want] of Object.entries(expected)) {
      const m = createModel(name, {}, { inChannels: 16, gridSize: 4, rng: new Rng(0) });
      expect(m.kind).toBe(want.kind);
      m.dispose();
      expect(() => createModel(name, { nope: 1 }, { inChannels: 16, gridSize: 4, rng: new Rng(0) })).toThrow(new RegExp(`model '${name}' config: .*nope`));
    }
  });

  it('statistical and trainable models return the common Prediction type', async () => {
    const x = tf.tidy(() => new Rng(1).normalTensor([3, 4, 4, 16])) as import('@tensorflow/tfjs-node').Tensor4D;
    for (const name of Object.keys(expected)) {
      const cfg = name === 'transformer' ? { hiddenDim: 16, heads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 32 } : name === 'padim' ? { numChannels: 4 } : {};
      const m = createModel(name, cfg, { inChannels: 16, gridSize: 4, rng: new Rng(0) });
      if (m.kind === 'statistical') await m.fit({ samples: [], features: x }, new Rng(0));
      const p = m.predict(x);
      expect(p.maps.shape).toEqual([3, 4, 4]);
      if (p.scores) expect(p.scores.shape).toEqual([3]);
      tf.dispose([p.maps, p.scores ?? []]);
      m.dispose();
    }
    x.dispose();
  });
});
