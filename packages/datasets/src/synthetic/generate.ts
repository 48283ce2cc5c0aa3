// Deterministic synthetic industrial dataset, written to disk in the MVTec AD layout so that the MVTec
// loader reads it: <root>/<class>/{train/good, test/good, test/<defect>, ground_truth/<defect>/<id>_mask.png}.
// Each image has its own seed derived from (seed, class name, split, defect type, index): an image does
// not change when other classes or counts change.
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { Rng, UserError, withLock } from '@unified-ad/core';
import { ANY_ORIENTATION, SYNTHETIC_CLASSES } from './classes';
import { addSensorNoise, composite, toUint8 } from './primitives';

export const SYNTHETIC_VERSION = 1;
export const SYNTHETIC_MARKER = 'synthetic.json';
/** largest `maxShift`: an object offset by more would leave the image */
export const MAX_SHIFT = 0.1;

export interface SyntheticOptions {
  /** class names among fabric, wood, disk, screw (default all four) */
  classes?: string[];
  /** normal training images per class (default 32) */
  trainPerClass?: number;
  /** normal test images per class (default 8) */
  testGoodPerClass?: number;
  /** defective test images per class, spread round-robin over the class's defect types (default 12) */
  testDefectPerClass?: number;
  /** image side in pixels (default 224) */
  size?: number;
  /** master seed (default 0) */
  seed?: number;
  /**
   * objects (disk, screw): largest rotation in degrees around the class's reference pose (default 180: any
   * orientation, as a part dropped on a table; smaller: parts placed by a fixture). Textures are unaffected.
   */
  maxRotation?: number;
  /**
   * objects (disk, screw): largest offset of the object's centre from the image centre, along x and along y, as a
   * fraction of the image side (default null: the class's own, disk 0.04, screw 0.06). Textures are unaffected.
   */
  maxShift?: number | null;
}

export type ResolvedSyntheticOptions = Required<SyntheticOptions>;

export interface SyntheticInfo {
  root: string;
  options: ResolvedSyntheticOptions;
  /** defect types of each class */
  defects: Record<string, string[]>;
  /** false when an identical existing set was reused */
  generated: boolean;
}

export const SYNTHETIC_CLASS_NAMES = Object.keys(SYNTHETIC_CLASSES);

