// A registry of methods (timm-style): a method package calls registerModel() at import time, and everyone else
// builds models with createModel(name, config, ctx). An entry carries everything the engine needs to run the
// method without per-method files: its inputs, its default train / eval settings, its name in the paper's tables.
import type { z } from 'zod';
import type { ModelContext } from './types';
import type { Method, MethodInputs } from './method';
import { UserError } from './errors';

export interface ModelEntry<C = unknown> {
  name: string;
  /** one line for `uniad info` / --help */
  description: string;
  /** free-form family for listings: 'reconstruction', 'statistical', 'self-supervised', 'distillation', … */
  family?: string;
  /** schema of the model's config section; unknown keys must fail */
  configSchema: z.ZodType<C>;
  /** what the method reads (may depend on its config, e.g. the image size) */
  inputs: MethodInputs | ((config: C) => MethodInputs);
  /**
   * run-config fragments applied beneath the user's config (the user's keys win): the method's train schedule
   * (`train`), its evaluation rule (`eval.imageScore`, `eval.blurSigma`), its feature layers (`features`)
   */
  defaults?: { train?: Record<string, unknown>; eval?: Record<string, unknown>; features?: Record<string, unknown> };
  /** column of the paper's Tables 1–2 (the UniAD poster) this method is compared with, e.g. 'PaDiM' */
  paperName?: string;
  /** a tiny model config + train settings for smoke runs and the conformance suite (seconds on a CPU) */
  smoke?: { model?: Record<string, unknown>; train?: Record<string, unknown> };
  create(config: C, ctx: ModelContext): Method;
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
    throw new UserError(`unknown model '${name}'; registered models: ${known}`);
  }
  return e;
}

export function listModels(): ModelEntry<unknown>[] {
  return [...entries.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Validates a model config against the entry's schema (errors name the key). */
export function parseModelConfig(name: string, config: unknown): unknown {
  const entry = getModelEntry(name);
  const parsed = entry.configSchema.safeParse(config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UserError(`model '${name}' config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The inputs a method reads with this (parsed) config. */
export function methodInputs(name: string, config: unknown): MethodInputs {
  const entry = getModelEntry(name);
  const inputs = typeof entry.inputs === 'function' ? entry.inputs(config) : entry.inputs;
  if (!inputs.features && !inputs.images) throw new Error(`model '${name}' declares no inputs (features or images)`);
  return inputs;
}

/** Validates `config` against the model's schema (errors name the key) and builds the model. */
export function createModel(name: string, config: unknown, ctx: ModelContext): Method {
  const entry = getModelEntry(name);
  return entry.create(parseModelConfig(name, config), ctx);
}
