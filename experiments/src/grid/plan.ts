// An experiment is a grid of independent runs ("cells": method × setting × class group × seed × variant) and a
// renderer that turns the cells' results into tables and pictures. Cells are keyed by name + a hash of their
// resolved config, so a finished cell is reused only when its config is unchanged.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { UserError, readJsonFile } from '@unified-ad/core';
import type { RunConfig, RunResult } from '@unified-ad/engine';

export type Budget = 'smoke' | 'cpu' | 'paper';
export const BUDGETS: Budget[] = ['smoke', 'cpu', 'paper'];

export interface Cell {
  /** unique, file-system safe: "<method>_<setting>_<group>_s<seed>[_<variant>]" */
  key: string;
  method: string;
  setting: 'unified' | 'separate';
  /** class group: 'all' (unified) or the class (separate) */
  group: string;
  seed: number;
  /** experiment-specific label (ablation variant, normal-class set, ...) */
  variant?: string;
  config: RunConfig;
}

/** The options an experiment was planned with (recorded in plan.json so that merge can re-plan). */
export interface PlanOptions {
  budget: Budget;
  seeds: number;
  /** dataset root override (MVTec AD, CIFAR-10, ...) */
  root?: string;
  /** restrict to these methods */
  methods?: string[];
  /** restrict to these classes */
  classes?: string[];
  /** restrict to these settings (unified, separate) */
  settings?: ('unified' | 'separate')[];
  /** dataset format where an experiment accepts several (semantic: cifar10, mnist, fashion-mnist) */
  dataset?: string;
  /** extra key=value overrides applied to every cell's config */
  overrides?: string[];
  /** restrict to these variants where an experiment has named variants (ablation: no-jitter, ...) */
  variants?: string[];
}

export interface CellResult {
  cell: Cell;
  result: RunResult;
  /** the cell's run folder */
  dir: string;
}

export interface ExperimentDef {
  name: string;
  /** one line for --help */
  description: string;
  /** the grid of runs (planning may list a dataset's classes; it trains nothing) */
  plan(options: PlanOptions): Promise<Cell[]>;
  /** writes tables/pictures from the finished cells into outDir; returns the text printed to stdout */
  render(options: PlanOptions, results: CellResult[], outDir: string): Promise<string>;
}

/** sha256 of a config's canonical JSON (sorted keys), first 10 hex digits. */
export function configHash(cfg: unknown): string {
  const canon = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]))
      : Array.isArray(v)
        ? v.map(canon)
        : v;
  return crypto.createHash('sha256').update(JSON.stringify(canon(cfg))).digest('hex').slice(0, 10);
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, '-');

export function cellKey(c: Omit<Cell, 'key'>): string {
  return [c.method, c.setting, c.group, `s${c.seed}`, ...(c.variant ? [c.variant] : [])].map(safe).join('_');
}

export function makeCell(c: Omit<Cell, 'key'>): Cell {
  return { ...c, key: cellKey(c) };
}

// ---------------------------------------------------------------------------------------------------------
// Reading an experiment folder's files back: plan.json and cells/<key>/cell.json. A truncated or hand-edited
// file is one UserError line naming the file and the key (runner.ts: readPlan, readCell, cellDone use these).

const ShardSchema = z.object({ index: z.number().int().min(0), count: z.number().int().min(1) });

/** plan.json: what `experiment merge` and `uniad report` read (extra keys kept). */
export const PlanFileSchema = z
  .object({
    experiment: z.string(),
    options: z.object({ budget: z.enum(['smoke', 'cpu', 'paper']), seeds: z.number().int().min(1) }).loose(),
    cells: z.array(z.object({ key: z.string(), hash: z.string() }).loose()),
    shard: ShardSchema.nullable(),
  })
  .loose();
export type PlanFile = z.infer<typeof PlanFileSchema>;

/** cells/<key>/cell.json. */
export const CellFileSchema = z
  .object({
    key: z.string(),
    hash: z.string(),
    method: z.string(),
    setting: z.enum(['unified', 'separate']),
    group: z.string(),
    seed: z.number(),
    variant: z.string().optional(),
    seconds: z.number(),
  })
  .loose();
export type CellFile = z.infer<typeof CellFileSchema>;

/** Reads `<dir>/plan.json` (UserError when absent: not an experiment folder; when malformed: names file + key). */
export function readPlanFile(dir: string): PlanFile {
  const f = path.join(dir, 'plan.json');
  if (!fs.existsSync(f)) throw new UserError(`${dir}: not an experiment folder (no plan.json)`);
  return readJsonFile(f, PlanFileSchema, 'run the experiment again to rewrite it');
}

/** Reads a cell's cell.json; a malformed one is an error (use cellFileOk to treat it as "not finished"). */
export function readCellFile(file: string): CellFile {
  return readJsonFile(file, CellFileSchema, 'delete the cell folder to re-run it');
}

/** The cell record when it is readable and well-formed, else null (a damaged cell is re-run, not reused). */
export function cellFileOk(file: string): CellFile | null {
  try {
    return readCellFile(file);
  } catch {
    return null;
  }
}
