// Finding backbone weights: explicit path → environment variable → cache folder → the shared folder
// (../shared/weights/...) → download from a public URL (sha256-checked) into the cache → a UserError
// saying where to put the file.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { cacheDir, sharedPath } from '../paths';

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
  /** an explicit file (wins over everything; its checksum is not enforced, only recorded) */
  path?: string;
  /** allow the download step (default true; UNIFIED_AD_OFFLINE=1 turns it off) */
  download?: boolean;
  /** messages about what was done (download progress); default: stderr unless quiet */
  log?: (line: string) => void;
}

function mustExist(file: string, what: string): string {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new UserError(`${what}: file not found: ${file}`);
  return file;
}

/**
 * Resolves a weights file in the documented order. Cache and shared copies must match the expected
 * sha256 (a mismatching cache copy is ignored and replaced by a fresh download); explicit and
 * environment paths are used as given.
 */
export async function resolveWeights(spec: WeightsSpec, opts: ResolveOptions = {}): Promise<ResolvedWeights> {
  if (opts.path) {
    const p = mustExist(path.resolve(opts.path), `${spec.description} (explicit path)`);
    return { path: p, source: 'explicit', sha256: sha256File(p) };
  }
  const env = process.env[spec.envVar];
  if (env) {
    const p = mustExist(path.resolve(env), `${spec.description} (environment variable ${spec.envVar})`);
    return { path: p, source: 'env', sha256: sha256File(p) };
  }
  const cached = weightsCachePath(spec);
  if (fs.existsSync(cached) && sha256File(cached) === spec.sha256) return { path: cached, source: 'cache', sha256: spec.sha256 };
  const shared = sharedPath(...spec.sharedDir, spec.fileName);
  if (shared && sha256File(shared) === spec.sha256) return { path: shared, source: 'shared', sha256: spec.sha256 };
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
