// `demo`: the first thing to run on a fresh machine. Synthetic industrial images (four classes, generated
// deterministically into the cache), the embedded MobileNetV2 (no download, no ../shared), UniAD and PatchCore
// in the unified setting: features → training → evaluation → table and pictures in a few minutes on 2 cores.
import * as path from 'node:path';
import type { ExperimentDef } from '../grid/plan';
import { shippedConfig } from '../config-files';
import { renderAurocTables } from './auroc-tables';
import { finishConfig } from './common';
import { makeCell } from '../grid/plan';

export const DEMO_METHODS = ['patchcore', 'uniad'];

export const demo: ExperimentDef = {
  name: 'demo',
  description: 'UniAD and PatchCore, unified, on synthetic industrial images with the embedded backbone (no network, no ../shared)',
  plan: async (options) =>
    (options.methods?.length ? options.methods : DEMO_METHODS).map((m) => {
      const config = finishConfig(shippedConfig(`demo-${m}.yaml`), options, `demo-${m}.yaml`);
      return makeCell({ method: m, setting: 'unified', group: 'all', seed: config.seed, config });
    }),
  render: (options, results, outDir) => renderAurocTables(options, results, outDir, 'synthetic industrial data (demo)'),
};

export const demoOutDefault = () => path.resolve('runs', 'demo');
