// Run fingerprints: everything that determines a run's numbers, recorded in <run folder>/fingerprint.json.
//
//   config   the resolved config as canonical JSON (keys sorted at every level, undefined dropped)
//   data     a listing of the samples: (id, class, split, label, defect, image/mask content hash, size)
//   weights  sha256 of the backbone weights
//   code     git HEAD + dirty flag when this is a git checkout, else the package versions
//   (and, inside config, `env.UNIFIED_AD_FPMATH: bf16` when the process ran oneDNN in math mode bf16: it changes
//   the numbers like a config key; absent in float32, so float32 fingerprints are what they always were)
//
// `hash` covers config, data and weights, and NOT code. Policy (see fingerprintVerdict):
//   - config, data or weights differ  → the old results are not those of this run: an experiment cell is
//     re-run, `train --resume` is refused with one line naming the keys that differ;
//   - only code differs              → a warning: a commit that touches docs or a dirty working tree during
//     development must not invalidate every finished cell. A numerics change in code has to be made visible
//     the way it is today (the feature cache's VERSION, a config key), not through the commit id.
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { UserError, engineInfo, repoRoot, writeFileAtomic, type FpMath } from '@unified-ad/core';

export const FINGERPRINT_FILE = 'fingerprint.json';
export const FINGERPRINT_VERSION = 1;

/** What a data listing is made of: one entry per sample, sorted by id. */
export interface DataListingEntry {
  id: string;
  className?: string;
  split?: string;
  label?: number;
  defectType?: string;
  /** sha256 (16 hex digits) of the image file's bytes, and its size */
  image: { sha256: string; bytes: number; fragment?: string };
  mask?: { sha256: string; bytes: number };
}

export interface DataListing {
  count: number;
  /** sha256 of the sorted entries' canonical JSON */
  sha256: string;
  entries: DataListingEntry[];
}

export type CodeVersion =
  | { kind: 'git'; commit: string; dirty: boolean; id: string }
  | { kind: 'packages'; versions: Record<string, string>; id: string };

export interface FingerprintParts {
  /** the resolved config, canonical (sorted keys) */
  config: unknown;
  data: { count: number; sha256: string };
  /** sha256 of the backbone weights (null: no backbone, e.g. raw-pixel methods) */
  weights: string | null;
  code: CodeVersion;
}

export interface Fingerprint {
  version: number;
  /** sha256 over config, data and weights (code is recorded but not part of it) */
  hash: string;
  parts: FingerprintParts;
  created?: string;
}

// ---------------------------------------------------------------------------------------------------------
// canonical JSON

/** A copy with object keys sorted at every level and undefined values dropped (arrays keep their order). */
export function canonicalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : canonicalize(x)));
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = canonicalize(o[k]);
    return out;
  }
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v); // NaN / Infinity survive JSON
  return v;
}

