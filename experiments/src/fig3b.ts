// Fig. 3b: for a few anomalous test images, input | ground truth | each net's anomaly (error) map at its peak epoch
// and at its final epoch, from the maps the runs kept at every periodic evaluation (eval.keepMaps). One colour
// scale per row, shared by every net and both epochs, so a row shows which net still localises the defect and
// which copies it back (the identical shortcut: the defect's error fades as training goes on).
import * as path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic, type AnomalyMap } from '@unified-ad/core';
import { applyColormap, svgToPng, type ColormapName } from '@unified-ad/eval';
import { readKeptMaps, type KeptMapSample } from '@unified-ad/engine';
import type { CellResult } from './grid/plan';
import { peakEpoch } from './pictures';

/** One net's maps for the picture, aligned with the samples (null: the net kept no map of that image). */
export interface Fig3bNet {
  name: string;
  peak: number;
  final: number;
  peakMaps: (AnomalyMap | null)[];
  finalMaps: (AnomalyMap | null)[];
}

export type Fig3bTile =
  | { kind: 'image'; rgb: Uint8Array; size: number }
  | { kind: 'mask'; mask: Uint8Array | null; size: number }
  | { kind: 'map'; map: AnomalyMap | null; net: string; epoch: number };

export interface Fig3bLayout {
  /** column headers, e.g. "input", "ground truth", "mlp @peak e12", "mlp final e40" */
  columns: string[];
  rows: {
    /** row label lines: class, defect type, image id */
    label: string[];
    /** the row's colour range: min and max over every map tile of the row (all nets, both epochs) */
    range: [number, number];
    tiles: Fig3bTile[];
  }[];
}

/** The grid: one row per kept image, columns input | ground truth | per net: map at its peak, map at its final epoch. */
export function fig3bLayout(samples: KeptMapSample[], size: number, nets: Fig3bNet[]): Fig3bLayout {
  const columns = ['input', 'ground truth', ...nets.flatMap((n) => [`${n.name} @peak e${n.peak}`, `${n.name} final e${n.final}`])];
  const rows = samples.map((s, r) => {
    const maps: Fig3bTile[] = nets.flatMap((n) => [
      { kind: 'map' as const, map: n.peakMaps[r] ?? null, net: n.name, epoch: n.peak },
      { kind: 'map' as const, map: n.finalMaps[r] ?? null, net: n.name, epoch: n.final },
    ]);
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of maps) if (t.kind === 'map' && t.map) for (const v of t.map.data) if (Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
    const range: [number, number] = Number.isFinite(lo) ? [lo, hi] : [0, 1];
    const tiles: Fig3bTile[] = [{ kind: 'image', rgb: s.image, size }, { kind: 'mask', mask: s.mask, size }, ...maps];
    return { label: [s.className, s.defectType, s.id.split('/').slice(-1)[0]!], range, tiles };
  });
  return { columns, rows };
}

const FONT = 'DejaVu Sans, Arial, Helvetica, sans-serif';
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Both ends of a range in one notation: exponential when either end needs it. */
export function formatRange([lo, hi]: [number, number]): [string, string] {
  const big = Math.max(Math.abs(lo), Math.abs(hi));
  const exp = big >= 1000 || big < 0.01 || (lo !== 0 && Math.abs(lo) < 0.01 && big < 1);
  return exp ? [lo.toExponential(2), hi.toExponential(2)] : [lo.toPrecision(3), hi.toPrecision(3)];
}

/**
 * A tile as a PNG data URI: at its own resolution (the SVG viewer scales it smoothly; keeps the SVG small), or, with
 * `px`, enlarged to px × px by nearest neighbour first (masks and colour bars: sharp edges in every viewer).
 */
async function pngTile(rgb: Uint8Array, w: number, h: number, px?: number): Promise<string> {
  let img = sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width: w, height: h, channels: 3 } });
  if (px) img = img.resize(px, px, { fit: 'fill', kernel: 'nearest' });
  const buf = await img.png({ compressionLevel: 9 }).toBuffer();
  return `data:image/png;base64,${buf.toString('base64')}`;
}

