// Runs (a shard of) an experiment's grid into <out>/cells/<key>/ and renders its tables when the grid is complete.
// `merge` gathers the cells of several shard folders into one folder and renders the same tables.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as YAML from 'yaml';
import { UserError, filterNativeStartupLog, writeFileAtomic } from '@unified-ad/core';
import type { RunConfig } from '@unified-ad/engine';
import { trainRun } from '../run-folder';
import { cellFileOk, configHash, readCellFile, readPlanFile, type Cell, type CellResult, type ExperimentDef, type PlanOptions } from './plan';
import { readResultsFile } from '../run-folder';
import { fingerprintOf, fingerprintVerdict, loadRunData, readFingerprint } from '@unified-ad/engine';
import { inShard, type Shard } from './shard';

export const PLAN_FILE = 'plan.json';
export const CELL_FILE = 'cell.json';

export interface PlanRecord {
  experiment: string;
  options: PlanOptions;
  /** every cell of the full grid (not only this shard's): key and config hash */
  cells: { key: string; hash: string }[];
  shard: Shard | null;
  created: string;
}

export interface GridOptions {
  outDir: string;
  shard?: Shard | null;
  /** run only the cells with these keys (and render nothing), e.g. one job of `jobs` */
  cells?: string[] | null;
  /**
   * run up to this many cells at once, each in its own `uniad experiment run --cells` process (default 1: one after
   * the other in this process); a job gets TF_NUM_INTRAOP_THREADS = cores / jobs unless that is set
   */
  jobs?: number;
  log?: (line: string) => void;
}

export interface GridOutcome {
  ran: string[];
  reused: string[];
  /** text printed for the finished grid (tables); null for a shard of several */
  summary: string | null;
}

interface CellRecord {
  key: string;
  hash: string;
  method: string;
  setting: Cell['setting'];
  group: string;
  seed: number;
  variant?: string;
  seconds: number;
}

/** A finished cell with this config hash (cell.json and results.json readable); fingerprints are checked by the caller. */
function cellDone(dir: string, hash: string): boolean {
  const rec = cellFileOk(path.join(dir, CELL_FILE));
  if (!rec || rec.hash !== hash || !fs.existsSync(path.join(dir, 'results.json'))) return false;
  try {
    readResultsFile(path.join(dir, 'results.json'));
    return true;
  } catch {
    return false;
  }
}

/**
 * What to do with a cell folder: reuse it (finished, same config hash and same fingerprint), resume it (unfinished,
 * same fingerprint), or start afresh (nothing there, or made with other inputs: the old folder is removed, so a
 * changed config never reports old numbers).
 */
async function cellAction(dir: string, cfg: RunConfig, hash: string): Promise<'reuse' | 'resume' | 'fresh'> {
  if (!fs.existsSync(path.join(dir, 'config.yaml'))) return 'fresh';
  let same = false;
  try {
    const recorded = readFingerprint(dir);
    const { trainSamples, testSamples } = await loadRunData(cfg);
    same = !!recorded && fingerprintVerdict(recorded, await fingerprintOf(cfg, [...trainSamples, ...testSamples])).same;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
  }
  if (same && cellDone(dir, hash)) return 'reuse';
  if (same && (cellFileOk(path.join(dir, CELL_FILE))?.hash ?? hash) === hash) return 'resume';
  fs.rmSync(dir, { recursive: true, force: true });
  return 'fresh';
}

/** Reads a finished cell folder back as a CellResult (one-line errors for damaged files). */
export function readCell(dir: string): CellResult {
  const rec = readCellFile(path.join(dir, CELL_FILE)) as unknown as CellRecord;
  const cfgFile = path.join(dir, 'config.yaml');
  let config: RunConfig;
  try {
    config = YAML.parse(fs.readFileSync(cfgFile, 'utf8')) as RunConfig;
  } catch (e) {
    throw new UserError(`${cfgFile}: not readable YAML (${(e as Error).message.split('\n')[0]}); delete the cell folder to re-run it`);
  }
  const result = readResultsFile(path.join(dir, 'results.json'));
  const { hash: _h, seconds: _s, ...cell } = rec;
  return { cell: { ...cell, config } as Cell, result, dir };
}

