// Pools all pixels of a class's test images (maps + masks at the evaluation resolution) into GroupedCounts,
// optionally weighting each anomalous pixel by 1/|its ground-truth region| (8-connected component) for PRO.
import type { AnomalyMap } from '@unified-ad/core';
import { UserError } from '@unified-ad/core';
import { labelComponents8 } from './components';
import { CountBuilder, type GroupedCounts } from './counts';
import { keyToFloat } from './radix';
import { MASK_THRESHOLD } from './ranking';

/** An anomaly map: an AnomalyMap, or its row-major Float32Array (other numbers are rounded to float32). */
export type MapLike = AnomalyMap | Float32Array | ArrayLike<number>;
/** A ground-truth mask (values >= 0.5 are anomalous); null/undefined = all normal. */
export type MaskLike = AnomalyMap | ArrayLike<number> | null | undefined;

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

function throwNonFinite(what: string, k: number, i: number, v: number): never {
  throw new UserError(`${what}: map ${k}: score at index ${i} is ${v}; scores must be finite numbers`);
}

/** Binary foreground (1 where mask >= 0.5) of one mask and its count; throws on NaN. */
function binarise(m: ArrayLike<number>, what: string, k: number): { fg: Uint8Array; count: number } {
  const fg = new Uint8Array(m.length);
  let c = 0;
  for (let i = 0; i < m.length; i++) {
    const v = m[i];
    if (v >= MASK_THRESHOLD) {
      fg[i] = 1;
      c++;
    } else if (!(v < MASK_THRESHOLD)) {
      throw new UserError(`${what}: mask ${k} has value ${v} at pixel ${i}`);
    }
  }
  return { fg, count: c };
}

/**
 * Binarises one mask and collects the keys of its positive pixels in the same pass (the path without regions).
 * `pos` must have room for every pixel of the map after `ip`. Returns the foreground (null when empty) and the fill.
 */
function binariseAndCollect(
  m: ArrayLike<number>,
  bits: Uint32Array,
  pos: Uint32Array,
  ip: number,
  d: Float32Array,
  what: string,
  k: number,
): { fg: Uint8Array | null; ip: number } {
  let fg: Uint8Array | null = null;
  const n = bits.length;
  for (let i = 0; i < n; i++) {
    const v = m[i];
    if (v >= MASK_THRESHOLD) {
      if (fg === null) fg = new Uint8Array(n);
      fg[i] = 1;
      const b = bits[i];
      if ((b & 0x7f800000) === 0x7f800000) throwNonFinite(what, k, i, d[i]);
      let key = (b ^ ((b >> 31) | 0x80000000)) >>> 0;
      if (key === 0x7fffffff) key = 0x80000000;
      pos[ip++] = key;
    } else if (!(v < MASK_THRESHOLD)) {
      throw new UserError(`${what}: mask ${k} has value ${v} at pixel ${i}`);
    }
  }
  return { fg, ip };
}

/** Positive pixels of one map: keys (and global region ids) appended at `ip`; returns the new fill. */
function collectPositives(
  bits: Uint32Array,
  fg: Uint8Array,
  pos: Uint32Array,
  ip: number,
  payload: Uint32Array | undefined,
  region: Int32Array | null,
  regionBase: number,
  d: Float32Array,
  what: string,
  k: number,
): number {
  const n = bits.length;
  for (let i = 0; i < n; i++) {
    if (fg[i] !== 1) continue;
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000) throwNonFinite(what, k, i, d[i]);
    let key = (b ^ ((b >> 31) | 0x80000000)) >>> 0;
    if (key === 0x7fffffff) key = 0x80000000;
    if (payload !== undefined) payload[ip] = regionBase + region![i];
    pos[ip++] = key;
  }
  return ip;
}