export interface Fig3bRenderOptions {
  title?: string;
  /** lines under the grid */
  caption?: string[];
  /** tile side in SVG px (default 96) */
  tile?: number;
  /** pixel density of the PNG (and of the enlarged masks), relative to the SVG (default 2) */
  scale?: number;
  colormap?: ColormapName;
}

/** The grid as SVG (tiles embedded as PNG): one colour bar per row, at its right, with the row's range. */
export async function renderFig3bSvg(layout: Fig3bLayout, opts: Fig3bRenderOptions = {}): Promise<string> {
  const tile = opts.tile ?? 96;
  const px = Math.round(tile * (opts.scale ?? 2));
  const cmap = opts.colormap ?? 'turbo';
  const gap = 6;
  const labelW = 112;
  const titleH = opts.title ? 34 : 8;
  const headH = 40;
  const barW = 14;
  const cols = layout.columns.length;
  const gridW = cols * tile + (cols - 1) * gap;
  const caption = opts.caption ?? [];
  const W = labelW + gridW + 16 + barW + 70;
  const H = titleH + headH + layout.rows.length * (tile + gap) + 12 + caption.length * 17 + 8;
  const out: string[] = [`<rect width="${W}" height="${H}" fill="#ffffff"/>`];
  if (opts.title) out.push(`<text x="${W / 2}" y="23" font-size="17" font-weight="bold" text-anchor="middle">${esc(opts.title)}</text>`);
  const colX = (j: number) => labelW + j * (tile + gap);
  // headers: "mlp @peak e12" → "mlp" over "@peak e12"; a net's name spans its two columns
  layout.columns.forEach((c, j) => {
    const k = c.indexOf(' ');
    const isMap = j >= 2 && k > 0;
    const sub = isMap ? c.slice(k + 1) : c;
    out.push(`<text x="${colX(j) + tile / 2}" y="${titleH + headH - 7}" font-size="12" text-anchor="middle">${esc(sub)}</text>`);
    if (isMap && (j - 2) % 2 === 0) {
      const x0 = colX(j);
      const x1 = colX(j + 1) + tile;
      out.push(`<text x="${(x0 + x1) / 2}" y="${titleH + headH - 23}" font-size="14" font-weight="bold" text-anchor="middle">${esc(c.slice(0, k))}</text>`);
      out.push(`<line x1="${x0 + 4}" x2="${x1 - 4}" y1="${titleH + headH - 19}" y2="${titleH + headH - 19}" stroke="#999" stroke-width="1"/>`);
    }
  });
  const ramp = Float32Array.from({ length: 256 }, (_, i) => 255 - i);
  const barImg = await pngTile(applyColormap(ramp, 0, 255, cmap), 1, 256);
  for (const [r, row] of layout.rows.entries()) {
    const top = titleH + headH + r * (tile + gap);
    for (const [j, t] of row.tiles.entries()) {
      let href: string | null = null;
      if (t.kind === 'image') href = await pngTile(t.rgb, t.size, t.size);
      else if (t.kind === 'mask') {
        const rgb = new Uint8Array(t.size * t.size * 3);
        if (t.mask) t.mask.forEach((v, i) => (rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v ? 255 : 0));
        href = t.mask ? await pngTile(rgb, t.size, t.size, px) : null;
      } else if (t.map) href = await pngTile(applyColormap(t.map.data, row.range[0], row.range[1], cmap), t.map.width, t.map.height);
      if (href) out.push(`<image x="${colX(j)}" y="${top}" width="${tile}" height="${tile}" preserveAspectRatio="none" href="${href}"/>`);
      else {
        out.push(`<rect x="${colX(j)}" y="${top}" width="${tile}" height="${tile}" fill="#e6e6e6"/>`);
        out.push(`<text x="${colX(j) + tile / 2}" y="${top + tile / 2 + 4}" font-size="11" text-anchor="middle" fill="#666">${t.kind === 'mask' ? 'no mask' : 'no map'}</text>`);
      }
    }
    row.label.forEach((line, k) => {
      const y = top + tile / 2 + (k - (row.label.length - 1) / 2) * 16 + 4;
      out.push(`<text x="${labelW - 8}" y="${y}" font-size="${k === 0 ? 13 : 11}" ${k === 0 ? 'font-weight="bold" ' : ''}text-anchor="end" fill="${k === 1 ? '#c0392b' : '#222'}">${esc(line)}</text>`);
    });
    const bx = labelW + gridW + 14;
    out.push(`<image x="${bx}" y="${top}" width="${barW}" height="${tile}" preserveAspectRatio="none" href="${barImg}"/>`);
    out.push(`<rect x="${bx}" y="${top}" width="${barW}" height="${tile}" fill="none" stroke="#888" stroke-width="0.6"/>`);
    const [lo, hi] = formatRange(row.range);
    out.push(`<text x="${bx + barW + 4}" y="${top + 10}" font-size="11">${esc(hi)}</text>`);
    out.push(`<text x="${bx + barW + 4}" y="${top + tile}" font-size="11">${esc(lo)}</text>`);
  }
  const capTop = titleH + headH + layout.rows.length * (tile + gap) + 14;
  caption.forEach((line, k) => out.push(`<text x="${labelW}" y="${capTop + k * 17}" font-size="12" fill="#333">${esc(line)}</text>`));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT}" fill="#111">${out.join('')}</svg>`;
}

