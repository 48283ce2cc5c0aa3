import * as fs from 'node:fs';
import * as path from 'node:path';

/** Repository root (the folder whose package.json declares the workspaces). */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).workspaces) return dir;
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** The read-only shared material (`../shared` beside the repo, or $UNIFIED_AD_SHARED), or null when absent. */
export function sharedDir(): string | null {
  const d = process.env.UNIFIED_AD_SHARED ?? path.resolve(repoRoot(), '..', 'shared');
  return fs.existsSync(d) ? d : null;
}

/** Path inside the shared folder, or null (with the reason) when it is not there: tests skip on null. */
export function sharedPath(...parts: string[]): string | null {
  const d = sharedDir();
  if (!d) return null;
  const p = path.join(d, ...parts);
  return fs.existsSync(p) ? p : null;
}

/** User cache folder ($UNIFIED_AD_CACHE or ~/.cache/unified-ad). */
export function cacheDir(...parts: string[]): string {
  const base = process.env.UNIFIED_AD_CACHE ?? path.join(require('node:os').homedir(), '.cache', 'unified-ad');
  return path.join(base, ...parts);
}

/** Writes a file atomically: temp file in the same folder, fsync, rename. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
