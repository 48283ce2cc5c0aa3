// TensorBoard event files (TFRecord of Event protos with scalar summaries), written without TensorFlow's Python.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC32C_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function maskedCrc(buf: Uint8Array): number {
  const c = crc32c(buf);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

// --- a tiny protobuf writer -------------------------------------------------------------------
function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}
const key = (field: number, wire: number) => varint((field << 3) | wire);
function lenDelim(field: number, bytes: Uint8Array | number[]): number[] {
  return [...key(field, 2), ...varint(bytes.length), ...bytes];
}
function double(field: number, x: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return [...key(field, 1), ...b];
}
function float(field: number, x: number): number[] {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x);
  return [...key(field, 5), ...b];
}

/** Event { wall_time=1 (double), step=2 (int64), file_version=3 | summary=5 { value=1 { tag=1, simple_value=2 } } } */
function eventBytes(wallTime: number, step: number, body: number[]): Uint8Array {
  return Uint8Array.from([...double(1, wallTime), ...key(2, 0), ...varint(step), ...body]);
}

export class TensorBoardWriter {
  private fd: number;
  readonly file: string;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.file = path.join(dir, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${os.hostname()}.${process.pid}`);
    this.fd = fs.openSync(this.file, 'a');
    this.writeRecord(eventBytes(Date.now() / 1000, 0, lenDelim(3, Buffer.from('brain.Event:2'))));
  }

  private writeRecord(data: Uint8Array): void {
    const header = Buffer.alloc(12);
    header.writeBigUInt64LE(BigInt(data.length), 0);
    header.writeUInt32LE(maskedCrc(header.subarray(0, 8)), 8);
    const footer = Buffer.alloc(4);
    footer.writeUInt32LE(maskedCrc(data), 0);
    fs.writeSync(this.fd, Buffer.concat([header, data, footer]));
  }

  /** Writes scalars under their tags at a step. */
  scalars(step: number, values: Record<string, number>): void {
    const vals: number[] = [];
    for (const [tag, v] of Object.entries(values)) {
      if (!Number.isFinite(v)) continue;
      vals.push(...lenDelim(1, [...lenDelim(1, Buffer.from(tag)), ...float(2, v)]));
    }
    if (vals.length) this.writeRecord(eventBytes(Date.now() / 1000, step, lenDelim(5, vals)));
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Reads back scalar events (for tests and reports). */
export function readTensorBoardScalars(file: string): { step: number; tag: string; value: number }[] {
  const buf = fs.readFileSync(file);
  const out: { step: number; tag: string; value: number }[] = [];
  let off = 0;
  while (off + 12 <= buf.length) {
    const len = Number(buf.readBigUInt64LE(off));
    if (buf.readUInt32LE(off + 8) !== maskedCrc(buf.subarray(off, off + 8))) throw new Error(`${file}: bad length crc at ${off}`);
    const data = buf.subarray(off + 12, off + 12 + len);
    if (buf.readUInt32LE(off + 12 + len) !== maskedCrc(data)) throw new Error(`${file}: bad data crc at ${off}`);
    off += 16 + len;
    parseEvent(data, out);
  }
  return out;
}

function readVarint(b: Uint8Array, p: { i: number }): bigint {
  let r = 0n, s = 0n;
  for (;;) {
    const x = b[p.i++];
    r |= BigInt(x & 0x7f) << s;
    if (!(x & 0x80)) return r;
    s += 7n;
  }
}

function fields(b: Uint8Array): { f: number; w: number; v: bigint | Uint8Array | number }[] {
  const p = { i: 0 };
  const out: { f: number; w: number; v: bigint | Uint8Array | number }[] = [];
  while (p.i < b.length) {
    const k = Number(readVarint(b, p));
    const f = k >> 3, w = k & 7;
    if (w === 0) out.push({ f, w, v: readVarint(b, p) });
    else if (w === 1) { out.push({ f, w, v: Buffer.from(b.subarray(p.i, p.i + 8)).readDoubleLE(0) }); p.i += 8; }
    else if (w === 5) { out.push({ f, w, v: Buffer.from(b.subarray(p.i, p.i + 4)).readFloatLE(0) }); p.i += 4; }
    else if (w === 2) { const n = Number(readVarint(b, p)); out.push({ f, w, v: b.subarray(p.i, p.i + n) }); p.i += n; }
    else throw new Error(`unsupported wire type ${w}`);
  }
  return out;
}

function parseEvent(data: Uint8Array, out: { step: number; tag: string; value: number }[]): void {
  let step = 0;
  const summaries: Uint8Array[] = [];
  for (const x of fields(data)) {
    if (x.f === 2) step = Number(x.v as bigint);
    if (x.f === 5) summaries.push(x.v as Uint8Array);
  }
  for (const s of summaries)
    for (const val of fields(s).filter((x) => x.f === 1)) {
      let tag = '', value = NaN;
      for (const y of fields(val.v as Uint8Array)) {
        if (y.f === 1) tag = Buffer.from(y.v as Uint8Array).toString();
        if (y.f === 2) value = y.v as number;
      }
      out.push({ step, tag, value });
    }
}
