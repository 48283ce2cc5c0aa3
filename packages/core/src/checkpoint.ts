// Checkpoints: one file holding model weights, optimizer slots, epoch, RNG state and free-form metadata.
// Layout: "UADCKPT1" | uint32 header length | JSON header | float32 payload. The header carries a CRC32C of the
// payload, so a truncated or corrupted file is detected. Written atomically (temp file + rename).
import * as fs from 'node:fs';
import { crc32c } from './tensorboard';
import { writeFileAtomic } from './paths';
import { UserError } from './errors';

const MAGIC = 'UADCKPT1';

export interface CheckpointTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface Checkpoint {
  meta: Record<string, unknown>;
  tensors: CheckpointTensor[];
}

export function saveCheckpoint(file: string, ckpt: Checkpoint): void {
  let total = 0;
  for (const t of ckpt.tensors) total += t.data.length;
  const payload = new Float32Array(total);
  const index: { name: string; shape: number[]; offset: number; length: number }[] = [];
  let off = 0;
  for (const t of ckpt.tensors) {
    payload.set(t.data, off);
    index.push({ name: t.name, shape: t.shape, offset: off, length: t.data.length });
    off += t.data.length;
  }
  const bytes = new Uint8Array(payload.buffer);
  const header = Buffer.from(JSON.stringify({ meta: ckpt.meta, index, crc: crc32c(bytes), bytes: bytes.length }));
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'ascii');
  head.writeUInt32LE(header.length, 8);
  writeFileAtomic(file, Buffer.concat([head, header, bytes]));
}

export function loadCheckpoint(file: string): Checkpoint {
  if (!fs.existsSync(file)) throw new UserError(`checkpoint not found: ${file}`);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new UserError(`${file}: cannot read checkpoint (${(e as Error).message.split('\n')[0]})`);
  }
  const bad = (why: string) => new UserError(`${file}: checkpoint is truncated or corrupted (${why}); resume from another checkpoint or re-run`);
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== MAGIC) {
    if (buf.length < 12 && MAGIC.startsWith(buf.toString('ascii', 0, Math.min(8, buf.length)))) throw bad(`${buf.length} bytes`);
    throw new UserError(`${file}: not a unified-ad checkpoint`);
  }
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length) throw bad(`header of ${hlen} bytes, file of ${buf.length}`);
  let header: { meta: Record<string, unknown>; index: { name: string; shape: number[]; offset: number; length: number }[]; crc: number; bytes: number };
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + hlen));
  } catch {
    throw bad('header is not valid JSON');
  }
  const okEntry = (e: unknown): boolean => {
    const x = e as { name?: unknown; shape?: unknown; offset?: unknown; length?: unknown };
    return (
      !!x &&
      typeof x.name === 'string' &&
      Array.isArray(x.shape) &&
      x.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      Number.isInteger(x.offset) &&
      Number.isInteger(x.length) &&
      (x.offset as number) >= 0 &&
      (x.length as number) >= 0
    );
  };
  if (!header || typeof header !== 'object' || !Number.isInteger(header.bytes) || typeof header.crc !== 'number' || !Array.isArray(header.index) || !header.index.every(okEntry)) {
    throw bad('header lacks bytes, crc or a valid tensor index');
  }
  const body = buf.subarray(12 + hlen);
  if (body.length !== header.bytes) throw bad(`payload of ${body.length} bytes, header says ${header.bytes}`);
  if (crc32c(body) !== header.crc) throw bad('checksum mismatch');
  const floats = header.bytes / 4;
  if (!Number.isInteger(floats) || header.index.some((e) => e.offset + e.length > floats)) throw bad('tensor index points outside the payload');
  const all = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  return {
    meta: header.meta && typeof header.meta === 'object' ? header.meta : {},
    tensors: header.index.map((e) => ({ name: e.name, shape: e.shape, data: all.subarray(e.offset, e.offset + e.length) })),
  };
}