export function resolveSyntheticOptions(o: SyntheticOptions = {}): ResolvedSyntheticOptions {
  const r: ResolvedSyntheticOptions = {
    classes: o.classes ?? SYNTHETIC_CLASS_NAMES,
    trainPerClass: o.trainPerClass ?? 32,
    testGoodPerClass: o.testGoodPerClass ?? 8,
    testDefectPerClass: o.testDefectPerClass ?? 12,
    size: o.size ?? 224,
    seed: o.seed ?? 0,
    maxRotation: o.maxRotation ?? ANY_ORIENTATION,
    maxShift: o.maxShift ?? null,
  };
  if (r.classes.length === 0) throw new UserError('synthetic: classes must not be empty');
  for (const c of r.classes) {
    if (!SYNTHETIC_CLASSES[c]) throw new UserError(`synthetic: unknown class '${c}' (known: ${SYNTHETIC_CLASS_NAMES.join(', ')})`);
  }
  if (new Set(r.classes).size !== r.classes.length) throw new UserError(`synthetic: duplicate class in [${r.classes.join(', ')}]`);
  const int = (k: keyof ResolvedSyntheticOptions, lo: number, hi: number) => {
    const v = r[k] as number;
    if (!Number.isInteger(v) || v < lo || v > hi) throw new UserError(`synthetic: ${k} must be an integer in [${lo}, ${hi}], got ${v}`);
  };
  int('trainPerClass', 1, 100000);
  int('testGoodPerClass', 0, 100000);
  int('testDefectPerClass', 0, 100000);
  int('size', 32, 2048);
  int('seed', 0, 2 ** 32 - 1);
  if (!Number.isFinite(r.maxRotation) || r.maxRotation < 0 || r.maxRotation > ANY_ORIENTATION) throw new UserError(`synthetic: maxRotation must be a number of degrees in [0, ${ANY_ORIENTATION}], got ${r.maxRotation}`);
  if (r.maxShift !== null && (!Number.isFinite(r.maxShift) || r.maxShift < 0 || r.maxShift > MAX_SHIFT)) throw new UserError(`synthetic: maxShift must be a fraction of the image side in [0, ${MAX_SHIFT}], got ${r.maxShift}`);
  return r;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A 32-bit seed mixed from several integers (FNV-1a over their bytes + avalanche). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    for (let k = 0; k < 4; k++) h = Math.imul(h ^ ((p >>> (8 * k)) & 255), 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

export interface RenderedSample {
  /** RGB HWC uint8, size×size */
  image: Uint8Array;
  /** the same image without the defect (identical for normal samples) */
  clean: Uint8Array;
  /** 0/1 mask, null for normal samples */
  mask: Uint8Array | null;
  size: number;
}

/**
 * Renders one synthetic image. `key` identifies it (split, defect, index) so that the same key and seed
 * always give the same pixels. `defect` null = normal.
 */
export function renderSynthetic(className: string, size: number, seed: number, key: string, defect: string | null = null, maxRotation = ANY_ORIENTATION, maxShift: number | null = null): RenderedSample {
  const cls = SYNTHETIC_CLASSES[className];
  if (!cls) throw new UserError(`synthetic: unknown class '${className}' (known: ${SYNTHETIC_CLASS_NAMES.join(', ')})`);
  if (defect !== null && !cls.defects.includes(defect)) throw new UserError(`synthetic: class '${className}' has no defect type '${defect}'`);
  const rng = new Rng(mixSeed(seed, hashString(className), hashString(key)));
  const scene = cls.render(size, rng, { maxRotation, maxShift });
  const noiseSeed = rng.nextUint32();
  const defectRng = rng.fork();
  const clean = scene.rgb.slice();
  addSensorNoise(clean, new Rng(noiseSeed), scene.noiseSigma);
  if (defect === null) {
    const img = toUint8(clean);
    return { image: img, clean: img, mask: null, size };
  }
  const rgb = scene.rgb;
  const mask = composite(rgb, scene.defect(defect, defectRng));
  addSensorNoise(rgb, new Rng(noiseSeed), scene.noiseSigma); // same noise as the clean image
  return { image: toUint8(rgb), clean: toUint8(clean), mask, size };
}

async function writePng(file: string, data: Uint8Array, size: number, channels: 1 | 3): Promise<void> {
  const buf = await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width: size, height: size, channels } })
    .png({ compressionLevel: 6, adaptiveFiltering: false })
    .toBuffer();
  await fs.promises.writeFile(file, buf);
}

function sameOptions(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function readMarker(root: string): { version: number; options: ResolvedSyntheticOptions } | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, SYNTHETIC_MARKER), 'utf8'));
  } catch {
    return null;
  }
}

/** The lock file that serialises writers of one synthetic set (beside the folder, which is replaced by rename). */
export const syntheticLockFile = (root: string) => `${path.resolve(root)}.lock`;

/**
 * Writes the synthetic dataset to `root` (replacing an earlier synthetic set there; never other folders).
 * The set is written into a temporary sibling folder and renamed into place, under a lock (`<root>.lock`):
 * a concurrent writer waits, and a reader never sees a half-written or half-deleted folder.
 */
export async function generateSynthetic(root: string, options: SyntheticOptions = {}): Promise<SyntheticInfo> {
  const o = resolveSyntheticOptions(options);
  const target = path.resolve(root);
  return withLock(target, 'writing synthetic data', () => writeSyntheticLocked(target, o), { file: syntheticLockFile(target), wait: true });
}

/** Removes temporary folders left next to `target` by killed generators (call holding the lock). */
function removeStaleTemps(target: string): void {
  const dir = path.dirname(target);
  const base = path.basename(target);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (n.startsWith(`${base}.tmp-`) || n.startsWith(`${base}.old-`)) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
  }
}

