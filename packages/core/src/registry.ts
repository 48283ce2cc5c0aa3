// A registry of methods (timm-style): a method package calls registerModel() at import time,
// and everyone else builds models with createModel(name, config, ctx).
import type { z } from 'zod';
import type { AnomalyModel, FeatureSpec, ModelContext } from './types';

export interface ModelEntry<C = unknown> {
  name: string;
  /** one line for `uniad info` / --help */
  description: string;
  kind: 'trainable' | 'statistical';
  /** schema of the model's config section; unknown keys must fail */
  configSchema: z.ZodType<C>;
  /** backbone features the method consumes by default */
  defaultFeatures: Omit<FeatureSpec, 'backbone' | 'inputSize'> & Partial<Pick<FeatureSpec, 'backbone' | 'inputSize'>>;
  create(config: C, ctx: ModelContext): AnomalyModel;
}

const entries = new Map<string, ModelEntry<unknown>>();

export function registerModel<C>(entry: ModelEntry<C>): void {
  if (entries.has(entry.name)) throw new Error(`model '${entry.name}' is already registered`);
  entries.set(entry.name, entry as ModelEntry<unknown>);
}

export function getModelEntry(name: string): ModelEntry<unknown> {
  const e = entries.get(name);
  if (!e) {
    const known = [...entries.keys()].sort().join(', ') || '(none: import a model package first)';
    throw new Error(`unknown model '${name}'; registered models: ${known}`);
  }
  return e;
}

export function listModels(): ModelEntry<unknown>[] {
  return [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Validates `config` against the model's schema (errors name the key) and builds the model. */
export function createModel(name: string, config: unknown, ctx: ModelContext): AnomalyModel {
  const entry = getModelEntry(name);
  const parsed = entry.configSchema.safeParse(config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`model '${name}' config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return entry.create(parsed.data, ctx);
}
