// Shared pieces of the experiment definitions: method configs per budget, class lists, the method × setting ×
// class × seed grid.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, applyOverrides, listModels } from '@unified-ad/core';
import { loadDataset } from '@unified-ad/datasets';
import { CONFIG_DIR, mergeConfigs, shippedConfig, toRunConfig } from '../config-files';
import type { RunConfig } from '@unified-ad/engine';
import { makeCell, type Budget, type Cell, type PlanOptions } from '../grid/plan';

/** The shipped config of a method at a budget (`<method>-<budget>.yaml`), or the budget's base with the method's defaults. */
export function methodRawConfig(method: string, budget: Budget): Record<string, unknown> {
  const file = path.join(CONFIG_DIR, `${method}-${budget}.yaml`);
  if (fs.existsSync(file)) return shippedConfig(file);
  return mergeConfigs(shippedConfig(`${budget}.yaml`), { name: `${method}-${budget}`, model: { name: method, config: {} } });
}

/** Methods of a grid: --methods, else every registered method (sorted, UniAD last so it sits beside the paper column). */
export function gridMethods(options: PlanOptions, fallback?: string[]): string[] {
  const known = listModels().map((m) => m.name);
  const methods = options.methods?.length ? options.methods : (fallback ?? known);
  for (const m of methods) if (!known.includes(m)) throw new UserError(`--methods: unknown method '${m}' (registered: ${known.join(', ')})`);
  return [...methods].sort((a, b) => (a === 'uniad' ? 1 : b === 'uniad' ? -1 : a.localeCompare(b)));
}

/** Applies the user's key=value overrides and validates. */
export function finishConfig(raw: Record<string, unknown>, options: PlanOptions, where: string): RunConfig {
  const r = applyOverrides(structuredClone(raw), options.overrides ?? []);
  return toRunConfig(r, options.overrides?.length ? `${where} (with overrides ${options.overrides.join(' ')})` : where);
}

/** Classes of a config's dataset (restricted by --classes). Loading lists files (and generates synthetic data once). */
export async function configClasses(cfg: RunConfig, only?: string[]): Promise<string[]> {
  const ds = await loadDataset(cfg.data, { warn: () => {} });
  if (!only?.length) return cfg.classes ?? ds.classes;
  for (const c of only) if (!ds.classes.includes(c)) throw new UserError(`--classes: '${c}' is not in dataset ${ds.name} (has: ${ds.classes.join(', ')})`);
  return only;
}

export interface GridSpec {
  options: PlanOptions;
  methods: string[];
  settings: ('unified' | 'separate')[];
  /** edits a method's raw config (data, training length, ...) before validation */
  edit?: (raw: Record<string, unknown>, method: string) => Record<string, unknown>;
  variant?: string;
}

/** method × setting × (class for separate) × seed cells. Seeds are cfg.seed + 0..seeds−1. */
export async function methodGrid(spec: GridSpec): Promise<Cell[]> {
  const cells: Cell[] = [];
  const { options } = spec;
  for (const method of spec.methods) {
    let raw = methodRawConfig(method, options.budget);
    if (spec.edit) raw = spec.edit(raw, method);
    const base = finishConfig(raw, options, `${method}-${options.budget}`);
    const classes = await configClasses(base, options.classes);
    for (const setting of spec.settings.filter((x) => !options.settings?.length || options.settings.includes(x))) {
      const groups = setting === 'unified' ? [{ group: 'all', classes }] : classes.map((c) => ({ group: c, classes: [c] }));
      for (let k = 0; k < options.seeds; k++) {
        for (const g of groups) {
          const seed = base.seed + k;
          const config: RunConfig = { ...structuredClone(base), name: `${method}-${setting}-${g.group}-s${seed}`, setting, classes: g.classes, seed };
          cells.push(makeCell({ method, setting, group: g.group, seed, variant: spec.variant, config }));
        }
      }
    }
  }
  return cells;
}
