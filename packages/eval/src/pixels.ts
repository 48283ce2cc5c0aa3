// Pools all pixels of a class's test images (maps + masks at the evaluation resolution) into sorted keys,
// optionally tagging each anomalous pixel with its ground-truth region (8-connected component) for PRO.
import type { AnomalyMap } from '@unified-ad/core';
import { UserError } from '@unified-ad/core';
import { labelComponents8 } from './components';
import { assertFiniteBits, countKey, floatBitsToKey, keyToFloat, newRadixHistogram, radixSortU32 } from './radix';
import { MASK_THRESHOLD, type SortedScores } from './ranking';

/** An anomaly map: an AnomalyMap, or its row-major Float32Array (other numbers are rounded to float32). */
export type MapLike = AnomalyMap | Float32Array | ArrayLike<number>;
/** A ground-truth mask (values >= 0.5 are anomalous); null/undefined = all normal. */
export type MaskLike = AnomalyMap | ArrayLike<number> | null | undefined;

export interface SortedPixels extends SortedScores {
  /** number of ground-truth regions over all images (when regions were labelled) */
  regionCount: number;
  /** sizes of the regions, indexed by the payload of `pos` */
  regionSizes?: Uint32Array;
}

export interface PixelOptions {
  /** label 8-connected regions (needed for AUPRO) */
  regions?: boolean;
  /** map height/width when maps and masks are plain arrays (needed for regions) */
  height?: number;
  width?: number;
  /** name used in error messages */
  what?: string;
}

function isAnomalyMap(m: unknown): m is AnomalyMap {
  return typeof m === 'object' && m !== null && 'data' in m && 'height' in m && 'width' in m;
}

export function mapData(m: MapLike): Float32Array {
  const d = isAnomalyMap(m) ? m.data : m;
  return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
}

export function maskData(m: MaskLike): ArrayLike<number> | null {
  if (m === null || m === undefined) return null;
  return isAnomalyMap(m) ? m.data : m;
}

function shapeOf(map: MapLike, mask: MaskLike, opts: PixelOptions, what: string, n: number): [number, number] {
  let h: number | undefined;
  let w: number | undefined;
  if (isAnomalyMap(map)) [h, w] = [map.height, map.width];
  else if (isAnomalyMap(mask)) [h, w] = [mask.height, mask.width];
  else [h, w] = [opts.height, opts.width];
  if (h === undefined || w === undefined) {
    throw new UserError(`${what}: pass AnomalyMap objects or height/width to label ground-truth regions`);
  }
  if (h * w !== n) throw new UserError(`${what}: ${n} values do not fill a ${h}×${w} map`);
  return [h, w];
}

function isPositive(v: number, what: string, img: number, i: number): boolean {
  if (v >= MASK_THRESHOLD) return true;
  if (v < MASK_THRESHOLD) return false;
  throw new UserError(`${what}: mask ${img} has value ${v} at pixel ${i}`);
}

/** Splits and sorts all pixels of `maps` by their masks. Throws a UserError on mismatched sizes or NaN/Inf. */
export function sortPixels(maps: MapLike[], masks: MaskLike[], opts: PixelOptions = {}): SortedPixels {
  const what = opts.what ?? 'pixels';
  if (maps.length !== masks.length) throw new UserError(`${what}: ${maps.length} maps but ${masks.length} masks`);
  // pass 1: count
  let total = 0;
  let p = 0;
  const datas: Float32Array[] = [];
  for (let k = 0; k < maps.length; k++) {
    const d = mapData(maps[k]);
    datas.push(d);
    const m = maskData(masks[k]);
    if (m && m.length !== d.length) {
      throw new UserError(`${what}: map ${k} has ${d.length} pixels but its mask has ${m.length}`);
    }
    total += d.length;
    if (m) for (let i = 0; i < m.length; i++) if (isPositive(m[i], what, k, i)) p++;
  }
  const pos = new Uint32Array(p);
  const neg = new Uint32Array(total - p);
  const payload = opts.regions ? new Uint32Array(p) : undefined;
  const sizes: number[] = [];
  const hp = newRadixHistogram();
  const hn = newRadixHistogram();
  let ip = 0;
  let ineg = 0;
  // pass 2: keys (and region ids)
  for (let k = 0; k < maps.length; k++) {
    const d = datas[k];
    const bits = new Uint32Array(d.buffer, d.byteOffset, d.length);
    const m = maskData(masks[k]);
    let regionOf: Int32Array | null = null;
    let regionBase = 0;
    if (payload && m) {
      const [h, w] = shapeOf(maps[k], masks[k], opts, `${what}: map ${k}`, d.length);
      const fg = new Uint8Array(d.length);
      for (let i = 0; i < fg.length; i++) fg[i] = m[i] >= MASK_THRESHOLD ? 1 : 0;
      const cc = labelComponents8(fg, h, w);
      regionOf = cc.labels;
      regionBase = sizes.length - 1; // region r (1-based) -> global index regionBase + r
      for (const s of cc.sizes) sizes.push(s);
    }
    for (let i = 0; i < d.length; i++) {
      const b = bits[i];
      assertFiniteBits(b, `${what}: map ${k}`, i, () => d[i]);
      const key = floatBitsToKey(b);
      if (m && m[i] >= MASK_THRESHOLD) {
        if (payload) payload[ip] = regionBase + regionOf![i];
        pos[ip++] = key;
        countKey(hp, key);
      } else {
        neg[ineg++] = key;
        countKey(hn, key);
      }
    }
  }
  const scratch = new Uint32Array(Math.max(p, total - p));
  if (payload) radixSortU32(pos, scratch, payload, new Uint32Array(p), hp);
  else radixSortU32(pos, scratch, undefined, undefined, hp);
  radixSortU32(neg, scratch, undefined, undefined, hn);
  return {
    pos,
    neg,
    posPayload: payload,
    keyToValue: keyToFloat,
    regionCount: sizes.length,
    regionSizes: payload ? Uint32Array.from(sizes) : undefined,
  };
}
