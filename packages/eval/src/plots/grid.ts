// Anomaly-map grids in the style of the UniAD paper's Fig. 3b: one row per test sample, columns
// input image | ground-truth mask | anomaly map over the image | (reconstructors) per-pixel reconstruction error.
// All inputs are plain typed arrays; sharp composes the tiles, text and a colour bar into one PNG.
import * as path from 'node:path';
import sharp from 'sharp';
import type { AnomalyMap } from '@unified-ad/core';
import { Rng, UserError, writeFileAtomic } from '@unified-ad/core';
import { resizeBilinear } from '../postprocess';
import { MASK_THRESHOLD } from '../ranking';
import { applyColormap, type ColormapName } from './colormap';

/** One row of the grid. */
export interface GridSample {
  /** RGB image, HWC, values 0..255 */
  image: ArrayLike<number>;
  height: number;
  width: number;
  /** ground-truth mask height × width (>= 0.5 anomalous); omitted/null = all normal */
  mask?: ArrayLike<number> | null;
  /** anomaly map: height × width values, or an AnomalyMap of any size (resized bilinearly) */
  map: ArrayLike<number> | AnomalyMap;
  /** per-pixel reconstruction error (same conventions as map); adds a column when any sample has it */
  reconError?: ArrayLike<number> | AnomalyMap;
  /** 0 normal, 1 anomalous (shown in the row label) */
  label?: 0 | 1;
  /** image score (shown in the row label) */
  score?: number;
  /** short id shown in the row label, e.g. "broken_large/003" */
  name?: string;
}

export interface GridOptions {
  /** title above the grid, e.g. the class name */
  title?: string;
  /** colormap of the anomaly map and the error (default 'turbo') */
  colormap?: ColormapName;
  /** value range of the anomaly-map colours (default: min and max over all maps of the grid, so rows compare) */
  range?: [number, number];
  /** value range of the reconstruction error colours (default: min/max over the grid's error maps) */
  errorRange?: [number, number];
  /** opacity of the heat map over the image (default 0.5) */
  alpha?: number;
  /** side of each tile in pixels (default 160) */
  tile?: number;
  /** outline the ground truth on the heat-map tile (default true) */
  contour?: boolean;
}

function isAnomalyMap(m: unknown): m is AnomalyMap {
  return typeof m === 'object' && m !== null && 'data' in m && 'height' in m && 'width' in m;
}

function mapAt(m: ArrayLike<number> | AnomalyMap, h: number, w: number, what: string): ArrayLike<number> {
  if (isAnomalyMap(m)) {
    if (m.height === h && m.width === w) return m.data;
    return resizeBilinear(m, h, w).data;
  }
  if (m.length !== h * w) throw new UserError(`${what}: ${m.length} values for a ${h}×${w} image`);
  return m;
}

