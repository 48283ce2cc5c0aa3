// Method packages are found, not listed: every workspace package whose package.json says
//   "unifiedAd": { "methods": true }
// is imported (its import registers its methods in core's registry). A new method package therefore needs no
// edit anywhere else: the CLI, the experiments, the conformance suite and vitest find it after `npm install`
// (or without it: packages are also loaded by path).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '@unified-ad/core';

export interface MethodPackage {
  name: string;
  dir: string;
  /** the module to import: the resolved package (through node_modules) or its main file */
  entry: string;
}

/** Method packages under `<root>/packages/*`, sorted by name. */
export function findMethodPackages(root: string): MethodPackage[] {
  const pkgs = path.join(root, 'packages');
  if (!fs.existsSync(pkgs)) return [];
  const out: MethodPackage[] = [];
  for (const d of fs.readdirSync(pkgs).sort()) {
    const file = path.join(pkgs, d, 'package.json');
    if (!fs.existsSync(file)) continue;
    let pj: { name?: string; main?: string; unifiedAd?: { methods?: boolean } };
    try {
      pj = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserError(`${file}: not valid JSON (${(e as Error).message})`);
    }
    if (!pj.unifiedAd?.methods) continue;
    if (!pj.name) throw new UserError(`${file}: a method package needs a "name"`);
    let entry: string;
    try {
      // the installed package (one module instance per package, whoever imports it)
      entry = require.resolve(pj.name, { paths: [root] });
    } catch {
      entry = path.join(pkgs, d, pj.main ?? 'src/index.ts');
    }
    if (!fs.existsSync(entry)) {
      process.stderr.write(`warning: method package ${pj.name} (${path.join(pkgs, d)}) has no ${path.relative(path.join(pkgs, d), entry)}; skipped\n`);
      continue;
    }
    out.push({ name: pj.name, dir: path.join(pkgs, d), entry });
  }
  return out;
}

const loaded = new Set<string>();

/** true when .ts files can be require()d (the CLI runs under ts-node); under vitest they are import()ed */
const canRequireTs = () => typeof require !== 'undefined' && !!(require as NodeJS.Require).extensions?.['.ts'];

/** Imports every method package of `root` synchronously (needs ts-node's require hook); returns their names. */
export function loadMethodPackagesSync(root: string): string[] {
  if (!canRequireTs()) return [];
  const pkgs = findMethodPackages(root);
  for (const p of pkgs.filter((x) => !loaded.has(x.entry))) {
    require(p.entry);
    loaded.add(p.entry);
  }
  return pkgs.map((p) => p.name);
}

/** Imports every method package of `root` (sync under ts-node, dynamic import elsewhere, e.g. vitest). */
export async function loadMethodPackages(root: string): Promise<string[]> {
  if (canRequireTs()) return loadMethodPackagesSync(root);
  const pkgs = findMethodPackages(root);
  for (const p of pkgs.filter((x) => !loaded.has(x.entry))) {
    await import(p.entry);
    loaded.add(p.entry);
  }
  return pkgs.map((p) => p.name);
}