/** Canonical JSON: sorted keys, no whitespace; the same config always gives the same string. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(canonicalize(v));
}

const sha256 = (s: string | Uint8Array) => crypto.createHash('sha256').update(s).digest('hex');

/** Removes dotted keys (e.g. 'name', 'eval.pictureSamples') from a config copy. */
function withoutKeys(cfg: unknown, keys: readonly string[]): unknown {
  if (!keys.length) return cfg;
  const copy = JSON.parse(JSON.stringify(cfg ?? null)) as Record<string, unknown>;
  for (const k of keys) {
    const parts = k.split('.');
    let cur: Record<string, unknown> | undefined = copy;
    for (const p of parts.slice(0, -1)) cur = cur && typeof cur[p] === 'object' ? (cur[p] as Record<string, unknown>) : undefined;
    if (cur) delete cur[parts[parts.length - 1]];
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------------------
// data listing

const fileMemo = new Map<string, { sha256: string; bytes: number }>();

/** sha256 (16 hex digits) and size of a file, memoised by (path, size, mtime) for this process. */
export function fileContentId(file: string): { sha256: string; bytes: number } {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new UserError(`data listing: file not found: ${file}`);
  }
  const key = `${path.resolve(file)}|${st.size}|${st.mtimeMs}`;
  const got = fileMemo.get(key);
  if (got) return got;
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  const r = { sha256: h.digest('hex').slice(0, 16), bytes: st.size };
  fileMemo.set(key, r);
  return r;
}

/** The fields of a sample the listing reads (a core Sample fits). */
export interface ListedSample {
  id?: string;
  className?: string;
  split?: string;
  label?: number;
  defectType?: string;
  /** a file, or "file#index" for array-backed datasets (the file is hashed once, the index recorded) */
  imagePath: string;
  maskPath?: string;
}

/**
 * The data listing of a run: sorted (sample id, class, split, label, defect type, content hash and size of
 * the image and mask files). Content hashes, not mtimes: regenerating or copying identical data does not
 * change it. Samples without an id are listed by their image path.
 */
export function dataListing(samples: readonly ListedSample[]): DataListing {
  const entries: DataListingEntry[] = samples.map((s) => {
    const hashAt = s.imagePath.lastIndexOf('#');
    const file = hashAt > 0 && !fs.existsSync(s.imagePath) ? s.imagePath.slice(0, hashAt) : s.imagePath;
    const fragment = file === s.imagePath ? undefined : s.imagePath.slice(hashAt + 1);
    const e: DataListingEntry = { id: s.id ?? s.imagePath, image: { ...fileContentId(file), ...(fragment !== undefined ? { fragment } : {}) } };
    if (s.className !== undefined) e.className = s.className;
    if (s.split !== undefined) e.split = s.split;
    if (s.label !== undefined) e.label = s.label;
    if (s.defectType !== undefined) e.defectType = s.defectType;
    if (s.maskPath) e.mask = fileContentId(s.maskPath);
    return e;
  });
  const sortKey = (e: DataListingEntry) => `${e.id}\u0000${e.split ?? ''}\u0000${e.className ?? ''}`;
  entries.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  return { count: entries.length, sha256: sha256(canonicalJson(entries)), entries };
}

// ---------------------------------------------------------------------------------------------------------
// code version

let codeMemo: CodeVersion | null = null;

/** git HEAD + dirty flag of the repository, else the versions of the workspace packages (memoised). */
export function codeVersion(root = repoRoot()): CodeVersion {
  if (codeMemo) return codeMemo;
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).toString().trim();
    const commit = git('rev-parse', 'HEAD');
    if (/^[0-9a-f]{40}$/.test(commit)) {
      const dirty = git('status', '--porcelain', '--untracked-files=no').length > 0;
      codeMemo = { kind: 'git', commit, dirty, id: `${commit.slice(0, 12)}${dirty ? '+dirty' : ''}` };
      return codeMemo;
    }
  } catch {
    /* not a git checkout, or no git */
  }
  const versions: Record<string, string> = {};
  const read = (f: string) => {
    try {
      const pj = JSON.parse(fs.readFileSync(f, 'utf8')) as { name?: string; version?: string };
      if (pj.name && pj.version) versions[pj.name] = pj.version;
    } catch {
      /* unreadable package.json: skip */
    }
  };
  read(path.join(root, 'package.json'));
  for (const base of ['packages', 'experiments']) {
    const d = path.join(root, base);
    if (base === 'experiments') read(path.join(d, 'package.json'));
    else if (fs.existsSync(d)) for (const p of fs.readdirSync(d).sort()) read(path.join(d, p, 'package.json'));
  }
  for (const dep of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-core']) read(path.join(root, 'node_modules', dep, 'package.json'));
  const sorted = canonicalize(versions) as Record<string, string>;
  codeMemo = { kind: 'packages', versions: sorted, id: `packages-${sha256(canonicalJson(sorted)).slice(0, 12)}` };
  return codeMemo;
}

// ---------------------------------------------------------------------------------------------------------
// fingerprint

