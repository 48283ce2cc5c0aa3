// A tiny reader of uncompressed Windows bitmaps (24-bit BGR, 32-bit BGRA), for test images such as
// cat.bmp (sharp cannot decode BMP).
import * as fs from 'node:fs';
import { UserError } from '@unified-ad/core';

export interface RgbImage {
  width: number;
  height: number;
  /** row-major RGB, 3 bytes per pixel, top row first */
  data: Uint8Array;
}

export function decodeBmp(buf: Uint8Array, what = 'bmp'): RgbImage {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 54 || b.toString('latin1', 0, 2) !== 'BM') throw new UserError(`${what}: not a BMP file (missing "BM" signature)`);
  const dataOffset = b.readUInt32LE(10);
  const width = b.readInt32LE(18);
  const rawHeight = b.readInt32LE(22);
  const bpp = b.readUInt16LE(28);
  const compression = b.readUInt32LE(30);
  // BI_RGB = 0; BI_BITFIELDS = 3 is accepted for 32-bit files with the usual BGRA masks
  if (bpp !== 24 && bpp !== 32) throw new UserError(`${what}: ${bpp}-bit BMP is not supported (24 or 32 bit only)`);
  if (compression !== 0 && !(compression === 3 && bpp === 32)) throw new UserError(`${what}: compressed BMP (compression ${compression}) is not supported`);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  const stride = Math.ceil((bpp * width) / 32) * 4;
  if (width <= 0 || height === 0 || dataOffset + stride * height > b.length) throw new UserError(`${what}: truncated or invalid BMP (${width}×${height}, ${b.length} bytes)`);
  const px = bpp / 8;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + stride * (topDown ? y : height - 1 - y);
    for (let x = 0; x < width; x++) {
      const s = row + x * px;
      const d = (y * width + x) * 3;
      data[d] = b[s + 2];
      data[d + 1] = b[s + 1];
      data[d + 2] = b[s];
    }
  }
  return { width, height, data };
}

export function readBmp(file: string): RgbImage {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read (${(e as Error).message.split('\n')[0]})`);
  }
  return decodeBmp(buf, file);
}
