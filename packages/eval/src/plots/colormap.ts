// Perceptual colormaps as 256-entry lookup tables (data: colormap-data.ts, generated from matplotlib's tables).
import { UserError } from '@unified-ad/core';
import { COLORMAP_HEX } from './colormap-data';

export type ColormapName = 'viridis' | 'inferno' | 'magma' | 'turbo';
export const COLORMAPS: ColormapName[] = ['viridis', 'inferno', 'magma', 'turbo'];

const cache = new Map<string, Uint8Array>();

/** The 256 × RGB lookup table of a colormap (index 0 = low values). */
export function colormapLut(name: ColormapName): Uint8Array {
  const hit = cache.get(name);
  if (hit) return hit;
  const hex = COLORMAP_HEX[name];
  if (!hex) throw new UserError(`colormap '${name}' is unknown (known: ${COLORMAPS.join(', ')})`);
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256 * 3; i++) lut[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  cache.set(name, lut);
  return lut;
}

/**
 * Maps values to RGB (HWC, 0..255): t = (v − lo) / (hi − lo) clamped to [0, 1], entry round(255·t).
 * A constant range (hi <= lo) maps everything to the middle entry; NaN maps to entry 0.
 */
export function applyColormap(values: ArrayLike<number>, lo: number, hi: number, name: ColormapName = 'turbo'): Uint8Array {
  const lut = colormapLut(name);
  const out = new Uint8Array(values.length * 3);
  const span = hi - lo;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let t = span > 0 ? (v - lo) / span : 0.5;
    if (!(t >= 0)) t = 0;
    else if (t > 1) t = 1;
    const j = Math.round(t * 255) * 3;
    out[3 * i] = lut[j];
    out[3 * i + 1] = lut[j + 1];
    out[3 * i + 2] = lut[j + 2];
  }
  return out;
}