export interface FingerprintInput {
  /** the resolved (validated, defaults filled, paths absolute) config */
  config: unknown;
  /** dataListing(samples) of every sample the run reads (train and test), or just its {count, sha256} */
  dataListing: DataListing | { count: number; sha256: string };
  /** sha256 of the backbone weights (null when the run uses none) */
  weightsSha256: string | null;
  /** default: codeVersion() */
  codeVersion?: CodeVersion;
  /** dotted config keys that do not change the numbers and are left out (e.g. ['name']) */
  ignoreKeys?: readonly string[];
  /** oneDNN math mode of the process (default: engineInfo.fpmath) */
  fpmath?: FpMath;
}

/** The fingerprint of a run; `hash` covers config, data and weights (not code: see the file header). */
export function runFingerprint(input: FingerprintInput): Fingerprint {
  const bare = withoutKeys(input.config, input.ignoreKeys ?? []);
  const fpmath = input.fpmath ?? engineInfo.fpmath;
  const config = canonicalize(fpmath === 'bf16' ? { ...(bare as object), env: { UNIFIED_AD_FPMATH: 'bf16' } } : bare);
  const data = { count: input.dataListing.count, sha256: input.dataListing.sha256 };
  const weights = input.weightsSha256;
  const hash = sha256(canonicalJson({ v: FINGERPRINT_VERSION, config, data, weights }));
  return { version: FINGERPRINT_VERSION, hash, parts: { config, data, weights, code: input.codeVersion ?? codeVersion() } };
}

/** Dotted leaf keys of a canonical config → their JSON (arrays of scalars are leaves; arrays of objects are indexed). */
function flatten(v: unknown, prefix: string, out: Map<string, string>): void {
  const isObj = (x: unknown) => !!x && typeof x === 'object' && !Array.isArray(x);
  if (isObj(v) && Object.keys(v as object).length > 0) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (Array.isArray(v) && v.some(isObj)) {
    v.forEach((x, i) => flatten(x, prefix ? `${prefix}.${i}` : String(i), out));
    out.set(prefix ? `${prefix}.length` : 'length', String(v.length));
  } else out.set(prefix || '(root)', JSON.stringify(v));
}

/** One difference of two configs: the dotted key and the two values (undefined: absent). */
export interface ConfigChange {
  key: string;
  before: string | undefined;
  after: string | undefined;
}

/** The config keys whose values differ, with both values, sorted by key. */
export function diffConfigs(a: unknown, b: unknown): ConfigChange[] {
  const fa = new Map<string, string>();
  const fb = new Map<string, string>();
  flatten(canonicalize(a), '', fa);
  flatten(canonicalize(b), '', fb);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  return keys.filter((k) => fa.get(k) !== fb.get(k)).map((k) => ({ key: k, before: fa.get(k), after: fb.get(k) }));
}

/**
 * What differs between two fingerprints: dotted config keys (sorted), then 'data', 'weights' and 'code'
 * where those differ. Empty: identical.
 */
export function diffFingerprints(a: Fingerprint, b: Fingerprint): string[] {
  const out = diffConfigs(a.parts.config, b.parts.config).map((c) => c.key);
  if (a.parts.data.sha256 !== b.parts.data.sha256 || a.parts.data.count !== b.parts.data.count) out.push('data');
  if (a.parts.weights !== b.parts.weights) out.push('weights');
  if (a.parts.code.id !== b.parts.code.id) out.push('code');
  return out;
}

export interface FingerprintVerdict {
  /** the recorded results belong to the current inputs (a code change alone does not prevent this) */
  same: boolean;
  /** keys that differ and refuse a resume / force a re-run (config keys, 'data', 'weights') */
  blocking: string[];
  /** one-line warnings (code version changed) */
  warnings: string[];
  /** one line naming what differs, with old → new config values, for errors */
  summary: string;
}

const short = (s: string | undefined) => (s === undefined ? '(absent)' : s.length > 40 ? `${s.slice(0, 37)}…` : s);

