// The demo's closing lines: one unified model per method, its mean AUROC and weakest class, and its size against
// the separate setting (classes × the same network's parameters).
import { describe, expect, it } from 'vitest';
import '@unified-ad/models-uniad';
import '@unified-ad/models-baselines';
import { demoTakeaway } from '../src/experiments/demo';
import type { CellResult } from '../src/grid/plan';

const cell = (method: string, params: number, perClass: Record<string, [number, number]>) =>
  ({
    cell: { method, setting: 'unified', seed: 0 },
    result: { parameters_total: params, per_class: Object.fromEntries(Object.entries(perClass).map(([c, [i, p]]) => [c, { i_auroc: i, p_auroc: p }])) },
    dir: '',
  }) as unknown as CellResult;

describe('demo takeaway', () => {
  it('names the one unified model, its mean and weakest class, and the per-class alternative', () => {
    const text = demoTakeaway([
      cell('uniad', 279_300, { fabric: [0.98, 0.97], wood: [1, 0.99], disk: [0.77, 0.95], screw: [0.48, 0.94] }),
      cell('patchcore', 96_400, { fabric: [1, 0.98], wood: [1, 0.99], disk: [1, 0.99], screw: [1, 0.99] }),
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('What this shows (the unified setting of the UniAD paper):');
    expect(lines[1]).toContain('uniad: ONE model for all 4 classes (fabric, wood, disk, screw), 279.3 k parameters: mean I-AUROC 80.8, P-AUROC 96.3 (weakest class screw, I-AUROC 48.0)');
    expect(lines[1]).toContain('one model per class (4 × 279.3 k = 1.12 M parameters)');
    expect(lines[2]).toContain('patchcore: ONE model for all 4 classes');
    expect(lines[2]).toContain('96.4 k stored values');
  });
});