/** Negative pixels of one map: bucket histogram, keys kept where a bucket holds a positive (counts.ts). */
function countNegatives(
  bits: Uint32Array,
  fg: Uint8Array | null,
  negHist: Uint32Array,
  posBucket: Uint8Array,
  shift: number,
  out: Uint32Array,
  fill: number,
  d: Float32Array,
  what: string,
  k: number,
): number {
  const n = bits.length;
  for (let i = 0; i < n; i++) {
    if (fg !== null && fg[i] === 1) continue;
    const b = bits[i];
    if ((b & 0x7f800000) === 0x7f800000) throwNonFinite(what, k, i, d[i]);
    let key = (b ^ ((b >> 31) | 0x80000000)) >>> 0;
    if (key === 0x7fffffff) key = 0x80000000;
    const bucket = key >>> shift;
    negHist[bucket]++;
    if (posBucket[bucket] === 1) out[fill++] = key;
  }
  return fill;
}

/**
 * Counts all pixels of `maps` against their masks (see counts.ts): exact, without sorting the normal pixels.
 * Two passes: the masks with the anomalous pixels (with their 8-connected regions when `regions`), then every
 * normal pixel once. Throws a UserError on mismatched sizes or NaN/Inf scores. Memory: the keys of the positives
 * (+ region ids), of the negatives that share a score bucket with a positive, the binarised masks, ~5 MB tables.
 */
export function countPixels(maps: MapLike[], masks: MaskLike[], opts: PixelOptions = {}): GroupedCounts {
  const what = opts.what ?? 'pixels';
  if (maps.length !== masks.length) throw new UserError(`${what}: ${maps.length} maps but ${masks.length} masks`);
  const datas: Float32Array[] = [];
  const fgs: (Uint8Array | null)[] = [];
  let pos = new Uint32Array(1 << 16);
  let payload = opts.regions ? new Uint32Array(1 << 16) : undefined;
  const sizes: number[] = [];
  const work = {};
  let ip = 0;
  for (let k = 0; k < maps.length; k++) {
    const d = mapData(maps[k]);
    datas.push(d);
    const m = maskData(masks[k]);
    let fg: Uint8Array | null = null;
    if (m && !payload) {
      if (m.length !== d.length) throw new UserError(`${what}: map ${k} has ${d.length} pixels but its mask has ${m.length}`);
      if (ip + d.length > pos.length) {
        const grown = new Uint32Array(Math.max(ip + d.length, 2 * pos.length));
        grown.set(pos.subarray(0, ip));
        pos = grown;
      }
      const r = binariseAndCollect(m, new Uint32Array(d.buffer, d.byteOffset, d.length), pos, ip, d, what, k);
      fg = r.fg;
      ip = r.ip;
    } else if (m) {
      if (m.length !== d.length) throw new UserError(`${what}: map ${k} has ${d.length} pixels but its mask has ${m.length}`);
      const b = binarise(m, what, k);
      if (b.count > 0) {
        fg = b.fg;
        if (ip + b.count > pos.length) {
          const cap = Math.max(ip + b.count, 2 * pos.length);
          const grown = new Uint32Array(cap);
          grown.set(pos.subarray(0, ip));
          pos = grown;
          if (payload) {
            const pg = new Uint32Array(cap);
            pg.set(payload.subarray(0, ip));
            payload = pg;
          }
        }
        let region: Int32Array | null = null;
        let regionBase = 0;
        if (payload) {
          const [h, w] = shapeOf(maps[k], masks[k], opts, `${what}: map ${k}`, d.length);
          const cc = labelComponents8(fg, h, w, work);
          region = cc.labels;
          regionBase = sizes.length - 1; // region r (1-based) -> global index regionBase + r
          for (const s of cc.sizes) sizes.push(s);
        }
        ip = collectPositives(new Uint32Array(d.buffer, d.byteOffset, d.length), fg, pos, ip, payload, region, regionBase, d, what, k);
      }
    }
    fgs.push(fg);
  }
  const builder = new CountBuilder(keyToFloat);
  builder.setPositives(pos.subarray(0, ip), payload?.subarray(0, ip), opts.regions ? sizes : undefined);
  for (let k = 0; k < maps.length; k++) {
    const d = datas[k];
    builder.reserve(d.length);
    builder.mixedFill = countNegatives(
      new Uint32Array(d.buffer, d.byteOffset, d.length),
      fgs[k],
      builder.negHist,
      builder.posBucket,
      builder.shift,
      builder.mixed,
      builder.mixedFill,
      d,
      what,
      k,
    );
  }
  return builder.finish();
}
