// Spearman with average ranks, the monitor's pick rule, and the one-line errors of monitor-correlation.ts.
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { averageRanks, pickIndex, readMonitorPoints, spearman, summariseRun } from '../src/monitor-correlation';

describe('monitor correlation', () => {
  it('Spearman uses average ranks for ties (hand-computed)', () => {
    expect(averageRanks([10, 20, 20, 30])).toEqual([1, 2.5, 2.5, 4]);
    // ranks a = [1, 2.5, 2.5, 4], b = [1, 3, 2, 4]: Σdadb = 4.5, Σda² = 4.5, Σdb² = 5 → ρ = 4.5/√22.5 = 3/√10
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(3 / Math.sqrt(10), 12);
    expect(spearman([1, 2, 3, 4], [40, 30, 20, 10])).toBeCloseTo(-1, 12);
    // non-finite pairs are dropped; under 3 pairs or a constant side: NaN
    expect(spearman([1, NaN, 2, 3], [1, 5, 2, 3])).toBeCloseTo(1, 12);
    expect(spearman([1, 2], [1, 2])).toBeNaN();
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it('picks the first epoch of the largest val.select, like the trainer', () => {
    expect(pickIndex([0.5, 0.7, 0.7, 0.6])).toBe(1);
  });

  it('reads a run folder and fails in one line on a missing folder or a log without val', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'monitor-corr-'));
    const line = (epoch: number, p: number, sp: number) =>
      JSON.stringify({ epoch, train_loss: 1, eval: { mean: { i_auroc: p, p_auroc: p }, shortcut: { ratio: p }, val: { synthetic_p_auroc: sp, synthetic_i_auroc: sp, synthetic_shortcut_ratio: sp, select: sp } } });
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), [line(1, 0.6, 0.5), line(2, 0.8, 0.9), line(3, 0.7, 0.7), JSON.stringify({ epoch: 4, train_loss: 1 })].join('\n') + '\n');
    const s = summariseRun('r', readMonitorPoints(dir));
    expect(s.evals).toBe(3);
    expect(s.rho_p).toBeCloseTo(1, 12);
    expect([s.picked.epoch, s.last.epoch, s.bestP.epoch]).toEqual([2, 3, 2]);
    expect(() => readMonitorPoints(path.join(dir, 'nope'))).toThrow(/no such run folder/);
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), JSON.stringify({ epoch: 1, train_loss: 1, eval: { mean: { p_auroc: 0.5 } } }) + '\n');
    expect(() => readMonitorPoints(dir)).toThrow(/no evaluation with a 'val' block/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
