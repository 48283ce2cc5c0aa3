// `demo`: the first thing to run on a fresh machine. Synthetic industrial images (four classes, generated
// deterministically into the cache), the embedded MobileNetV2 (no download, no ../shared), UniAD and PatchCore
// in the unified setting: features → training → evaluation → table and pictures in a few minutes on 2 cores.
import * as path from 'node:path';
import type { ExperimentDef } from '../grid/plan';
import { shippedConfig } from '../config-files';
import { formatCount, renderAurocTables } from './auroc-tables';
import { finishConfig } from './common';
import { makeCell, type CellResult } from '../grid/plan';
import { getModelEntry } from '@unified-ad/core';

export const DEMO_METHODS = ['patchcore', 'uniad'];

export const demo: ExperimentDef = {
  name: 'demo',
  description: 'UniAD and PatchCore, unified, on synthetic industrial images with the embedded backbone (no network, no ../shared)',
  plan: async (options) =>
    (options.methods?.length ? options.methods : DEMO_METHODS).map((m) => {
      const config = finishConfig(shippedConfig(`demo-${m}.yaml`), options, `demo-${m}.yaml`);
      return makeCell({ method: m, setting: 'unified', group: 'all', seed: config.seed, config });
    }),
  render: async (options, results, outDir) => `${await renderAurocTables(options, results, outDir, 'synthetic industrial data (demo)')}\n${demoTakeaway(results)}`,
};

/**
 * What the tables show, in words: one unified model for every class, its mean AUROC, and its size against the
 * separate setting (one model of the same architecture per class: classes × parameters, since a UniAD, MLP, …
 * network does not depend on its class).
 */
export function demoTakeaway(results: CellResult[]): string {
  const lines: string[] = [];
  const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : (100 * x).toFixed(1));
  for (const r of results.filter((x) => x.cell.setting === 'unified')) {
    const classes = Object.keys(r.result.per_class);
    const mean = (k: 'i_auroc' | 'p_auroc') => classes.reduce((a, c) => a + (r.result.per_class[c][k] ?? NaN), 0) / classes.length;
    const worst = classes.reduce((w, c) => ((r.result.per_class[c].i_auroc ?? 1) < (r.result.per_class[w].i_auroc ?? 1) ? c : w), classes[0]);
    const n = r.result.parameters_total;
    const statistical = getModelEntry(r.cell.method).family === 'statistical';
    const sep = statistical ? 'about the same values split over one bank per class' : `${classes.length} × ${formatCount(n)} = ${formatCount(classes.length * n)} parameters`;
    lines.push(
      `  ${r.cell.method}: ONE model for all ${classes.length} classes (${classes.join(', ')}), ${formatCount(n)} ${statistical ? 'stored values' : 'parameters'}: ` +
        `mean I-AUROC ${pct(mean('i_auroc'))}, P-AUROC ${pct(mean('p_auroc'))} (weakest class ${worst}, I-AUROC ${pct(r.result.per_class[worst].i_auroc)}); ` +
        `the separate setting would need one model per class (${sep}).`,
    );
  }
  return ['What this shows (the unified setting of the UniAD paper):', ...lines].join('\n');
}

export const demoOutDefault = () => path.resolve('runs', 'demo');
