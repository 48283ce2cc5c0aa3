// The fig3 cpu budget's nets (set up to copy: wide, no dropout, constant lr) and the peak / ratio table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as os from 'node:os';
import { fig3Edit, fig3Table, FIG3_CPU } from '../src/experiments/fig3';
import { finishConfig, methodRawConfig } from '../src/experiments/common';

describe('fig3 cpu budget', () => {
  // the cpu configs name ${shared}: any existing folder stands in for it here (nothing is read)
  const saved = process.env.UNIFIED_AD_SHARED;
  beforeAll(() => {
    process.env.UNIFIED_AD_SHARED = os.tmpdir();
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.UNIFIED_AD_SHARED;
    else process.env.UNIFIED_AD_SHARED = saved;
  });
  it('gives each plain net the copying setup and leaves the smoke budget alone', () => {
    const mlp = finishConfig(fig3Edit(methodRawConfig('mlp', 'cpu'), 'mlp', 'cpu'), { budget: 'cpu', seeds: 1 }, 'mlp-cpu');
    expect(mlp.model.config).toMatchObject({ hiddenDim: 512, dropout: 0 });
    expect(mlp.train).toMatchObject({ epochs: 60, lr: 0.001, schedule: { kind: 'constant' }, evalEvery: 4 });
    expect(mlp.eval).toMatchObject({ keepMaps: 4, periodicMetrics: ['i_auroc', 'p_auroc'] });
    const uniad = finishConfig(fig3Edit(methodRawConfig('uniad', 'cpu'), 'uniad', 'cpu'), { budget: 'cpu', seeds: 1 }, 'uniad-cpu');
    // UniAD keeps its profile (three ideas, its dropout 0 and batch 8) and only gets the shorter schedule
    expect(uniad.model.config).toMatchObject({ hiddenDim: 256, dropout: 0, neighborMask: { size: 7 }, jitter: { scale: 20 } });
    expect(uniad.train.batchSize).toBe(8);
    expect(uniad.train).toMatchObject({ epochs: 10, lrStepSize: 8, evalEvery: 1, lr: 0.0005 });
    for (const m of Object.keys(FIG3_CPU)) expect(() => finishConfig(fig3Edit(methodRawConfig(m, 'cpu'), m, 'cpu'), { budget: 'cpu', seeds: 1 }, m)).not.toThrow();
    // the user's --set wins over the budget's schedule
    const over = finishConfig(fig3Edit(methodRawConfig('mlp', 'cpu'), 'mlp', 'cpu'), { budget: 'cpu', seeds: 1, overrides: ['train.epochs=7', 'model.config.dropout=0.2'] }, 'mlp-cpu');
    expect([over.train.epochs, over.model.config.dropout]).toEqual([7, 0.2]);
    const smoke = fig3Edit(methodRawConfig('mlp', 'smoke'), 'mlp', 'smoke');
    expect(smoke.model).toEqual(methodRawConfig('mlp', 'smoke').model);
    expect((smoke.train as { evalEvery: number }).evalEvery).toBe(1);
  });

  it('table: peak by P-AUROC, the ratio at the peak, its highest value and its last', () => {
    const t = fig3Table([{ method: 'mlp', epoch: [1, 2, 3, 4], loss: [8, 4, 2, 1], i_auroc: [0.5, 0.8, 0.7, 0.6], p_auroc: [0.6, 0.9, 0.8, 0.7], ratio: [1.2, 1.8, 1.4, 1.05] }], 'cpu');
    // last third of epochs 1–4: epochs above 4 − 1 = 3, i.e. 3 and 4 → mean 75, sd √50 ≈ 7.07
    expect(t.rows[0]).toEqual(['mlp', '1.00e+0', '8.0×', '90.0 @2', '70.0', '-20.0', '75.0 ± 7.1 (2)', '80.0', '60.0', '1.80', '1.80 @2', '1.05']);
    const noRatio = fig3Table([{ method: 'x', epoch: [1], loss: [1], i_auroc: [0.5], p_auroc: [0.5], ratio: [NaN] }], 'cpu');
    expect(noRatio.rows[0]!.slice(6)).toEqual(['-', '50.0', '50.0', '-', '-', '-']);
  });
});
