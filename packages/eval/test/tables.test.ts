import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '@unified-ad/core';
import { buildResultTable, tableToCsv, tableToMarkdown, type RunResult } from '../src/tables';

// UniAD-like: 3 unified seeds, 1 separate run; a baseline with one run per setting.
const runs: RunResult[] = [
  { method: 'UniAD', setting: 'unified', seed: 1, per_class: { bottle: { i_auroc: 0.99 }, carpet: { i_auroc: 0.95 }, magnetic_tile: { i_auroc: 0.8 }, widget: { i_auroc: 0.7 } } },
  { method: 'UniAD', setting: 'unified', seed: 2, per_class: { bottle: { i_auroc: 0.97 }, carpet: { i_auroc: 0.96 }, magnetic_tile: { i_auroc: 0.82 }, widget: { i_auroc: 0.72 } } },
  { method: 'UniAD', setting: 'unified', seed: 3, per_class: { bottle: { i_auroc: 0.98 }, carpet: { i_auroc: 0.97 }, magnetic_tile: { i_auroc: 0.84 }, widget: { i_auroc: 0.74 } } },
  { method: 'UniAD', setting: 'separate', seed: 1, per_class: { bottle: { i_auroc: 1 }, carpet: { i_auroc: 0.999 }, magnetic_tile: { i_auroc: 0.9 }, widget: { i_auroc: 0.75 } } },
  { method: 'PaDiM', setting: 'unified', per_class: { bottle: { i_auroc: 0.9 }, carpet: { i_auroc: 0.85 }, magnetic_tile: { i_auroc: 0.7 }, widget: { i_auroc: NaN } } },
];

describe('result tables', () => {
  it('groups, means over classes, mean ± std over seeds, paper numbers and deltas', () => {
    const t = buildResultTable(runs, { metric: 'i_auroc', paper: { compare: { UniAD: 'UniAD' }, show: ['DRAEM'] } });
    expect(t.columns).toEqual(['UniAD', 'UniAD (paper)', 'Δ vs paper', 'PaDiM', 'DRAEM (paper)']);
    expect(t.rows.map((r) => `${r.group}/${r.kind}/${r.label}`)).toEqual([
      'objects/class/Bottle',
      'objects/group-mean/Mean',
      'textures/class/Carpet',
      'textures/class/Magnetic Tile',
      'textures/group-mean/Mean',
      'other/class/Widget',
      'other/group-mean/Mean',
      'all/mean/Mean',
    ]);
    const bottle = t.rows[0].cells;
    // seeds 0.99, 0.97, 0.98: mean 98.0, sample std 1.00 (percent)
    expect(bottle[0]).toBe('98.0 ± 1.00 / 100.0');
    expect(bottle[1]).toBe('99.7 ± 0.04 / 100.0');
    expect(bottle[2]).toBe('−1.7 / +0.0');
    expect(bottle[3]).toBe('90.0 / –');
    expect(bottle[4]).toBe('97.5 / 99.2');
    // textures mean of (carpet, magnetic_tile) per seed: 0.875, 0.89, 0.905 -> 89.0 ± 1.50; no poster mean for that set
    const tex = t.rows[4].cells;
    expect(tex[0]).toBe('89.0 ± 1.50 / 95.0');
    expect(tex[1]).toBe('–');
    // objects group is only bottle: the poster's value is bottle's (not the stated 10-class mean)
    expect(t.rows[1].cells[1]).toBe('99.7 / 100.0');
    // PaDiM's widget is NaN: its cell and the overall mean over all four classes are missing
    expect(t.rows[5].cells[3]).toBe('– / –');
    expect(t.rows[7].cells[3]).toBe('– / –');
    // overall mean per seed over 4 classes: 3.44/4, 3.47/4, 3.53/4 = 0.86, 0.8675, 0.8825 -> 87.0 ± 1.15
    expect(t.rows[7].cells[0]).toBe('87.0 ± 1.15 / 91.2');
  });

  it('population std and custom groups', () => {
    const t = buildResultTable(runs, { metric: 'i_auroc', std: 'population', groups: { surfaces: ['carpet', 'magnetic_tile'] }, methods: ['UniAD'] });
    expect(t.rows[0].label).toBe('Carpet');
    expect(t.rows[0].cells[0]).toBe('96.0 ± 0.82 / 99.9');
    expect(t.rows.filter((r) => r.kind === 'class').map((r) => r.key)).toEqual(['carpet', 'magnetic_tile', 'bottle', 'widget']);
    expect(t.rows[3].group).toBe('other');
  });

  it('CSV and Markdown render (written to a temp dir)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-table-'));
    const t = buildResultTable(runs, { metric: 'i_auroc', paper: { compare: { UniAD: 'UniAD' } } });
    const csv = tableToCsv(t);
    const md = tableToMarkdown(t, 'Table: image AUROC (%), unified / separate');
    fs.writeFileSync(path.join(dir, 'table.csv'), csv);
    fs.writeFileSync(path.join(dir, 'table.md'), md);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toBe('group,category,UniAD,UniAD (paper),Δ vs paper,PaDiM');
    expect(lines[1]).toBe('objects,bottle,98.0 ± 1.00 / 100.0,99.7 ± 0.04 / 100.0,−1.7 / +0.0,90.0 / –');
    expect(lines).toHaveLength(1 + t.rows.length);
    expect(lines[lines.length - 1].startsWith('all,mean,')).toBe(true);
    expect(md).toContain('| Object | Bottle | 98.0 ± 1.00 / 100.0 |');
    expect(md).toContain('| **Mean** |  |');
    console.log(`table written to ${dir}\n${md}`);
  });

  it('errors', () => {
    expect(() => buildResultTable([], { metric: 'i_auroc' })).toThrow(UserError);
    expect(() => buildResultTable(runs, { metric: 'i_auroc', paper: { compare: { UniAD: 'FCDD' } } })).toThrow(/no method 'FCDD'/);
    expect(() => buildResultTable(runs, { metric: 'aupro', paper: {} })).toThrow(/no poster table/);
    expect(() => buildResultTable([{ ...runs[0], setting: 'joint' as never }], { metric: 'i_auroc' })).toThrow(/setting 'joint'/);
  });
});