export async function runGrid(def: ExperimentDef, options: PlanOptions, opts: GridOptions): Promise<GridOutcome> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const cells = await def.plan(options);
  const keys = new Set<string>();
  for (const c of cells) {
    if (keys.has(c.key)) throw new Error(`experiment ${def.name}: duplicate cell key ${c.key}`);
    keys.add(c.key);
  }
  const shard = opts.shard && opts.shard.count > 1 ? opts.shard : null;
  const out = path.resolve(opts.outDir);
  const record: PlanRecord = {
    experiment: def.name,
    options,
    cells: cells.map((c) => ({ key: c.key, hash: configHash(c.config) })),
    shard,
    created: new Date().toISOString(),
  };
  writeFileAtomic(path.join(out, PLAN_FILE), JSON.stringify(record, null, 2));
  const only = opts.cells ?? null;
  if (only) {
    const unknown = only.filter((k) => !keys.has(k));
    if (unknown.length) throw new UserError(`experiment ${def.name}: no cell '${unknown[0]}' (cells: ${[...keys].join(', ')})`);
  }
  const mine = only ? cells.filter((c) => only.includes(c.key)) : inShard(cells, shard);
  const part = shard ? `; shard ${shard.index}/${shard.count} runs ${mine.length}` : only ? `; this job runs ${mine.length}` : '';
  log(`${def.name} (budget ${options.budget}, ${options.seeds} seed${options.seeds > 1 ? 's' : ''}): ${cells.length} runs${part} → ${out}`);
  const ran: string[] = [];
  const reused: string[] = [];
  const jobs = Math.floor(opts.jobs ?? 1);
  /** what the parallel pass found per cell (decided once: the check loads the run's data and fingerprints it) */
  const actions = new Map<string, 'reuse' | 'resume' | 'fresh'>();
  const ranByJobs = new Set<string>();
  if (jobs > 1 && !shard && !only) {
    for (const c of mine) actions.set(c.key, await cellAction(path.join(out, 'cells', c.key), c.config, configHash(c.config)));
    const pending = mine.map((c) => c.key).filter((k) => actions.get(k) !== 'reuse');
    if (pending.length > 1) {
      const groups = Array.from({ length: Math.min(jobs, pending.length) }, (_, k) => pending.filter((_, i) => i % jobs === k));
      await runJobs(def.name, options, out, groups, log); // a job exits 0 only once each of its cells is finished
      pending.forEach((k) => ranByJobs.add(k));
    }
  }
  for (const [i, c] of mine.entries()) {
    if (ranByJobs.has(c.key)) {
      ran.push(c.key);
      continue;
    }
    const dir = path.join(out, 'cells', c.key);
    const hash = configHash(c.config);
    const action = actions.get(c.key) ?? (await cellAction(dir, c.config, hash));
    if (action === 'reuse') {
      reused.push(c.key);
      continue;
    }
    log(`[${i + 1}/${mine.length}] ${c.key}${action === 'resume' ? ' (resuming)' : ''}`);
    const t0 = Date.now();
    await trainRun(c.config, { outDir: dir, resume: action === 'resume', log: (l) => log(`  ${l}`) });
    const rec: CellRecord = { key: c.key, hash, method: c.method, setting: c.setting, group: c.group, seed: c.seed, variant: c.variant, seconds: (Date.now() - t0) / 1000 };
    writeFileAtomic(path.join(dir, CELL_FILE), JSON.stringify(rec, null, 2));
    ran.push(c.key);
  }
  if (reused.length) log(`reused ${reused.length} finished run(s) with unchanged configs`);
  if (only) return { ran, reused, summary: null };
  if (shard) {
    log(`shard ${shard.index}/${shard.count} done; when all shards are done: uniad experiment merge <shard dirs…> --out <dir>`);
    return { ran, reused, summary: null };
  }
  const results = cells.map((c) => readCell(path.join(out, 'cells', c.key)));
  const summary = await def.render(options, results, out);
  return { ran, reused, summary };
}

/** The `uniad experiment run` arguments that make the same plan as `options`. */
export function planArgs(options: PlanOptions): string[] {
  const a = ['--budget', options.budget, '--seeds', String(options.seeds)];
  if (options.root) a.push('--root', options.root);
  if (options.dataset) a.push('--dataset', options.dataset);
  if (options.methods) a.push('--methods', options.methods.join(','));
  if (options.classes) a.push('--classes', options.classes.join(','));
  if (options.settings) a.push('--settings', options.settings.join(','));
  if (options.variants) a.push('--variants', options.variants.join(','));
  if (options.overrides?.length) a.push('--set', ...options.overrides); // variadic: last
  return a;
}

