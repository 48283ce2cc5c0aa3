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
  const buf = fs.readFileSync(file);
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== MAGIC) throw new UserError(`${file}: not a unified-ad checkpoint`);
  const hlen = buf.readUInt32LE(8);
  let header: { meta: Record<string, unknown>; index: { name: string; shape: number[]; offset: number; length: number }[]; crc: number; bytes: number };
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + hlen));
  } catch {
    throw new UserError(`${file}: corrupted checkpoint header`);
  }
  const body = buf.subarray(12 + hlen);
  if (body.length !== header.bytes || crc32c(body) !== header.crc) throw new UserError(`${file}: checkpoint is truncated or corrupted (checksum mismatch)`);
  const all = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  return {
    meta: header.meta,
    tensors: header.index.map((e) => ({ name: e.name, shape: e.shape, data: all.subarray(e.offset, e.offset + e.length) })),
  };
}
