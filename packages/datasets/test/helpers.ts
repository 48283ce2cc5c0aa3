// Small on-disk fixtures for the datasets tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ds-${prefix}-`));
}

/** A w×h RGB PNG whose pixels are a simple function of (x, y, seed). */
export async function writeRgbPng(file: string, w: number, h: number, seed = 0): Promise<void> {
  const d = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) d[(y * w + x) * 3 + c] = (x * 13 + y * 29 + c * 70 + seed * 41) % 256;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(d, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}

/** A w×h grey mask PNG: 255 inside the rectangle [x0, x1) × [y0, y1), else 0. */
export async function writeMaskPng(file: string, w: number, h: number, rect: [number, number, number, number] | null): Promise<void> {
  const d = Buffer.alloc(w * h);
  if (rect) {
    const [x0, y0, x1, y1] = rect;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) d[y * w + x] = 255;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(d, { raw: { width: w, height: h, channels: 1 } }).png().toFile(file);
}

/**
 * A tiny MVTec-layout category: train/good 000..002, test/good 000, test/crack 000..001 with masks
 * (crack/001's mask is empty). Images are 24×20.
 */
export async function makeTinyMvtec(root: string, category = 'widget'): Promise<string> {
  const c = path.join(root, category);
  for (let i = 0; i < 3; i++) await writeRgbPng(path.join(c, 'train', 'good', `00${i}.png`), 24, 20, i);
  await writeRgbPng(path.join(c, 'test', 'good', '000.png'), 24, 20, 7);
  await writeRgbPng(path.join(c, 'test', 'crack', '000.png'), 24, 20, 8);
  await writeRgbPng(path.join(c, 'test', 'crack', '001.png'), 24, 20, 9);
  await writeMaskPng(path.join(c, 'ground_truth', 'crack', '000_mask.png'), 24, 20, [4, 4, 12, 10]);
  await writeMaskPng(path.join(c, 'ground_truth', 'crack', '001_mask.png'), 24, 20, null);
  return c;
}

/** Cuts a file to a fraction of its length (a truncated download). */
export function truncateFile(file: string, fraction: number): void {
  const b = fs.readFileSync(file);
  fs.writeFileSync(file, b.subarray(0, Math.floor(b.length * fraction)));
}

/** Expects `p` to reject with a one-line UserError whose message contains every `parts`. */
export async function expectUserError(p: Promise<unknown> | (() => unknown), ...parts: string[]): Promise<string> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  if (!(err instanceof Error)) throw new Error(`expected a UserError containing ${JSON.stringify(parts)}, but nothing was thrown`);
  if (err.name !== 'UserError') throw new Error(`expected a UserError, got ${err.name}: ${err.message}`);
  if (err.message.includes('\n')) throw new Error(`UserError message spans several lines: ${JSON.stringify(err.message)}`);
  for (const part of parts) {
    if (!err.message.includes(part)) throw new Error(`UserError message ${JSON.stringify(err.message)} does not contain ${JSON.stringify(part)}`);
  }
  return err.message;
}