function minMax(arrays: ArrayLike<number>[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return Number.isFinite(lo) ? [lo, hi] : [0, 1];
}

/** Indices of `nNormal` normal and `nAnomalous` anomalous samples: the first ones, or a seeded random pick. */
export function pickGridSamples(labels: ArrayLike<number>, nNormal: number, nAnomalous: number, rng?: Rng): number[] {
  const normal: number[] = [];
  const anomalous: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? anomalous : normal).push(i);
  if (rng) {
    rng.shuffle(normal);
    rng.shuffle(anomalous);
  }
  const pick = [...normal.slice(0, nNormal).sort((a, b) => a - b), ...anomalous.slice(0, nAnomalous).sort((a, b) => a - b)];
  return pick;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const FONT = "DejaVu Sans, Arial, Helvetica, sans-serif";

/** Renders the grid as PNG bytes. */
export async function renderAnomalyGrid(samples: GridSample[], opts: GridOptions = {}): Promise<Buffer> {
  if (samples.length === 0) throw new UserError('renderAnomalyGrid: no samples given');
  const cmap = opts.colormap ?? 'turbo';
  const alpha = opts.alpha ?? 0.5;
  const tile = opts.tile ?? 160;
  const contour = opts.contour ?? true;
  const withError = samples.some((s) => s.reconError !== undefined);
  // maps at image resolution
  const maps = samples.map((s, r) => mapAt(s.map, s.height, s.width, `renderAnomalyGrid: sample ${r} map`));
  const errs = samples.map((s, r) => (s.reconError !== undefined ? mapAt(s.reconError, s.height, s.width, `renderAnomalyGrid: sample ${r} reconError`) : null));
  const [lo, hi] = opts.range ?? minMax(maps);
  const [elo, ehi] = opts.errorRange ?? minMax(errs.filter((e): e is ArrayLike<number> => e !== null));

  // header labels must fit a tile (DejaVu Sans 14 px: about 8 px a character)
  const columns = ['input image', 'ground truth', 'anomaly map', ...(withError ? [tile >= 170 ? 'reconstruction error' : 'recon. error'] : [])];
  const gap = 6;
  const labelW = 130;
  const titleH = opts.title ? 40 : 8;
  const headH = 26;
  const barH = withError ? 84 : 48;
  const W = labelW + columns.length * (tile + gap) + 12;
  const H = titleH + headH + samples.length * (tile + gap) + barH;

  const composites: sharp.OverlayOptions[] = [];
  const texts: string[] = [];
  if (opts.title) texts.push(`<text x="${W / 2}" y="27" font-size="20" font-weight="bold" text-anchor="middle">${esc(opts.title)}</text>`);
  columns.forEach((c, j) => {
    const x = labelW + j * (tile + gap) + tile / 2;
    texts.push(`<text x="${x}" y="${titleH + 17}" font-size="14" text-anchor="middle">${esc(c)}</text>`);
  });

  const toTile = async (rgb: Uint8Array, h: number, w: number, nearest = false) =>
    sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width: w, height: h, channels: 3 } })
      .resize(tile, tile, { fit: 'fill', kernel: nearest ? 'nearest' : 'lanczos3' })
      .png()
      .toBuffer();

  for (let r = 0; r < samples.length; r++) {
    const s = samples[r];
    const { height: h, width: w } = s;
    const n = h * w;
    if (s.image.length !== n * 3) throw new UserError(`renderAnomalyGrid: sample ${r} image has ${s.image.length} values, expected ${h}×${w}×3`);
    if (s.mask && s.mask.length !== n) throw new UserError(`renderAnomalyGrid: sample ${r} mask has ${s.mask.length} values, expected ${h}×${w}`);
    const img = new Uint8Array(n * 3);
    for (let i = 0; i < n * 3; i++) img[i] = Math.max(0, Math.min(255, Math.round(s.image[i])));
    const fg = new Uint8Array(n);
    if (s.mask) for (let i = 0; i < n; i++) fg[i] = s.mask[i] >= MASK_THRESHOLD ? 1 : 0;
    const maskRgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) maskRgb[3 * i] = maskRgb[3 * i + 1] = maskRgb[3 * i + 2] = fg[i] ? 255 : 0;
    const heat = applyColormap(maps[r], lo, hi, cmap);
    const over = new Uint8Array(n * 3);
    for (let i = 0; i < n * 3; i++) over[i] = Math.round((1 - alpha) * img[i] + alpha * heat[i]);
    if (contour) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = y * w + x;
          if (!fg[i]) continue;
          const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || !fg[i - 1] || !fg[i + 1] || !fg[i - w] || !fg[i + w];
          if (edge) over[3 * i] = over[3 * i + 1] = over[3 * i + 2] = 255;
        }
      }
    }
    const top = titleH + headH + r * (tile + gap);
    const tiles = [await toTile(img, h, w), await toTile(maskRgb, h, w, true), await toTile(over, h, w)];
    if (withError) {
      const e = errs[r];
      tiles.push(e ? await toTile(applyColormap(e, elo, ehi, cmap), h, w) : await toTile(new Uint8Array(n * 3).fill(230), h, w));
    }
    tiles.forEach((t, j) => composites.push({ input: t, left: labelW + j * (tile + gap), top }));
    const kind = s.label === undefined ? '' : s.label === 1 ? 'anomalous' : 'normal';
    const lines = [kind, s.name ?? '', s.score !== undefined ? `score ${s.score.toPrecision(4)}` : ''].filter(Boolean);
    lines.forEach((line, k) => {
      const y = top + tile / 2 + (k - (lines.length - 1) / 2) * 18 + 5;
      const colour = k === 0 && s.label === 1 ? '#c0392b' : k === 0 && s.label === 0 ? '#1e7b34' : '#333';
      texts.push(`<text x="${labelW - 10}" y="${y}" font-size="${k === 0 ? 14 : 12}" text-anchor="end" fill="${colour}">${esc(line)}</text>`);
    });
  }

  // colour bars: the heat map's range under the anomaly-map column, the error's under the error column
  const bars: [number, number, number, string][] = [[2, lo, hi, 'anomaly score']];
  if (withError) bars.push([3, elo, ehi, tile >= 170 ? 'reconstruction error' : 'recon. error']);
  const barTop = titleH + headH + samples.length * (tile + gap) + 4;
  const ramp = new Float32Array(256).map((_, i) => i);
  for (const [j, a, b, name] of bars) {
    const bw = tile;
    const bh = 12;
    const rgb = applyColormap(ramp, 0, 255, cmap);
    const bar = await sharp(Buffer.from(rgb), { raw: { width: 256, height: 1, channels: 3 } }).resize(bw, bh, { fit: 'fill', kernel: 'nearest' }).png().toBuffer();
    const x = labelW + j * (tile + gap);
    composites.push({ input: bar, left: x, top: barTop });
    texts.push(`<text x="${x}" y="${barTop + bh + 14}" font-size="12" text-anchor="start">${esc(fmtNum(a))}</text>`);
    texts.push(`<text x="${x + bw}" y="${barTop + bh + 14}" font-size="12" text-anchor="end">${esc(fmtNum(b))}</text>`);
    texts.push(`<text x="${x + bw / 2}" y="${barTop + bh + 30}" font-size="12" text-anchor="middle">${esc(name)}</text>`);
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="${FONT}" fill="#111">${texts.join('')}</svg>`;
  composites.push({ input: Buffer.from(svg), left: 0, top: 0 });
  return sharp({ create: { width: W, height: H, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .png()
    .toBuffer();
}

function fmtNum(v: number): string {
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : v.toPrecision(3);
}

/** Renders and writes the grid (PNG) to `file`; returns the path. */
export async function writeAnomalyGrid(file: string, samples: GridSample[], opts: GridOptions = {}): Promise<string> {
  const png = await renderAnomalyGrid(samples, opts);
  writeFileAtomic(path.resolve(file), png);
  return path.resolve(file);
}
