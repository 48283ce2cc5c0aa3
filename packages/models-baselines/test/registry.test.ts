// The plug-in contract: importing the package registers every baseline, with its family, a strict config schema
// with defaults, the inputs it reads, and its evaluation defaults; every method answers the common v2 contract.
import { describe, it, expect } from 'vitest';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, createModel, getModelEntry, listModels, tensorFitData, type MethodInputs, type Sample } from '@unified-ad/core';
import '../src';

const sample = (i: number): Sample => ({ id: `s${i}`, className: 'c', split: 'train', label: 0, defectType: 'good', imagePath: `#${i}` });

describe('registry entries of the baselines', () => {
  const expected = {
    mlp: { family: 'reconstruction', size: 14, blur: 0 },
    cnn: { family: 'reconstruction', size: 14, blur: 0 },
    transformer: { family: 'reconstruction', size: 14, blur: 0 },
    padim: { family: 'statistical', size: 28, blur: 4 },
    patchcore: { family: 'statistical', size: 28, blur: 4 },
  } as const;

  it('all five register at import, with family, inputs and eval defaults', () => {
    const names = listModels().map((e) => e.name);
    for (const [name, want] of Object.entries(expected)) {
      expect(names).toContain(name);
      const e = getModelEntry(name);
      expect(e.family).toBe(want.family);
      expect((e.inputs as MethodInputs).features?.size).toBe(want.size);
      expect(e.defaults?.eval?.blurSigma).toBe(want.blur);
      expect(e.description.length).toBeGreaterThan(10);
    }
    // reconstructors consume the same neck features as UniAD (the backbone's default layers at 14×14)
    expect((getModelEntry('mlp').inputs as MethodInputs).features?.layers).toEqual([]);
    expect(getModelEntry('padim').paperName).toBe('PaDiM');
  });

  it('every config is strict with defaults: {} builds the model, an unknown key names itself', () => {
    for (const name of Object.keys(expected)) {
      const m = createModel(name, {}, { inChannels: 16, gridSize: 4, rng: new Rng(0) });
      expect(typeof m.fit).toBe('function');
      m.dispose();
      expect(() => createModel(name, { nope: 1 }, { inChannels: 16, gridSize: 4, rng: new Rng(0) })).toThrow(new RegExp(`model '${name}' config: .*nope`));
    }
  });

  it('statistical and trainable models fit and predict through the same contract', async () => {
    const x = tf.tidy(() => new Rng(1).normalTensor([3, 4, 4, 16])) as Tensor4D;
    const data = tensorFitData([0, 1, 2].map(sample), { features: x });
    for (const name of Object.keys(expected)) {
      const cfg = name === 'transformer' ? { hiddenDim: 16, heads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 32 } : name === 'padim' ? { numChannels: 4 } : {};
      const m = createModel(name, cfg, { inChannels: 16, gridSize: 4, rng: new Rng(0) });
      const train = { ...(await import('@unified-ad/core')).TrainConfigSchema.parse({ epochs: 1, batchSize: 2, evalEvery: 0 }) };
      await m.fit(data, { train, seed: 0, label: name, log: () => {} });
      const p = m.predict(data.batch([0, 1, 2]));
      expect(p.maps!.shape).toEqual([3, 4, 4]);
      if (p.scores) expect(p.scores.shape).toEqual([3]);
      tf.dispose([p.maps!, p.scores ?? []]);
      m.dispose();
    }
    x.dispose();
  });
});