/** Writes <base>.svg and <base>.png of a layout; returns both paths. */
export async function writeFig3b(base: string, layout: Fig3bLayout, opts: Fig3bRenderOptions = {}): Promise<{ svg: string; png: string }> {
  const svg = await renderFig3bSvg(layout, opts);
  const b = path.resolve(base.replace(/\.(svg|png)$/i, ''));
  writeFileAtomic(`${b}.svg`, svg);
  writeFileAtomic(`${b}.png`, await svgToPng(svg, opts.scale ?? 2));
  return { svg: `${b}.svg`, png: `${b}.png` };
}

/**
 * Fig. 3b of the fig3 cells (each method's first seed, unified): peak = the evaluated epoch with the highest test
 * P-AUROC (as in the fig3 table), final = the last evaluated epoch. Returns the PNG path, or null when no run
 * kept maps (eval.keepMaps = 0); `notes` gets a line for each method left out and why.
 */
export async function writeFig3bPicture(base: string, results: CellResult[], title: string, notes: string[] = []): Promise<string | null> {
  const nets: Fig3bNet[] = [];
  let ref: { samples: KeptMapSample[]; size: number } | null = null;
  for (const m of [...new Set(results.map((r) => r.cell.method))]) {
    const run = results.filter((r) => r.cell.method === m && r.cell.setting === 'unified').sort((a, b) => a.cell.seed - b.cell.seed)[0];
    if (!run) continue;
    const kept = readKeptMaps(run.dir);
    if (!kept || !kept.epochs.length) {
      notes.push(`fig3b: ${m} kept no anomaly maps (eval.keepMaps = 0, or a method without maps)`);
      continue;
    }
    const ev = (run.result.groups[0]?.history ?? []).filter((h) => h.eval && kept.epochs.includes(h.epoch));
    const epochs = ev.map((h) => h.epoch);
    const peak = peakEpoch(epochs, ev.map((h) => (h.eval as { mean?: { p_auroc?: number } }).mean?.p_auroc ?? NaN));
    const final = epochs[epochs.length - 1];
    if (peak === null || final === undefined) {
      notes.push(`fig3b: ${m} has no evaluated epoch with a P-AUROC and kept maps`);
      continue;
    }
    ref ??= { samples: kept.samples, size: kept.size };
    const at = (e: number) => {
      const maps = kept.maps(e);
      const byId = new Map(kept.samples.map((s, i) => [s.id, maps[i]!]));
      return ref!.samples.map((s) => byId.get(s.id) ?? null);
    };
    nets.push({ name: m, peak, final, peakMaps: at(peak), finalMaps: at(final) });
  }
  if (!ref || !nets.length) return null;
  const layout = fig3bLayout(ref.samples, ref.size, nets);
  const caption = [
    'Anomaly (reconstruction-error) maps at each net\'s peak epoch (highest test P-AUROC) and at its final epoch (first seed).',
    'Colour (turbo): one scale per row, shared by every net and both epochs; its range is at the right of the row. Ground truth: white = defect.',
  ];
  return (await writeFig3b(base, layout, { title, caption })).png;
}
