// `table1` / `table2`: image / pixel AUROC per class of every registered method, unified and separate, on MVTec AD
// (smoke budget: the synthetic industrial set). Both experiments run the same grid and write both tables, so
// running one after the other in the same folder reuses every run.
import type { ExperimentDef, PlanOptions } from '../grid/plan';
import { gridMethods, methodGrid } from './common';
import { renderAurocTables } from './auroc-tables';

function dataFor(options: PlanOptions): Record<string, unknown> | null {
  if (options.root) return { type: 'mvtec', root: options.root };
  if (options.budget === 'smoke') return null; // the smoke budget's synthetic set
  return { type: 'mvtec', root: '${shared}/data/mvtec-ad' };
}

function tablesDef(name: 'table1' | 'table2'): ExperimentDef {
  return {
    name,
    description: `${name === 'table1' ? 'image' : 'pixel'}-level AUROC per class (paper Table ${name === 'table1' ? 1 : 2}): every method, unified / separate, on MVTec AD (--root; smoke: synthetic)`,
    plan: (options) =>
      methodGrid({
        options,
        methods: gridMethods(options),
        settings: ['unified', 'separate'],
        edit: (raw) => {
          const data = dataFor(options);
          return data ? { ...raw, data } : raw;
        },
      }),
    render: (options, results, outDir) => renderAurocTables(options, results, outDir, options.budget === 'smoke' && !options.root ? 'synthetic industrial data' : 'MVTec AD'),
  };
}

export const table1 = tablesDef('table1');
export const table2 = tablesDef('table2');

/** `real-benchmark`: the shared real data (MVTec AD bottle + Magnetic Tile), unified and separate, all methods. */
export const realBenchmark: ExperimentDef = {
  name: 'real-benchmark',
  description: 'every method, unified / separate, on the shared real data (MVTec AD bottle + Magnetic Tile in ../shared)',
  plan: (options) =>
    methodGrid({
      options,
      methods: gridMethods(options),
      settings: ['unified', 'separate'],
      edit: (raw) => ({
        ...raw,
        data: {
          type: 'combined',
          name: 'bottle+magnetic-tile',
          parts: [
            { type: 'mvtec', root: '${shared}/data/mvtec-ad', categories: ['bottle'] },
            { type: 'magnetic-tile', root: '${shared}/data/magnetic-tile' },
          ],
        },
      }),
    }),
  render: (options, results, outDir) => renderAurocTables(options, results, outDir, 'MVTec AD bottle + Magnetic Tile'),
};