/** Compares a recorded fingerprint with the current one under the policy in the file header. */
export function fingerprintVerdict(recorded: Fingerprint, current: Fingerprint): FingerprintVerdict {
  const changes = diffConfigs(recorded.parts.config, current.parts.config);
  const blocking = changes.map((c) => c.key);
  const said: string[] = changes.slice(0, 6).map((c) => `${c.key} (${short(c.before)} → ${short(c.after)})`);
  if (changes.length > 6) said.push(`and ${changes.length - 6} more config key(s)`);
  const r = recorded.parts;
  const c = current.parts;
  if (r.data.sha256 !== c.data.sha256 || r.data.count !== c.data.count) {
    blocking.push('data');
    said.push(`data (${r.data.count} → ${c.data.count} samples${r.data.count === c.data.count ? ', different files or labels' : ''})`);
  }
  if (r.weights !== c.weights) {
    blocking.push('weights');
    said.push(`weights (sha256 ${r.weights?.slice(0, 12) ?? 'none'} → ${c.weights?.slice(0, 12) ?? 'none'})`);
  }
  const warnings: string[] = [];
  if (r.code.id !== c.code.id) warnings.push(`the code changed since this run was made (${r.code.id} → ${c.code.id}); its config, data and weights are unchanged`);
  return { same: blocking.length === 0, blocking, warnings, summary: said.join(', ') };
}

/**
 * For `train --resume`: throws a one-line UserError naming what differs between `dir`'s recorded fingerprint
 * and `current`; returns the warnings (code changed) otherwise. A folder without a fingerprint (made before
 * fingerprints existed) cannot be checked: `missing` decides (default 'refuse').
 */
export function assertSameRun(dir: string, current: Fingerprint, opts: { missing?: 'refuse' | 'warn'; what?: string } = {}): string[] {
  const recorded = readFingerprint(dir);
  if (!recorded) {
    const msg = `${dir} has no ${FINGERPRINT_FILE}, so it cannot be checked against this config`;
    if ((opts.missing ?? 'refuse') === 'refuse') throw new UserError(`${msg}; start a new run with --out <dir>`);
    return [msg];
  }
  const v = fingerprintVerdict(recorded, current);
  if (!v.same) throw new UserError(`${dir} was made with other inputs; differs: ${v.summary}. ${opts.what ?? 'Resume it with its own config, or start a new run with --out <dir>'}`);
  return v.warnings;
}

// ---------------------------------------------------------------------------------------------------------
// the file

const CodeSchema = z.union([
  z.object({ kind: z.literal('git'), commit: z.string(), dirty: z.boolean(), id: z.string() }),
  z.object({ kind: z.literal('packages'), versions: z.record(z.string(), z.string()), id: z.string() }),
]);
const FingerprintSchema = z.object({
  version: z.number().int(),
  hash: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits'),
  parts: z.object({
    config: z.unknown(),
    data: z.object({ count: z.number().int().min(0), sha256: z.string() }),
    weights: z.string().nullable(),
    code: CodeSchema,
  }),
  created: z.string().optional(),
});

/** Reads `<dir>/fingerprint.json`: null when absent, a one-line UserError naming the file when malformed. */
export function readFingerprint(dir: string): Fingerprint | null {
  const file = path.join(dir, FINGERPRINT_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UserError(`${file}: cannot read: ${(e as Error).message.split('\n')[0]}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (truncated or edited?): ${(e as Error).message.split('\n')[0]}; delete it to re-run this folder from scratch`);
  }
  const r = FingerprintSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new UserError(`${file}: not a fingerprint file: key '${i.path.join('.') || '(root)'}': ${i.message}`);
  }
  if (r.data.version !== FINGERPRINT_VERSION) throw new UserError(`${file}: fingerprint version ${r.data.version}, this code reads version ${FINGERPRINT_VERSION}`);
  const fp = r.data as Fingerprint;
  const expect = sha256(canonicalJson({ v: FINGERPRINT_VERSION, config: fp.parts.config, data: fp.parts.data, weights: fp.parts.weights }));
  if (expect !== fp.hash) throw new UserError(`${file}: hash does not match its parts (edited by hand?); delete it to re-run this folder from scratch`);
  return fp;
}

/** Writes `<dir>/fingerprint.json` atomically. */
export function writeFingerprint(dir: string, fp: Fingerprint): void {
  writeFileAtomic(path.join(dir, FINGERPRINT_FILE), JSON.stringify({ ...fp, created: fp.created ?? new Date().toISOString() }, null, 2) + '\n');
}
