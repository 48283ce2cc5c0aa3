// A minimal reader of the TFLite flatbuffer (schema: tensorflow/lite/schema/schema.fbs), enough for
// float/int8 CNN graphs: tensors (shape, type, buffer, quantization), operators (opcode, inputs,
// outputs, builtin options) and operator codes. Field ids below are the schema's field order.
import { ByteBuffer } from 'flatbuffers';
import { UserError } from '@unified-ad/core';

/** TensorType enum of the schema. */
export const TFLITE_TYPES = ['float32', 'float16', 'int32', 'uint8', 'int64', 'string', 'bool', 'int16', 'complex64', 'int8'] as const;
export type TfliteType = (typeof TFLITE_TYPES)[number] | 'unknown';

/** BuiltinOperator codes the MobileNet graphs use (schema enum values). */
export const BUILTIN_OPS: Record<number, string> = {
  0: 'ADD',
  1: 'AVERAGE_POOL_2D',
  2: 'CONCATENATION',
  3: 'CONV_2D',
  4: 'DEPTHWISE_CONV_2D',
  6: 'DEQUANTIZE',
  9: 'FULLY_CONNECTED',
  14: 'LOGISTIC',
  17: 'MAX_POOL_2D',
  18: 'MUL',
  19: 'RELU',
  21: 'RELU6',
  22: 'RESHAPE',
  25: 'SOFTMAX',
  34: 'PAD',
  40: 'MEAN',
  114: 'QUANTIZE',
};

export type FusedActivation = 'NONE' | 'RELU' | 'RELU_N1_TO_1' | 'RELU6' | 'TANH' | 'SIGN_BIT';
const ACTIVATIONS: FusedActivation[] = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];

export interface TfliteQuantization {
  scale: Float32Array;
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  type: TfliteType;
  /** index into the model's buffers; constant tensors have a non-empty buffer */
  buffer: number;
  quantization: TfliteQuantization | null;
}

export interface ConvOptions {
  padding: 'same' | 'valid';
  strideW: number;
  strideH: number;
  activation: FusedActivation;
  dilationW: number;
  dilationH: number;
  /** depthwise only */
  depthMultiplier?: number;
}

export interface TfliteOperator {
  index: number;
  /** builtin operator name (e.g. CONV_2D), or BUILTIN_<code> when not in BUILTIN_OPS */
  op: string;
  inputs: number[];
  outputs: number[];
  /** decoded builtin options of the ops this reader knows */
  options: ConvOptions | { activation: FusedActivation } | { newShape: number[] } | { keepDims: boolean } | { beta: number } | null;
}

export interface TfliteModel {
  version: number;
  description: string;
  tensors: TfliteTensor[];
  operators: TfliteOperator[];
  inputs: number[];
  outputs: number[];
  /** raw bytes of each buffer (views into the file; empty for non-constant tensors) */
  buffers: Uint8Array[];
}

/** Accessor for one flatbuffer table. */
class Table {
  constructor(
    readonly bb: ByteBuffer,
    readonly pos: number,
  ) {}
  private off(id: number): number {
    return this.bb.__offset(this.pos, 4 + 2 * id);
  }
  has(id: number): boolean {
    return this.off(id) !== 0;
  }
  int8(id: number, d = 0): number {
    const o = this.off(id);
    return o ? this.bb.readInt8(this.pos + o) : d;
  }
  uint8(id: number, d = 0): number {
    const o = this.off(id);
    return o ? this.bb.readUint8(this.pos + o) : d;
  }
  int32(id: number, d = 0): number {
    const o = this.off(id);
    return o ? this.bb.readInt32(this.pos + o) : d;
  }
  uint32(id: number, d = 0): number {
    const o = this.off(id);
    return o ? this.bb.readUint32(this.pos + o) : d;
  }
  float32(id: number, d = 0): number {
    const o = this.off(id);
    return o ? this.bb.readFloat32(this.pos + o) : d;
  }
  string(id: number): string {
    const o = this.off(id);
    return o ? (this.bb.__string(this.pos + o) as string) : '';
  }
  table(id: number): Table | null {
    const o = this.off(id);
    return o ? new Table(this.bb, this.bb.__indirect(this.pos + o)) : null;
  }
  /** vector of tables */
  tables(id: number): Table[] {
    const o = this.off(id);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    const out: Table[] = [];
    for (let i = 0; i < n; i++) out.push(new Table(this.bb, this.bb.__indirect(start + 4 * i)));
    return out;
  }
  /** vector of scalars of `width` bytes read by `read` */
  scalars(id: number, width: number, read: (p: number) => number): number[] {
    const o = this.off(id);
    if (!o) return [];
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = read(start + width * i);
    return out;
  }
  int32s(id: number): number[] {
    return this.scalars(id, 4, (p) => this.bb.readInt32(p));
  }
  float32s(id: number): number[] {
    return this.scalars(id, 4, (p) => this.bb.readFloat32(p));
  }
  int64s(id: number): number[] {
    return this.scalars(id, 8, (p) => Number(this.bb.readInt64(p)));
  }
  /** a [ubyte] vector as a view into the underlying bytes */
  bytes(id: number): Uint8Array {
    const o = this.off(id);
    if (!o) return new Uint8Array(0);
    const start = this.bb.__vector(this.pos + o);
    const n = this.bb.__vector_len(this.pos + o);
    const b = this.bb.bytes();
    return b.subarray(start, start + n);
  }
}

