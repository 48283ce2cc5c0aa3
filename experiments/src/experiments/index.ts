// The experiments `uniad experiment run <name>` knows.
import { UserError } from '@unified-ad/core';
import type { ExperimentDef } from '../grid/plan';
import { ablation } from './ablation';
import { demo } from './demo';
import { fig3 } from './fig3';
import { semantic } from './semantic';
import { realBenchmark, table1, table2 } from './tables12';

export const EXPERIMENTS: ExperimentDef[] = [table1, table2, fig3, ablation, realBenchmark, semantic, demo];

export function getExperiment(name: string): ExperimentDef {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new UserError(`unknown experiment '${name}' (known: ${EXPERIMENTS.map((x) => x.name).join(', ')})`);
  return e;
}

export { table1, table2, fig3, ablation, realBenchmark, semantic, demo };
