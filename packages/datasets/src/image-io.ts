// Decoding and resizing of images and masks (sharp / libvips for decoding).
//
// Conventions (checked against Pillow by test/resize.test.ts with committed golden values):
// - images: bilinear = Pillow's BILINEAR, a triangle filter on pixel centres whose support grows with
//   the reduction factor (so downscaling is antialiased). When neither side is enlarged, sharp's
//   `kernel: 'linear'` does exactly that (within ±1 grey level, since it rounds to 8 bits); when a
//   side is enlarged, sharp's affine upsampler is shifted by a fraction of a pixel, so we decode at
//   native size and run the same filter in JS (`resizeBilinear`).
// - masks: decoded at native size, binarised (value > half of full scale, i.e. > 127 for 8 bits),
//   then resized nearest-neighbour on pixel centres: src = floor((i + 0.5) * in / out).
import * as fs from 'node:fs';
import sharp from 'sharp';
import { UserError } from '@unified-ad/core';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp'];

/** Half-open test for image files by extension (case-insensitive). */
export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

async function readFileAsync(file: string): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file}: ${firstLine(e)}`);
  }
}

export interface ImageHeader {
  width: number;
  height: number;
  channels: number;
}

/**
 * Width/height of an image from its header only (reads at most the first 256 KiB, the whole file if the
 * header lies further). Throws a UserError naming the file when it is missing or not an image.
 */
export async function readImageHeader(file: string): Promise<ImageHeader> {
  let head: Buffer;
  let whole = false;
  try {
    const fh = await fs.promises.open(file, 'r');
    try {
      const st = await fh.stat();
      const n = Math.min(st.size, 256 * 1024);
      head = Buffer.alloc(n);
      await fh.read(head, 0, n, 0);
      whole = n === st.size;
    } finally {
      await fh.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file}: ${firstLine(e)}`);
  }
  if (head.length === 0) throw new UserError(`empty image file: ${file}`);
  try {
    const m = await sharp(head).metadata();
    if (m.width && m.height) return { width: m.width, height: m.height, channels: m.channels ?? 0 };
  } catch (e) {
    if (whole) throw new UserError(`not a readable image: ${file} (${firstLine(e)})`);
  }
  try {
    const m = await sharp(await readFileAsync(file)).metadata();
    if (!m.width || !m.height) throw new Error('no size in header');
    return { width: m.width, height: m.height, channels: m.channels ?? 0 };
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`not a readable image: ${file} (${firstLine(e)})`);
  }
}

/** A decoded image: row-major interleaved samples, 8-bit or 16-bit. */
export interface RawImage {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  channels: number;
  /** full-scale value: 255 or 65535 */
  max: number;
}

function rawFromSharp(data: Buffer, info: sharp.OutputInfo): RawImage {
  if ((info as sharp.OutputInfo & { depth?: string }).depth === 'ushort') {
    const u16 = new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
    return { data: u16, width: info.width, height: info.height, channels: info.channels, max: 65535 };
  }
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels, max: 255 };
}

/** Fully decodes an image at native size (truncated / corrupt files raise a UserError naming the file). */
export async function decodeImage(file: string): Promise<RawImage> {
  const buf = await readFileAsync(file);
  try {
    const { data, info } = await sharp(buf, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
    return rawFromSharp(data, info);
  } catch (e) {
    throw new UserError(`cannot decode image ${file}: ${firstLine(e)}`);
  }
}

/** Synchronous existence check that names the missing file. */
export function assertFileExists(file: string, what = 'file'): void {
  if (!fs.existsSync(file)) throw new UserError(`${what} not found: ${file}`);
}

/** Converts a decoded image to RGB float32 HWC in [0, 255] (grey replicated, alpha dropped). */
export function toRgbFloat(img: RawImage): Float32Array {
  const { width, height, channels, data } = img;
  const n = width * height;
  const out = new Float32Array(n * 3);
  const scale = img.max === 255 ? 1 : 255 / img.max;
  if (channels >= 3) {
    for (let i = 0; i < n; i++) {
      out[3 * i] = data[i * channels] * scale;
      out[3 * i + 1] = data[i * channels + 1] * scale;
      out[3 * i + 2] = data[i * channels + 2] * scale;
    }
  } else {
    // 1 (grey) or 2 (grey + alpha) channels
    for (let i = 0; i < n; i++) {
      const v = data[i * channels] * scale;
      out[3 * i] = v;
      out[3 * i + 1] = v;
      out[3 * i + 2] = v;
    }
  }
  return out;
}

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  maxTaps: number;
}

/** Pillow's triangle-filter coefficients for one axis (ImagingResample, BILINEAR, support 1). */
function triangleTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxTaps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    const n = xmax - xmin;
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const x = Math.abs((k + xmin - center + 0.5) / filterScale);
      const w = x < 1 ? 1 - x : 0;
      weights[o * maxTaps + k] = w;
      sum += w;
    }
    if (sum > 0) for (let k = 0; k < n; k++) weights[o * maxTaps + k] /= sum;
    start[o] = xmin;
    count[o] = n;
  }
  return { start, count, weights, maxTaps };
}

