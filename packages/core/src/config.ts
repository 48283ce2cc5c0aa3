// Configs as data: YAML files validated by zod schemas. Errors name the file and the key.
// Overrides: `key.path=value` strings (value parsed as YAML: numbers, booleans, lists work).
import * as fs from 'node:fs';
import * as YAML from 'yaml';
import type { z } from 'zod';
import { UserError } from './errors';

export function formatZodError(err: z.ZodError, where: string): string {
  const issue = err.issues[0];
  const keyPath = issue.path.length ? issue.path.join('.') : '(root)';
  let msg = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as unknown as { keys: string[] }).keys;
    const prefix = issue.path.length ? issue.path.join('.') + '.' : '';
    return `${where}: unknown key '${prefix}${keys[0]}'${keys.length > 1 ? ` (and ${keys.length - 1} more)` : ''}`;
  }
  return `${where}: key '${keyPath}': ${msg}`;
}

/** Sets obj[a][b][c] = value for "a.b.c". */
export function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let cur: Record<string, unknown> = obj;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] === undefined || cur[p] === null || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

/** Applies `key=value` overrides (values parsed as YAML scalars/flow collections). */
export function applyOverrides(obj: Record<string, unknown>, overrides: string[]): Record<string, unknown> {
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new UserError(`override '${o}': expected key=value`);
    const k = o.slice(0, eq).trim();
    let v: unknown;
    try {
      v = YAML.parse(o.slice(eq + 1));
    } catch {
      v = o.slice(eq + 1);
    }
    setPath(obj, k, v);
  }
  return obj;
}

/** Deep merge (b wins); arrays are replaced, not merged. */
export function deepMerge<T extends Record<string, unknown>>(a: T, b: Record<string, unknown>): T {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const av = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && av && typeof av === 'object' && !Array.isArray(av)
        ? deepMerge(av as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out as T;
}

export function readYaml(file: string): Record<string, unknown> {
  if (!fs.existsSync(file)) throw new UserError(`config file not found: ${file}`);
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file}: invalid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`${file}: top level must be a mapping`);
  return raw as Record<string, unknown>;
}

/** Validates a plain object; `where` names its origin (file, "overrides") in errors. */
export function validateConfig<S extends z.ZodType>(schema: S, raw: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw new UserError(formatZodError(r.error, where));
  return r.data;
}

/** Loads YAML (optionally extending `base:` files relative to it), applies overrides, validates. */
export function loadConfig<S extends z.ZodType>(schema: S, file: string | null, overrides: string[] = [], defaults: Record<string, unknown> = {}): z.infer<S> {
  let raw: Record<string, unknown> = { ...defaults };
  if (file) raw = deepMerge(raw, readYaml(file));
  applyOverrides(raw, overrides);
  const where = file ? (overrides.length ? `${file} (with overrides ${overrides.join(' ')})` : file) : 'config';
  return validateConfig(schema, raw, where);
}

/**
 * Reads a JSON file a user may hand in (results.json, plan.json, thresholds.json, ...): a missing, truncated or
 * wrongly shaped file is a one-line UserError naming the file (and, with a schema, the key). `hint` ends the
 * message of a malformed file (e.g. "re-run the experiment to rewrite it").
 */
export function readJsonFile<S extends z.ZodType = z.ZodUnknown>(file: string, schema?: S, hint?: string): z.infer<S> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `file not found: ${file}` : `${file}: cannot read (${(e as Error).message.split('\n')[0]})`);
  }
  const tail = hint ? `; ${hint}` : '';
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const why = text.trim() === '' ? 'the file is empty' : `${(e as Error).message.split('\n')[0]}`;
    throw new UserError(`${file}: not valid JSON, truncated or damaged? (${why})${tail}`);
  }
  if (!schema) return raw as never;
  const r = schema.safeParse(raw);
  if (!r.success) throw new UserError(`${formatZodError(r.error, file)}${tail}`);
  return r.data as never;
}

/** One parsed line of a JSONL file (`line`: 1-based). */
export interface JsonlLine {
  line: number;
  raw: string;
  value: unknown;
}

/**
 * The non-blank lines of a JSONL log a process appends to, parsed. A last line that is not JSON and has no final
 * newline is a write cut short by a kill: it is left out and its number returned as `truncated`. Any other line
 * that is not JSON goes to `bad(line, raw)`, which throws the caller's one-line error.
 */
export function parseJsonlLines(text: string, bad: (line: number, raw: string) => never): { lines: JsonlLine[]; truncated: number | null } {
  const rows = text.split('\n');
  const lines: JsonlLine[] = [];
  for (const [k, r] of rows.entries()) {
    const raw = r.trim();
    if (!raw) continue;
    try {
      lines.push({ line: k + 1, raw, value: JSON.parse(raw) });
    } catch {
      if (!text.endsWith('\n') && rows.slice(k + 1).every((l) => !l.trim())) return { lines, truncated: k + 1 };
      bad(k + 1, raw);
    }
  }
  return { lines, truncated: null };
}
