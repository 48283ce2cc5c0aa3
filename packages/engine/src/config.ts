// Run configs as data: deep merge (for `extends` and method defaults), variables, path resolution, validation
// against RunConfigSchema and the method's own schema. File lookup (`extends`, shipped config names) stays in
// the application (experiments/src/config-files.ts).
import * as path from 'node:path';
import { UserError, formatZodError, getModelEntry, listModels, repoRoot, sharedDir, validateConfig } from '@unified-ad/core';
import { RunConfigSchema, type RunConfig } from './run-config';

const DISCRIMINATORS = ['type', 'kind'];

/**
 * Deep merge for `extends` (child wins, arrays replaced). A mapping whose discriminator (`type` of a dataset
 * spec, `kind` of an image score) differs from the base's replaces it instead of merging into it.
 */
export function mergeConfigs(base: Record<string, unknown>, child: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  for (const [k, v] of Object.entries(child)) {
    const b = out[k];
    if (isMap(v) && isMap(b)) {
      const switched = DISCRIMINATORS.some((d) => d in v && d in b && v[d] !== b[d]);
      out[k] = switched ? v : mergeConfigs(b, v);
    } else out[k] = v;
  }
  return out;
}

const PATH_KEYS = ['root', 'path'];

/** Makes the path fields of a dataset spec (root, path; also inside combined parts) absolute against baseDir. */
export function absolutizeDataPaths(spec: unknown, baseDir = process.cwd()): unknown {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return spec;
  const out: Record<string, unknown> = { ...(spec as Record<string, unknown>) };
  for (const k of PATH_KEYS) if (typeof out[k] === 'string') out[k] = path.resolve(baseDir, out[k] as string);
  if (Array.isArray(out.parts)) out.parts = out.parts.map((p) => absolutizeDataPaths(p, baseDir));
  return out;
}

/**
 * Replaces `${shared}` (../shared or $UNIFIED_AD_SHARED) and `${repo}` (the repository root) in every string
 * value; `where` names the config in the error when ../shared is needed but absent.
 */
export function expandVars<T>(v: T, where: string, keyPath: string[] = []): T {
  if (typeof v === 'string') {
    if (!v.includes('${')) return v;
    return v.replace(/\$\{(\w+)\}/g, (_m, name: string) => {
      if (name === 'repo') return repoRoot();
      if (name === 'shared') {
        const d = sharedDir();
        if (!d) throw new UserError(`${where}: key '${keyPath.join('.')}' uses \${shared}, but ../shared was not found (set UNIFIED_AD_SHARED, or give the path with ${keyPath.join('.')}=<dir>)`);
        return d;
      }
      throw new UserError(`${where}: key '${keyPath.join('.')}': unknown variable \${${name}} (known: \${shared}, \${repo})`);
    }) as T;
  }
  if (Array.isArray(v)) return v.map((x, i) => expandVars(x, where, [...keyPath, String(i)])) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandVars(x, where, [...keyPath, k])])) as T;
  return v;
}

/** Validates a raw config object (after overrides; method defaults beneath it); `where` names its origin in errors. */
export function toRunConfig(raw: Record<string, unknown>, where: string, baseDir = process.cwd()): RunConfig {
  const cfg = validateConfig(RunConfigSchema, expandVars(withMethodDefaults(raw), where), where);
  checkModelConfig(cfg, where);
  cfg.data = absolutizeDataPaths(cfg.data, baseDir) as RunConfig['data'];
  if (cfg.backbone.path) cfg.backbone.path = path.resolve(baseDir, cfg.backbone.path);
  return cfg;
}

/**
 * The method's registry defaults (train schedule, eval rule, features) beneath a raw config: the config's own keys
 * win. Unknown methods are left for validation to report.
 */
export function withMethodDefaults(raw: Record<string, unknown>): Record<string, unknown> {
  const name = (raw.model as { name?: unknown } | undefined)?.name;
  if (typeof name !== 'string' || !listModels().some((m) => m.name === name)) return raw;
  const d = getModelEntry(name).defaults;
  if (!d) return raw;
  const base: Record<string, unknown> = {};
  if (d.train) base.train = d.train;
  if (d.eval) base.eval = d.eval;
  if (d.features) base.features = d.features;
  return mergeConfigs(base, raw);
}

/** The model must be registered and its config section valid (errors name the key, e.g. model.config.hiddenDim). */
export function checkModelConfig(cfg: RunConfig, where: string): void {
  let entry;
  try {
    entry = getModelEntry(cfg.model.name);
  } catch {
    throw new UserError(`${where}: key 'model.name': unknown method '${cfg.model.name}' (registered: ${listModels().map((m) => m.name).join(', ')})`);
  }
  const r = entry.configSchema.safeParse(cfg.model.config ?? {});
  if (!r.success) throw new UserError(formatZodError(r.error, where).replace(/key '([^']*)'/, (_m, k: string) => `key 'model.config.${k}'`));
  // the run folder's config.yaml then lists every model setting, defaults included
  cfg.model.config = r.data as Record<string, unknown>;
}
