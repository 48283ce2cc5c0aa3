// Run configs on disk: YAML files (optionally `extends: other.yaml`, resolved relative to the file) plus
// `key=value` overrides, validated with the engine's RunConfigSchema. Relative data paths are made absolute
// against the current directory, so that a run folder's config.yaml works from anywhere.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, applyOverrides, formatZodError, getModelEntry, listModels, readYaml, repoRoot, sharedDir, validateConfig } from '@unified-ad/core';
import './models';
import { RunConfigSchema, type RunConfig } from './engine';

/** Folder of the shipped configs (experiments/configs). */
export const CONFIG_DIR = path.resolve(__dirname, '..', 'configs');

/** Reads a YAML config, following `extends:` (a path relative to the file, or a shipped config name). */
export function readConfigTree(file: string, seen: string[] = []): Record<string, unknown> {
  const abs = path.resolve(file);
  if (seen.includes(abs)) throw new UserError(`${file}: 'extends' loops back to ${seen[0]}`);
  const raw = readYaml(abs);
  const ext = raw.extends;
  delete raw.extends;
  if (ext === undefined) return raw;
  if (typeof ext !== 'string') throw new UserError(`${file}: key 'extends': expected a file name, got ${JSON.stringify(ext)}`);
  const baseFile = resolveConfigName(ext, path.dirname(abs));
  return mergeConfigs(readConfigTree(baseFile, [...seen, abs]), raw);
}

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

/** A config argument: a path (relative to `dir`, then cwd), or the name of a shipped config ("uniad-cpu"). */
export function resolveConfigName(name: string, dir = process.cwd()): string {
  const candidates = [path.resolve(dir, name), path.resolve(name), path.join(CONFIG_DIR, name), path.join(CONFIG_DIR, `${name}.yaml`)];
  for (const c of candidates) if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  const shipped = fs.existsSync(CONFIG_DIR) ? fs.readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')) : [];
  throw new UserError(`config file not found: ${name} (shipped configs: ${shipped.join(', ')})`);
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

/** Validates a raw config object (after overrides); `where` names its origin in errors. */
export function toRunConfig(raw: Record<string, unknown>, where: string, baseDir = process.cwd()): RunConfig {
  const cfg = validateConfig(RunConfigSchema, expandVars(raw, where), where);
  checkModelConfig(cfg, where);
  cfg.data = absolutizeDataPaths(cfg.data, baseDir) as RunConfig['data'];
  if (cfg.backbone.path) cfg.backbone.path = path.resolve(baseDir, cfg.backbone.path);
  return cfg;
}

/** `uniad train --config file [key=value ...]`: file (or shipped name) + overrides → validated RunConfig. */
export function loadRunConfig(file: string, overrides: string[] = []): RunConfig {
  const f = resolveConfigName(file);
  const raw = applyOverrides(readConfigTree(f), overrides);
  return toRunConfig(raw, overrides.length ? `${f} (with overrides ${overrides.join(' ')})` : f);
}

/** Raw (unvalidated) shipped config by name, for experiments that edit it before validation. */
export function shippedConfig(name: string): Record<string, unknown> {
  return readConfigTree(resolveConfigName(name, CONFIG_DIR));
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
