// A heat-map PNG for one image: the image, and the anomaly map (eval's turbo colour map) blended over it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import type { AnomalyMap } from '@unified-ad/core';
import { applyColormap } from '@unified-ad/eval';

export interface HeatmapOptions {
  /** colour range (default: the map's min and max) */
  range?: [number, number];
  /** weight of the heat map in the blend (default 0.5) */
  alpha?: number;
}

/** Writes [image | heat map over image] side by side, at the map's resolution. `image` is RGB HWC 0..255. */
export async function writeHeatmapPng(file: string, image: Float32Array, map: AnomalyMap, opts: HeatmapOptions = {}): Promise<void> {
  const { height: h, width: w, data } = map;
  if (image.length !== h * w * 3) throw new Error(`heat map: image has ${image.length / 3} pixels, map ${h}×${w}`);
  let lo = opts.range?.[0] ?? Infinity;
  let hi = opts.range?.[1] ?? -Infinity;
  if (!opts.range) for (const v of data) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  const heat = applyColormap(data, lo, hi, 'turbo');
  const a = opts.alpha ?? 0.5;
  const out = Buffer.alloc(h * 2 * w * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const src = (y * w + x) * 3;
      const [r, g, b] = [heat[3 * (y * w + x)], heat[3 * (y * w + x) + 1], heat[3 * (y * w + x) + 2]];
      const left = (y * 2 * w + x) * 3;
      const right = (y * 2 * w + w + x) * 3;
      for (let k = 0; k < 3; k++) out[left + k] = Math.round(Math.min(255, Math.max(0, image[src + k])));
      out[right] = Math.round((1 - a) * image[src] + a * r);
      out[right + 1] = Math.round((1 - a) * image[src + 1] + a * g);
      out[right + 2] = Math.round((1 - a) * image[src + 2] + a * b);
    }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(out, { raw: { width: 2 * w, height: h, channels: 3 } }).png().toFile(file);
}
