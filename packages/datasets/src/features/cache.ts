// On-disk feature cache: one file per (image, backbone, weights, layers, grid, input size, dtype),
// named by a content-addressed sha256 key. Entry = 64-byte header + payload:
//   0 'UADF' | 4 u16 version (1) | 6 u16 dtype (1 float32, 2 float16) | 8 u32 height | 12 u32 width
//   | 16 u32 channels | 20 u32 payload bytes | 24 u32 CRC-32 of the payload | 28 32-byte sha256 key
//   | 60 reserved | 64 payload (row-major HWC, little-endian)
// Writes are atomic (temp file + rename); a corrupted, truncated or misplaced entry fails the header,
// length, key or CRC check, is deleted, and reads as a miss.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { engineInfo, writeFileAtomic, type FeatureMap, type FpMath } from '@unified-ad/core';
import { decodeFloat16, encodeFloat16 } from './float16';

export type CacheDtype = 'float32' | 'float16';

const MAGIC = 0x46444155; // 'UADF' little-endian
// Bump when the entry format OR any backbone's numerics change (e.g. a new graph executor), so stale
// features are never reused under an unchanged key. 2: embedded MobileNetV2 compiled to a native graph.
const VERSION = 2;
export const HEADER_BYTES = 64;
const DTYPE_CODE: Record<CacheDtype, number> = { float32: 1, float16: 2 };

/** What goes into a cache key besides the pixels. */
export interface FeatureKeyParts {
  backbone: string;
  weightsHash: string;
  layers: string[];
  size: number;
  inputSize: number;
  dtype: CacheDtype;
}

/** Content-addressed key: sha256 over the key parts and the resized input pixels (float32 bytes). */
export function featureKey(pixels: Float32Array, parts: FeatureKeyParts, fpmath: FpMath = engineInfo.fpmath): string {
  const h = crypto.createHash('sha256');
  // oneDNN math mode bf16 (UNIFIED_AD_FPMATH) rounds the backbone's convolutions too: its features get their own keys
  const m = fpmath === 'bf16' ? { m: 'bf16' } : {};
  h.update(JSON.stringify({ v: VERSION, b: parts.backbone, w: parts.weightsHash, l: parts.layers, s: parts.size, i: parts.inputSize, d: parts.dtype, ...m }));
  h.update('\n');
  h.update(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength));
  return h.digest('hex');
}

export function encodeEntry(key: string, map: FeatureMap, dtype: CacheDtype): Uint8Array {
  const payload =
    dtype === 'float16' ? new Uint8Array(encodeFloat16(map.data).buffer) : new Uint8Array(map.data.buffer, map.data.byteOffset, map.data.byteLength);
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint16(4, VERSION, true);
  dv.setUint16(6, DTYPE_CODE[dtype], true);
  dv.setUint32(8, map.height, true);
  dv.setUint32(12, map.width, true);
  dv.setUint32(16, map.channels, true);
  dv.setUint32(20, payload.length, true);
  dv.setUint32(24, zlib.crc32(payload), true);
  out.set(Buffer.from(key, 'hex'), 28);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** Decodes an entry, or returns the reason it is invalid. `out` receives the values when given. */
export function decodeEntry(bytes: Uint8Array, key: string, out?: Float32Array): FeatureMap | string {
  if (bytes.length < HEADER_BYTES) return `truncated (${bytes.length} bytes)`;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) return 'bad magic';
  if (dv.getUint16(4, true) !== VERSION) return `unsupported version ${dv.getUint16(4, true)}`;
  const code = dv.getUint16(6, true);
  const [height, width, channels, nbytes] = [dv.getUint32(8, true), dv.getUint32(12, true), dv.getUint32(16, true), dv.getUint32(20, true)];
  const n = height * width * channels;
  const bpe = code === 1 ? 4 : code === 2 ? 2 : 0;
  if (!bpe) return `unknown dtype code ${code}`;
  if (nbytes !== n * bpe || bytes.length !== HEADER_BYTES + nbytes) return `length mismatch (${bytes.length} bytes for ${height}×${width}×${channels})`;
  if (Buffer.from(bytes.subarray(28, 60)).toString('hex') !== key) return 'key mismatch';
  const payload = bytes.subarray(HEADER_BYTES);
  if (zlib.crc32(payload) !== dv.getUint32(24, true)) return 'checksum mismatch';
  const data = out ?? new Float32Array(n);
  if (out && out.length !== n) return `size mismatch (${n} values for a ${out.length}-value slot)`;
  // view the payload as 32/16-bit values (copying first when it is not aligned)
  let buf = payload.buffer;
  let off = payload.byteOffset;
  if (off % 4 !== 0) {
    const c = new Uint8Array(nbytes);
    c.set(payload);
    buf = c.buffer;
    off = 0;
  }
  if (bpe === 4) data.set(new Float32Array(buf, off, n));
  else decodeFloat16(new Uint16Array(buf, off, n), data);
  return { data, height, width, channels };
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** entries found invalid (and deleted) */
  corrupted: number;
  writes: number;
}

/** A folder of feature entries. */
export class FeatureCache {
  readonly stats: CacheStats = { hits: 0, misses: 0, corrupted: 0, writes: 0 };
  /** reasons of the invalid entries seen (for logs and tests) */
  readonly problems: string[] = [];

  constructor(readonly dir: string) {}

  entryPath(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.uadf`);
  }

  /** The entry's features, or null (missing or invalid: an invalid file is deleted). */
  get(key: string, out?: Float32Array): FeatureMap | null {
    const file = this.entryPath(key);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      this.stats.misses++;
      return null;
    }
    const r = decodeEntry(bytes, key, out);
    if (typeof r === 'string') {
      this.stats.corrupted++;
      this.stats.misses++;
      this.problems.push(`${file}: ${r}`);
      fs.rmSync(file, { force: true });
      return null;
    }
    this.stats.hits++;
    return r;
  }

  put(key: string, map: FeatureMap, dtype: CacheDtype): void {
    writeFileAtomic(this.entryPath(key), encodeEntry(key, map, dtype));
    this.stats.writes++;
  }
}