async function writeSyntheticLocked(target: string, o: ResolvedSyntheticOptions): Promise<SyntheticInfo> {
  if (fs.existsSync(target)) {
    const isOurs = readMarker(target) !== null;
    const isEmpty = fs.statSync(target).isDirectory() && fs.readdirSync(target).length === 0;
    if (!isOurs && !isEmpty) throw new UserError(`refusing to write synthetic data into a non-empty folder that is not a synthetic set (no ${SYNTHETIC_MARKER}): ${target}`);
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  removeStaleTemps(target);
  const tmp = `${target}.tmp-${process.pid}-${Date.now().toString(36)}`;
  fs.mkdirSync(tmp, { recursive: true });
  const defects: Record<string, string[]> = {};
  try {
    const pending: Promise<void>[] = [];
    const flush = async (max: number) => {
      while (pending.length > max) await pending.shift();
    };
    for (const c of o.classes) {
      const cls = SYNTHETIC_CLASSES[c];
      defects[c] = cls.defects;
      const dir = (...p: string[]) => {
        const d = path.join(tmp, c, ...p);
        fs.mkdirSync(d, { recursive: true });
        return d;
      };
      const jobs: { sub: string; key: string; defect: string | null; file: string; maskFile?: string }[] = [];
      const name = (i: number) => String(i).padStart(3, '0');
      for (let i = 0; i < o.trainPerClass; i++) jobs.push({ sub: 'train/good', key: `train/good/${i}`, defect: null, file: path.join(dir('train', 'good'), `${name(i)}.png`) });
      for (let i = 0; i < o.testGoodPerClass; i++) jobs.push({ sub: 'test/good', key: `test/good/${i}`, defect: null, file: path.join(dir('test', 'good'), `${name(i)}.png`) });
      const perType = new Map<string, number>();
      for (let i = 0; i < o.testDefectPerClass; i++) {
        const d = cls.defects[i % cls.defects.length];
        const k = perType.get(d) ?? 0;
        perType.set(d, k + 1);
        jobs.push({
          sub: `test/${d}`,
          key: `test/${d}/${k}`,
          defect: d,
          file: path.join(dir('test', d), `${name(k)}.png`),
          maskFile: path.join(dir('ground_truth', d), `${name(k)}_mask.png`),
        });
      }
      for (const j of jobs) {
        const r = renderSynthetic(c, o.size, o.seed, j.key, j.defect, o.maxRotation, o.maxShift);
        pending.push(writePng(j.file, r.image, o.size, 3));
        if (j.maskFile && r.mask) {
          const m = new Uint8Array(r.mask.length);
          for (let i = 0; i < m.length; i++) m[i] = r.mask[i] ? 255 : 0;
          pending.push(writePng(j.maskFile, m, o.size, 1));
        }
        await flush(8);
      }
    }
    await flush(0);
    // the marker last: a folder with a marker is complete
    fs.writeFileSync(path.join(tmp, SYNTHETIC_MARKER), JSON.stringify({ generator: 'unified-ad synthetic', version: SYNTHETIC_VERSION, options: o }, null, 2) + '\n');
    if (fs.existsSync(target)) {
      // move the old set aside in one rename, put the new one in place in another, then delete the old one
      const old = `${target}.old-${process.pid}-${Date.now().toString(36)}`;
      fs.renameSync(target, old);
      fs.renameSync(tmp, target);
      fs.rmSync(old, { recursive: true, force: true });
    } else fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { root: target, options: o, defects, generated: true };
}

const reuseInfo = (root: string, o: ResolvedSyntheticOptions): SyntheticInfo => {
  const defects: Record<string, string[]> = {};
  for (const c of o.classes) defects[c] = SYNTHETIC_CLASSES[c].defects;
  return { root, options: o, defects, generated: false };
};

const matches = (root: string, o: ResolvedSyntheticOptions): boolean => {
  const marker = readMarker(root);
  return !!marker && marker.version === SYNTHETIC_VERSION && sameOptions(marker.options, o);
};

/**
 * Like generateSynthetic, but reuses `root` when it already holds a set made with the same options. Safe for
 * several processes on one cache: the first generates (under the lock), the others wait and then reuse it.
 */
export async function ensureSynthetic(root: string, options: SyntheticOptions = {}): Promise<SyntheticInfo> {
  const o = resolveSyntheticOptions(options);
  const target = path.resolve(root);
  if (matches(target, o)) return reuseInfo(target, o);
  return withLock(
    target,
    'writing synthetic data',
    async () => (matches(target, o) ? reuseInfo(target, o) : writeSyntheticLocked(target, o)), // another process may have made it meanwhile
    { file: syntheticLockFile(target), wait: true },
  );
}
