// `ablation`: UniAD with each of its three ideas switched off in turn (paper Sec. 3, ablations of Sec. 4.4):
// layer-wise query embedding (query: layerwise → none / shared / first), neighbor masked attention (all three
// masks off, or one at a time on), feature jittering (scale 0); and sweeps of the neighbor-mask size and the
// jitter scale. Unified setting; one table with the difference to the full model.
import * as path from 'node:path';
import { deepMerge, UserError } from '@unified-ad/core';
import type { Budget, Cell, CellResult, ExperimentDef, PlanOptions } from '../grid/plan';
import { configHash } from '../grid/plan';
import { fmtStat, stat } from '../grid/stats';
import { tableToText, writeTable, type Table } from '../tables';
import { methodGrid } from './common';

export interface AblationVariant {
  name: string;
  group: string;
  /** merged into model.config */
  change: Record<string, unknown>;
}

const OFF = { encoder: false, decoder1: false, decoder2: false };

export function ablationVariants(budget: Budget): AblationVariant[] {
  const v: AblationVariant[] = [
    { name: 'full', group: 'UniAD', change: {} },
    { name: 'no-layerwise-query', group: 'query embedding', change: { query: 'none' } },
    { name: 'shared-query', group: 'query embedding', change: { query: 'shared' } },
    { name: 'first-layer-query', group: 'query embedding', change: { query: 'first' } },
    { name: 'no-neighbor-mask', group: 'neighbor mask', change: { neighborMask: OFF } },
    { name: 'mask-encoder-only', group: 'neighbor mask', change: { neighborMask: { ...OFF, encoder: true } } },
    { name: 'mask-decoder-only', group: 'neighbor mask', change: { neighborMask: { encoder: false, decoder1: true, decoder2: true } } },
    { name: 'no-jitter', group: 'feature jitter', change: { jitter: { scale: 0 } } },
  ];
  const sizes = budget === 'smoke' ? [5] : [1, 3, 5, 7, 9];
  const scales = budget === 'smoke' ? [5] : [1, 5, 10, 20, 40];
  for (const s of sizes) v.push({ name: `mask-size-${s}`, group: 'neighbor-mask size', change: { neighborMask: { size: s } } });
  for (const a of scales) v.push({ name: `jitter-scale-${a}`, group: 'jitter scale', change: { jitter: { scale: a } } });
  if (budget === 'smoke') return v.filter((x) => !['shared-query', 'first-layer-query', 'mask-encoder-only', 'mask-decoder-only'].includes(x.name));
  return v;
}

/**
 * The variants to run: all of the budget's, or those named (checked against them; the full model is always
 * included, as every Δ is taken against it).
 */
export function selectedVariants(budget: Budget, names?: string[]): AblationVariant[] {
  const all = ablationVariants(budget);
  if (!names?.length) return all;
  const unknown = names.filter((n) => !all.some((v) => v.name === n));
  if (unknown.length) throw new UserError(`experiment ablation: no variant '${unknown[0]}' at budget ${budget} (variants: ${all.map((v) => v.name).join(', ')})`);
  return all.filter((v) => v.name === 'full' || names.includes(v.name));
}

async function planAblation(options: PlanOptions): Promise<Cell[]> {
  const cells: Cell[] = [];
  const seen = new Map<string, string>();
  for (const v of selectedVariants(options.budget, options.variants)) {
    const vc = await methodGrid({
      options: { ...options, methods: ['uniad'] },
      methods: ['uniad'],
      settings: ['unified'],
      variant: v.name,
      edit: (raw) => deepMerge(raw, { model: { config: v.change } }),
    });
    // a sweep point equal to the full model (e.g. mask size 7 at the paper budget) is the full model's run
    const sig = configHash({ ...vc[0].config, name: '' });
    if (seen.has(sig)) continue;
    seen.set(sig, v.name);
    cells.push(...vc);
  }
  return cells;
}

export function ablationTable(results: CellResult[], budget: Budget, only?: string[]): Table {
  const variants = selectedVariants(budget, only);
  const byVariant = new Map<string, CellResult[]>();
  for (const r of results) byVariant.set(r.cell.variant ?? 'full', [...(byVariant.get(r.cell.variant ?? 'full') ?? []), r]);
  const mean = (name: string, k: 'i_auroc' | 'p_auroc') => stat((byVariant.get(name) ?? []).map((r) => (r.result.mean as Record<string, number>)[k]));
  const full = { i: mean('full', 'i_auroc'), p: mean('full', 'p_auroc') };
  const d = (x: number, y: number) => (Number.isFinite(x - y) ? `${x - y >= 0 ? '+' : ''}${(100 * (x - y)).toFixed(1)}` : '-');
  const rows: string[][] = [];
  for (const v of variants) {
    if (!byVariant.has(v.name)) {
      // merged into the full model's run (same config)
      if (v.name !== 'full') rows.push([v.group, v.name, '= full', '= full', '', '']);
      continue;
    }
    const i = mean(v.name, 'i_auroc');
    const p = mean(v.name, 'p_auroc');
    rows.push([v.group, v.name, fmtStat(i), fmtStat(p), v.name === 'full' ? '' : d(i.mean, full.i.mean), v.name === 'full' ? '' : d(p.mean, full.p.mean)]);
  }
  const seeds = new Set(results.map((r) => r.cell.seed)).size;
  return {
    title: `Ablation of UniAD's three ideas (unified setting, budget ${budget})`,
    header: ['part', 'variant', 'I-AUROC', 'P-AUROC', 'Δ I', 'Δ P'],
    align: ['l', 'l', 'r', 'r', 'r', 'r'],
    rows,
    notes: [`Mean AUROC over classes in %${seeds > 1 ? `, mean ± std over ${seeds} seeds` : ''}; Δ = variant − full model.`],
  };
}

export const ablation: ExperimentDef = {
  name: 'ablation',
  description: "UniAD with layer-wise query, neighbor mask, feature jitter switched off in turn, plus mask-size and jitter-scale sweeps",
  plan: planAblation,
  render: async (options, results, outDir) => {
    const t = ablationTable(results, options.budget, options.variants);
    writeTable(path.join(outDir, 'tables'), 'ablation', t);
    return tableToText(t);
  },
};
