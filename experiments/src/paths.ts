import * as path from 'node:path';

/** A path for messages: relative to the current directory when inside it, else absolute. */
export function displayPath(p: string): string {
  const r = path.relative(process.cwd(), p);
  return r === '' ? '.' : r.startsWith('..') || path.isAbsolute(r) ? path.resolve(p) : r;
}

/** File-name stems for a list of files, unique: the base name, prefixed with parent folders where names collide. */
export function uniqueStems(files: string[]): string[] {
  const parts = files.map((f) => path.resolve(f).replace(/\.[^./\\]+$/, '').split(path.sep).filter(Boolean));
  const depth = parts.map(() => 1);
  for (let round = 0; round < 64; round++) {
    const stems = parts.map((p, i) => p.slice(-depth[i]).join('_'));
    const dup = stems.map((s, i) => stems.indexOf(s) !== i || stems.lastIndexOf(s) !== i);
    if (!dup.some(Boolean)) return stems;
    dup.forEach((d, i) => d && depth[i] < parts[i].length && depth[i]++);
    if (dup.every((d, i) => !d || depth[i] >= parts[i].length)) return stems.map((s, i) => `${i}_${s}`);
  }
  return parts.map((p, i) => `${i}_${p[p.length - 1]}`);
}