function convOptions(t: Table | null, depthwise: boolean): ConvOptions {
  // Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_activation_function 3, dilation_w 4, dilation_h 5
  // DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3, fused_activation 4, dilation_w 5, dilation_h 6
  if (!t) return { padding: 'same', strideW: 1, strideH: 1, activation: 'NONE', dilationW: 1, dilationH: 1, ...(depthwise ? { depthMultiplier: 1 } : {}) };
  const a = depthwise ? 1 : 0;
  return {
    padding: t.int8(0) === 1 ? 'valid' : 'same',
    strideW: t.int32(1),
    strideH: t.int32(2),
    ...(depthwise ? { depthMultiplier: t.int32(3, 1) } : {}),
    activation: ACTIVATIONS[t.int8(3 + a)] ?? 'NONE',
    dilationW: t.int32(4 + a, 1),
    dilationH: t.int32(5 + a, 1),
  };
}

/** Parses a .tflite file's bytes. Throws a UserError naming `what` when the bytes are not a TFLite model. */
export function parseTflite(bytes: Uint8Array, what = 'tflite model'): TfliteModel {
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(4, 8)) !== 'TFL3') {
    throw new UserError(`${what}: not a TFLite flatbuffer (missing "TFL3" identifier)`);
  }
  const bb = new ByteBuffer(bytes);
  const model = new Table(bb, bb.readInt32(bb.position()) + bb.position());
  // Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4
  const opCodes = model.tables(1).map((c) => {
    // OperatorCode: deprecated_builtin_code (int8) 0, custom_code 1, version 2, builtin_code (int32) 3.
    // Readers take the larger of the two (codes > 127 live only in builtin_code).
    const code = Math.max(c.int8(0), c.int32(3));
    return BUILTIN_OPS[code] ?? (c.has(1) ? `CUSTOM_${c.string(1)}` : `BUILTIN_${code}`);
  });
  const buffers = model.tables(4).map((b) => {
    // Buffer: data 0, offset 1 (u64), size 2 (u64): large models keep data after the flatbuffer
    if (b.has(1)) {
      const off = Number(bb.readUint64(b.pos + (bb.__offset(b.pos, 6) as number)));
      const size = Number(bb.readUint64(b.pos + (bb.__offset(b.pos, 8) as number)));
      if (off > 1) return bytes.subarray(off, off + size);
    }
    return b.bytes(0);
  });
  const subgraphs = model.tables(2);
  if (subgraphs.length === 0) throw new UserError(`${what}: the model has no subgraph`);
  const sg = subgraphs[0];
  // SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4
  const tensors: TfliteTensor[] = sg.tables(0).map((t, index) => {
    // Tensor: shape 0, type 1, buffer 2, name 3, quantization 4
    const q = t.table(4);
    let quantization: TfliteQuantization | null = null;
    if (q) {
      // QuantizationParameters: min 0, max 1, scale 2, zero_point 3 (long), details_type 4, details 5, quantized_dimension 6
      const scale = q.float32s(2);
      if (scale.length) quantization = { scale: Float32Array.from(scale), zeroPoint: q.int64s(3), quantizedDimension: q.int32(6) };
    }
    return {
      index,
      name: t.string(3),
      shape: t.int32s(0),
      type: TFLITE_TYPES[t.int8(1)] ?? 'unknown',
      buffer: t.uint32(2),
      quantization,
    };
  });
  const operators: TfliteOperator[] = sg.tables(3).map((o, index) => {
    // Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3, builtin_options 4
    const op = opCodes[o.uint32(0)] ?? `OPCODE_${o.uint32(0)}`;
    const opt = o.table(4);
    let options: TfliteOperator['options'] = null;
    if (op === 'CONV_2D') options = convOptions(opt, false);
    else if (op === 'DEPTHWISE_CONV_2D') options = convOptions(opt, true);
    else if (op === 'ADD' || op === 'MUL') options = { activation: ACTIVATIONS[opt?.int8(0) ?? 0] ?? 'NONE' };
    else if (op === 'RESHAPE') options = { newShape: opt ? opt.int32s(0) : [] };
    else if (op === 'MEAN') options = { keepDims: opt ? opt.uint8(0) !== 0 : false };
    else if (op === 'SOFTMAX') options = { beta: opt ? opt.float32(0, 1) : 1 };
    return { index, op, inputs: o.int32s(1), outputs: o.int32s(2), options };
  });
  return { version: model.uint32(0), description: model.string(3), tensors, operators, inputs: sg.int32s(1), outputs: sg.int32s(2), buffers };
}