/**
 * Runs each group of cells in its own `uniad experiment run --cells` process, all at once; their log lines are
 * prefixed with [job k]. Waits for all, then fails (one line) if any failed.
 */
async function runJobs(name: string, options: PlanOptions, out: string, groups: string[][], log: (l: string) => void): Promise<void> {
  const bin = path.resolve(__dirname, '..', '..', 'bin', 'uniad.js');
  const threads = process.env.TF_NUM_INTRAOP_THREADS || String(Math.max(1, Math.floor(os.cpus().length / groups.length)));
  log(`running ${groups.reduce((n, g) => n + g.length, 0)} runs in ${groups.length} parallel jobs (TF_NUM_INTRAOP_THREADS=${threads} each)`);
  const results = await Promise.allSettled(
    groups.map(
      (keys, k) =>
        new Promise<void>((resolve, reject) => {
          const args = [bin, 'experiment', 'run', name, '--out', out, '--cells', keys.join(','), ...planArgs(options)];
          const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TF_NUM_INTRAOP_THREADS: threads } });
          // TensorFlow's start-up notices reach a piped stderr: drop them as the engine does for a terminal
          readline.createInterface({ input: child.stderr! }).on('line', (l) => filterNativeStartupLog(`${l}\n`) && log(`[job ${k + 1}] ${l}`));
          child.on('error', reject);
          child.on('close', (code, signal) => (code === 0 ? resolve() : reject(new UserError(`experiment ${name}: job ${k + 1} (${keys.join(', ')}) ${signal ? `stopped by ${signal}` : `failed with exit code ${code}`}; its lines are above, prefixed [job ${k + 1}]`))));
        }),
    ),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function readPlan(dir: string): PlanRecord {
  return readPlanFile(dir) as unknown as PlanRecord;
}

const SKIP_ON_COPY = new Set(['checkpoints', 'tb']);

/**
 * Merges shard folders: all must come from the same experiment and options; every cell of the grid must be
 * finished in one of them. The cells (without checkpoints) are copied to outDir, and the tables rendered.
 */
export async function mergeGrids(dirs: string[], outDir: string, getDef: (name: string) => ExperimentDef, log: (l: string) => void = (l) => process.stderr.write(l + '\n')): Promise<string> {
  if (dirs.length === 0) throw new UserError('experiment merge: give at least one shard folder');
  const plans = dirs.map((d) => ({ dir: path.resolve(d), plan: readPlan(d) }));
  const first = plans[0];
  const sig = (p: PlanRecord) => JSON.stringify(p.cells);
  for (const p of plans.slice(1)) {
    if (p.plan.experiment !== first.plan.experiment) throw new UserError(`experiment merge: ${p.dir} is experiment '${p.plan.experiment}', ${first.dir} is '${first.plan.experiment}'`);
    if (sig(p.plan) !== sig(first.plan) || JSON.stringify(p.plan.options) !== JSON.stringify(first.plan.options))
      throw new UserError(`experiment merge: ${p.dir} was planned with other options or configs than ${first.dir} (compare their ${PLAN_FILE})`);
  }
  const def = getDef(first.plan.experiment);
  const out = path.resolve(outDir);
  const results: CellResult[] = [];
  const missing: string[] = [];
  for (const [i, c] of first.plan.cells.entries()) {
    const src = plans.map((p) => path.join(p.dir, 'cells', c.key)).find((d) => cellDone(d, c.hash));
    if (!src) {
      missing.push(`${c.key} (shard ${first.plan.shard ? `${i % first.plan.shard.count}/${first.plan.shard.count}` : '?'})`);
      continue;
    }
    const dst = path.join(out, 'cells', c.key);
    if (path.resolve(src) !== dst) {
      fs.rmSync(dst, { recursive: true, force: true });
      fs.cpSync(src, dst, { recursive: true, filter: (s) => !SKIP_ON_COPY.has(path.basename(s)) });
    }
    results.push(readCell(dst));
  }
  if (missing.length) throw new UserError(`experiment merge: ${missing.length} of ${first.plan.cells.length} runs are not finished in the given folders: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  writeFileAtomic(path.join(out, PLAN_FILE), JSON.stringify({ ...first.plan, shard: null, merged_from: plans.map((p) => p.dir), created: new Date().toISOString() }, null, 2));
  log(`merged ${results.length} runs from ${dirs.length} folder(s) → ${out}`);
  return def.render(first.plan.options, results, out);
}
