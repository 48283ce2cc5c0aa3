// Finding backbone weights: explicit path → environment variable → cache folder → the shared folder
// (../shared/weights/...) → download from a public URL (sha256-checked) into the cache → a UserError
// saying where to put the file.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, cacheDir, sharedPath } from '@unified-ad/core';

export interface WeightsSpec {
  /** file name in the cache folder, the shared folder and the download URL */
  fileName: string;
  /** expected sha256 (hex) of the file */
  sha256: string;
  /** default base URL; the file is fetched from `${base}/${fileName}` */
  baseUrl: string;
  /** environment variable holding a path to the file */
  envVar: string;
  /** folder inside ../shared that holds the file */
  sharedDir: string[];
  /** what the weights are, for messages */
  description: string;
}

export type WeightsSource = 'explicit' | 'env' | 'cache' | 'shared' | 'download';

export interface ResolvedWeights {
  path: string;
  source: WeightsSource;
  /** sha256 (hex) of the file's bytes */
  sha256: string;
}

/** Environment variable that replaces every WeightsSpec's base URL (a mirror, or a local server in tests). */
export const WEIGHTS_BASE_URL_ENV = 'UNIFIED_AD_WEIGHTS_BASE_URL';

/** google-coral/test_data at commit 104342d2 (Apache-2.0), files at the repository root. */
export const CORAL_TEST_DATA_BASE_URL = 'https://raw.githubusercontent.com/google-coral/test_data/104342d2d3480b3e66203073dac24f4e2dbb4c41';

/** TF-Hub MobileNetV2 1.0 224, ImageNet, int8 post-training-quantized TFLite (see ../shared/README.md). */
export const MOBILENET_V2_WEIGHTS: WeightsSpec = {
  fileName: 'tf2_mobilenet_v2_1.0_224_ptq.tflite',
  sha256: '5d3137241276e79c86d14a74fe43581398ae0e815191d3dba45495b810840e8c',
  baseUrl: CORAL_TEST_DATA_BASE_URL,
  envVar: 'UNIFIED_AD_MOBILENET_V2',
  sharedDir: ['weights', 'mobilenet-v2-imagenet'],
  description: 'MobileNetV2 ImageNet weights',
};

const hashMemo = new Map<string, string>();

/** sha256 (hex) of a file, memoised by path, size and mtime. */
export function sha256File(file: string): string {
  const st = fs.statSync(file);
  const memoKey = `${path.resolve(file)}|${st.size}|${st.mtimeMs}`;
  const got = hashMemo.get(memoKey);
  if (got) return got;
  const h = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  hashMemo.set(memoKey, h);
  return h;
}

/** Where the cache keeps a weights file. */
export function weightsCachePath(spec: WeightsSpec): string {
  return cacheDir('weights', spec.fileName);
}

/** The URL a weights file is downloaded from (honours UNIFIED_AD_WEIGHTS_BASE_URL). */
export function weightsUrl(spec: WeightsSpec): string {
  const base = (process.env[WEIGHTS_BASE_URL_ENV] || spec.baseUrl).replace(/\/+$/, '');
  return `${base}/${spec.fileName}`;
}

export interface ResolveOptions {
  /**
   * an explicit file (wins over everything). When its file name is the spec's (a copy of the known weights)
   * its sha256 must match; under another name it is your own weights and only its hash is recorded.
   */
  path?: string;
  /**
   * expected sha256 of an explicit / environment file: undefined (default) = the spec's sha256 when the file
   * name matches the spec's, else none; a hex string = that hash; null = no check (your own weights under the
   * known file name, config key `backbone.sha256: null`).
   */
  sha256?: string | null;
  /** allow the download step (default true; UNIFIED_AD_OFFLINE=1 turns it off) */
  download?: boolean;
  /** messages about what was done (download progress); default: stderr unless quiet */
  log?: (line: string) => void;
}

function mustExist(file: string, what: string): string {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new UserError(`${what}: file not found: ${file}`);
  return file;
}

/** The sha256 an explicit / environment file must have, or null (no check). */
function expectedFor(spec: WeightsSpec, file: string, opt: string | null | undefined): string | null {
  if (opt === null) return null;
  if (typeof opt === 'string') {
    if (!/^[0-9a-fA-F]{64}$/.test(opt)) throw new UserError(`${spec.description}: sha256 '${opt}' is not 64 hex digits (use null to skip the check)`);
    return opt.toLowerCase();
  }
  return path.basename(file) === spec.fileName ? spec.sha256 : null;
}

