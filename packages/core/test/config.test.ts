import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { loadConfig, TrainConfigSchema, registerModel, createModel, getModelEntry, emptyReport, Rng, UserError } from '../src';

const schema = z.object({ seed: z.number().int(), train: TrainConfigSchema, name: z.string().default('x') }).strict();

function yamlFile(text: string): string {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'uad-cfg-')), 'c.yaml');
  fs.writeFileSync(f, text);
  return f;
}

describe('config', () => {
  it('loads YAML, fills defaults, applies key=value overrides', () => {
    const f = yamlFile('seed: 3\ntrain:\n  epochs: 20\n  lr: 0.001\n');
    const c = loadConfig(schema, f, ['train.epochs=5', 'train.betas=[0.8, 0.99]', 'name=run1']);
    expect(c.seed).toBe(3);
    expect(c.train.epochs).toBe(5);
    expect(c.train.lr).toBe(0.001);
    expect(c.train.betas).toEqual([0.8, 0.99]);
    expect(c.train.batchSize).toBe(8);
    expect(c.name).toBe('run1');
  });

  it('unknown or wrong keys fail naming the key and the file', () => {
    const f = yamlFile('seed: 3\ntrain:\n  epochz: 20\n');
    expect(() => loadConfig(schema, f)).toThrow(UserError);
    expect(() => loadConfig(schema, f)).toThrow(new RegExp(`${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: unknown key 'train.epochz'`));
    const g = yamlFile('seed: 3\ntrain:\n  lr: -1\n');
    expect(() => loadConfig(schema, g)).toThrow(/key 'train.lr'/);
    expect(() => loadConfig(schema, g, ['train.lr=0.1', 'seed=abc'])).toThrow(/key 'seed'/);
    expect(() => loadConfig(schema, '/nope/missing.yaml')).toThrow(/config file not found: \/nope\/missing.yaml/);
    const bad = yamlFile('seed: [1, 2\n');
    expect(() => loadConfig(schema, bad)).toThrow(/invalid YAML/);
  });
});

describe('registry', () => {
  it('registers, validates config strictly and creates', () => {
    registerModel({
      name: 'test-dummy',
      description: 'a dummy',
      configSchema: z.object({ k: z.number().default(2) }).strict(),
      inputs: { features: { layers: ['a'], size: 14 } },
      create: (cfg: { k: number }) => ({
        fit: async () => emptyReport(), predict: () => { throw new Error('x'); }, state: () => ({ meta: { k: cfg.k }, tensors: [] }), loadState() {},
        parameterCount: () => cfg.k, dispose() {},
      }),
    });
    const m = createModel('test-dummy', { k: 5 }, { inChannels: 3, gridSize: 14, rng: new Rng(0) });
    expect(m.parameterCount()).toBe(5);
    expect(() => createModel('test-dummy', { q: 1 }, { inChannels: 3, gridSize: 14, rng: new Rng(0) })).toThrow(/model 'test-dummy' config/);
    expect(() => getModelEntry('nope')).toThrow(/unknown model 'nope'; registered models: .*test-dummy/);
    expect(() => registerModel({ ...getModelEntry('test-dummy') })).toThrow(/already registered/);
  });
});
