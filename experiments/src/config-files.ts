// Run configs on disk: YAML files (optionally `extends: other.yaml`, resolved relative to the file) plus
// `key=value` overrides, validated with the engine's RunConfigSchema. Relative data paths are made absolute
// against the current directory, so that a run folder's config.yaml works from anywhere.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, applyOverrides, readYaml } from '@unified-ad/core';
import './models';
import { mergeConfigs, toRunConfig, type RunConfig } from '@unified-ad/engine';

export { mergeConfigs, toRunConfig, expandVars, absolutizeDataPaths, checkModelConfig, withMethodDefaults } from '@unified-ad/engine';

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

/** A config argument: a path (relative to `dir`, then cwd), or the name of a shipped config ("uniad-cpu"). */
export function resolveConfigName(name: string, dir = process.cwd()): string {
  const candidates = [path.resolve(dir, name), path.resolve(name), path.join(CONFIG_DIR, name), path.join(CONFIG_DIR, `${name}.yaml`)];
  for (const c of candidates) if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  const shipped = fs.existsSync(CONFIG_DIR) ? fs.readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')) : [];
  throw new UserError(`config file not found: ${name} (shipped configs: ${shipped.join(', ')})`);
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