function mismatch(file: string, what: string, expected: string, found: string, hint: string): UserError {
  return new UserError(`${what}: ${file}: sha256 mismatch: expected ${expected}, found ${found}; ${hint}`);
}

const OWN_WEIGHTS_HINT = 'the file is damaged or not the known one (for your own weights under this name set backbone.sha256: null)';

/** An explicit / environment file, checked against its expected sha256. */
function checkedGiven(spec: WeightsSpec, file: string, what: string, source: 'explicit' | 'env', sha: string | null | undefined): ResolvedWeights {
  const p = mustExist(path.resolve(file), what);
  const got = sha256File(p);
  const want = expectedFor(spec, p, sha);
  if (want !== null && got !== want) throw mismatch(p, what, want, got, OWN_WEIGHTS_HINT);
  return { path: p, source, sha256: got };
}

/**
 * Resolves a weights file in the documented order. An explicit or environment file is checked against the
 * known sha256 when its file name is the known one (see ResolveOptions.sha256). Cache and shared copies
 * must match: a mismatching cache copy is replaced by a fresh verified download; when no download is
 * possible, a mismatching copy is reported as a checksum mismatch naming the file (not as "not found").
 */
export async function resolveWeights(spec: WeightsSpec, opts: ResolveOptions = {}): Promise<ResolvedWeights> {
  if (opts.path) return checkedGiven(spec, opts.path, `${spec.description} (explicit path)`, 'explicit', opts.sha256);
  const env = process.env[spec.envVar];
  if (env) return checkedGiven(spec, env, `${spec.description} (environment variable ${spec.envVar})`, 'env', opts.sha256);
  const cached = weightsCachePath(spec);
  const bad: { file: string; found: string }[] = [];
  if (fs.existsSync(cached)) {
    const got = sha256File(cached);
    if (got === spec.sha256) return { path: cached, source: 'cache', sha256: spec.sha256 };
    bad.push({ file: cached, found: got });
  }
  const shared = sharedPath(...spec.sharedDir, spec.fileName);
  if (shared) {
    const got = sha256File(shared);
    if (got === spec.sha256) return { path: shared, source: 'shared', sha256: spec.sha256 };
    bad.push({ file: shared, found: got });
  }
  const allowDownload = opts.download ?? process.env.UNIFIED_AD_OFFLINE !== '1';
  const url = weightsUrl(spec);
  let reason = 'downloads are off (UNIFIED_AD_OFFLINE=1)';
  if (allowDownload) {
    try {
      await downloadVerified(url, cached, spec.sha256, opts.log);
      return { path: cached, source: 'download', sha256: spec.sha256 };
    } catch (e) {
      reason = `download failed: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  if (bad.length) {
    const b = bad[0];
    throw mismatch(
      b.file,
      spec.description,
      spec.sha256,
      b.found,
      `the file is damaged or another version, and no fresh copy could be fetched (${reason}); replace it with ${spec.fileName} from ${url}, ` +
        `or point ${spec.envVar} or backbone.path at a good copy`,
    );
  }
  throw new UserError(
    `${spec.description} not found (${reason}). Put ${spec.fileName} (sha256 ${spec.sha256.slice(0, 12)}…, from ${url}) at ${cached}, ` +
      `or set ${spec.envVar}=/path/to/${spec.fileName}, or pass the path explicitly`,
  );
}

/**
 * Downloads `url` to `dest` through a temporary file in the same folder, hashing on the way; the file
 * appears at `dest` (atomic rename) only when its sha256 matches, else nothing is left behind.
 */
export async function downloadVerified(url: string, dest: string, sha256: string, log?: (line: string) => void): Promise<void> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.download-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const say = log ?? ((l: string) => (process.env.VITEST || process.env.UNIFIED_AD_QUIET === '1' ? undefined : process.stderr.write(`${l}\n`)));
  say(`downloading ${url} → ${dest}`);
  try {
    const res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(300_000) });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} for ${url}`);
    const hash = crypto.createHash('sha256');
    const fd = fs.openSync(tmp, 'w');
    try {
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        hash.update(value);
        fs.writeSync(fd, value);
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    const got = hash.digest('hex');
    if (got !== sha256) throw new Error(`checksum mismatch for ${url}: sha256 ${got}, expected ${sha256}`);
    fs.renameSync(tmp, dest);
  } finally {
    if (fs.existsSync(tmp)) fs.rmSync(tmp, { force: true });
  }
}