/**
 * Bilinear resize (Pillow BILINEAR semantics: pixel centres, antialiased when shrinking) of an
 * interleaved float image, separable: horizontal pass then vertical pass.
 */
export function resizeBilinear(src: ArrayLike<number>, width: number, height: number, channels: number, outW: number, outH: number): Float32Array {
  if (width === outW && height === outH) return Float32Array.from(src as ArrayLike<number>);
  const tx = triangleTaps(width, outW);
  const ty = triangleTaps(height, outH);
  const tmp = new Float32Array(height * outW * channels);
  for (let y = 0; y < height; y++) {
    const rowIn = y * width * channels;
    const rowOut = y * outW * channels;
    for (let x = 0; x < outW; x++) {
      const s = tx.start[x], n = tx.count[x], wo = x * tx.maxTaps;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += tx.weights[wo + k] * src[rowIn + (s + k) * channels + c];
        tmp[rowOut + x * channels + c] = acc;
      }
    }
  }
  const out = new Float32Array(outH * outW * channels);
  const rowLen = outW * channels;
  for (let y = 0; y < outH; y++) {
    const s = ty.start[y], n = ty.count[y], wo = y * ty.maxTaps;
    const rowOut = y * rowLen;
    for (let k = 0; k < n; k++) {
      const w = ty.weights[wo + k];
      const rowIn = (s + k) * rowLen;
      for (let i = 0; i < rowLen; i++) out[rowOut + i] += w * tmp[rowIn + i];
    }
  }
  return out;
}

/** Nearest-neighbour resize on pixel centres (single channel): src = floor((i + 0.5) * in / out). */
export function resizeNearest(src: ArrayLike<number>, width: number, height: number, outW: number, outH: number): Float32Array {
  const out = new Float32Array(outW * outH);
  const xs = new Int32Array(outW);
  for (let x = 0; x < outW; x++) xs[x] = Math.min(width - 1, Math.floor(((2 * x + 1) * width) / (2 * outW)));
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(height - 1, Math.floor(((2 * y + 1) * height) / (2 * outH)));
    const rowIn = sy * width;
    const rowOut = y * outW;
    for (let x = 0; x < outW; x++) out[rowOut + x] = src[rowIn + xs[x]];
  }
  return out;
}

/**
 * Reads an image file as RGB float32 HWC in [0, 255], resized bilinearly to size×size (aspect ratio is
 * not kept, as in MVTec practice). Grey images are replicated to 3 channels, alpha is dropped.
 */
export async function loadImageFile(file: string, size: number): Promise<Float32Array> {
  const buf = await readFileAsync(file);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf).metadata();
  } catch (e) {
    throw new UserError(`cannot decode image ${file}: ${firstLine(e)}`);
  }
  const w = meta.width ?? 0, h = meta.height ?? 0;
  try {
    if (w >= size && h >= size) {
      // downscale (or same size) on both axes: libvips' linear reducer is Pillow's antialiased triangle filter
      const { data, info } = await sharp(buf, { failOn: 'warning' })
        .resize(size, size, { kernel: 'linear', fit: 'fill', fastShrinkOnLoad: false })
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      return toRgbFloat(rawFromSharp(data, info));
    }
    const { data, info } = await sharp(buf, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
    const rgb = toRgbFloat(rawFromSharp(data, info));
    return resizeBilinear(rgb, info.width, info.height, 3, size, size);
  } catch (e) {
    throw new UserError(`cannot decode image ${file}: ${firstLine(e)}`);
  }
}

/** A binary mask at native resolution. */
export interface BinaryMask {
  data: Uint8Array;
  width: number;
  height: number;
  /** number of positive pixels */
  positives: number;
}

/** Decodes a mask file and binarises it: a pixel is positive when its value > half of full scale (127 for 8 bits). */
export async function decodeMask(file: string): Promise<BinaryMask> {
  const buf = await readFileAsync(file);
  let img: RawImage;
  try {
    const { data, info } = await sharp(buf, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
    img = rawFromSharp(data, info);
  } catch (e) {
    throw new UserError(`cannot decode mask ${file}: ${firstLine(e)}`);
  }
  const { width, height, channels, data } = img;
  const n = width * height;
  const colour = channels >= 3 ? 3 : 1; // ignore alpha
  const thr = img.max / 2;
  const out = new Uint8Array(n);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    let v = data[i * channels];
    for (let c = 1; c < colour; c++) v = Math.max(v, data[i * channels + c]);
    if (v > thr) {
      out[i] = 1;
      positives++;
    }
  }
  return { data: out, width, height, positives };
}

/** Binary mask resized nearest-neighbour to size×size, float32 0/1. */
export function maskToSize(mask: BinaryMask, size: number): Float32Array {
  return resizeNearest(mask.data, mask.width, mask.height, size, size);
}

