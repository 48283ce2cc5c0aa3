// Runs a parsed TFLite graph in float32: quantized constants are dequantized once as
// (q − zero_point) · scale (per output channel along quantized_dimension), and the graph's QUANTIZE /
// DEQUANTIZE nodes become identities. The TFLite ops compile to FloatOps (float-graph.ts), which run
// either as one native TensorFlow session call per batch or op by op in tfjs.
import { UserError } from '@unified-ad/core';
import { FloatGraph, type Activation, type ConstValue, type FloatGraphOptions, type FloatOp } from './float-graph';
import type { ConvOptions, FusedActivation, TfliteModel, TfliteTensor } from './tflite';

export type { Executor } from './float-graph';

/** Short, readable name of a tensor: the first ';'-separated name, without the model scope and the op's repeated suffix. */
export function shortTensorName(name: string, scope = 'MobileNetV2/'): string {
  let s = name.split(';')[0];
  if (s.startsWith(scope)) s = s.slice(scope.length);
  return s
    .replace(/\/add\/add$/, '/add')
    .replace(/\/relu6\/Relu6$/, '/relu6')
    .replace(/\/batch_norm\/FusedBatchNormV3$/, '');
}

function activationOf(a: FusedActivation, what: string): Activation {
  if (a === 'NONE') return 'linear';
  if (a === 'RELU') return 'relu';
  if (a === 'RELU6') return 'relu6';
  throw new UserError(`${what}: fused activation ${a} is not supported`);
}

/** Bytes of a buffer copied to an aligned ArrayBuffer (Buffer#slice would return a view into the whole file). */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const c = new Uint8Array(bytes.length);
  c.set(bytes);
  return c.buffer;
}

/** Float values of a constant tensor, dequantized per channel along quantized_dimension. */
export function dequantize(t: TfliteTensor, bytes: Uint8Array): Float32Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  let q: ArrayLike<number>;
  switch (t.type) {
    case 'float32':
      return new Float32Array(aligned(bytes.subarray(0, 4 * n)));
    case 'int8':
      q = new Int8Array(aligned(bytes.subarray(0, n)));
      break;
    case 'uint8':
      q = bytes.subarray(0, n);
      break;
    case 'int32':
      q = new Int32Array(aligned(bytes.subarray(0, 4 * n)));
      break;
    default:
      throw new UserError(`tensor ${t.name}: constant type ${t.type} is not supported`);
  }
  const out = new Float32Array(n);
  const qp = t.quantization;
  if (!qp) {
    for (let i = 0; i < n; i++) out[i] = q[i];
    return out;
  }
  const dim = qp.quantizedDimension;
  const perChannel = qp.scale.length > 1;
  // elements between consecutive indices of `dim`, and the size of `dim`
  const inner = t.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
  const size = t.shape[dim] ?? 1;
  for (let i = 0; i < n; i++) {
    const c = perChannel ? Math.floor(i / inner) % size : 0;
    out[i] = (q[i] - (qp.zeroPoint[c] ?? 0)) * qp.scale[c];
  }
  return out;
}

/** [O, kh, kw, I] (TFLite conv filter) → [kh, kw, I, O] (TensorFlow HWIO). */
function ohwiToHwio(v: Float32Array, [o, kh, kw, i]: number[]): Float32Array {
  const out = new Float32Array(v.length);
  const khwi = kh * kw * i;
  for (let a = 0; a < o; a++) for (let r = 0; r < khwi; r++) out[r * o + a] = v[a * khwi + r];
  return out;
}

/** Compiles a TFLite model's first subgraph into float ops. */
export function compileFloatOps(model: TfliteModel, what: string): FloatOp[] {
  const isConst = (i: number) => i >= 0 && model.buffers[model.tensors[i].buffer]?.length > 0;
  const constant = (i: number): ConstValue => {
    const t = model.tensors[i];
    return { values: dequantize(t, model.buffers[t.buffer]), shape: t.shape };
  };
  const ints = (i: number) => Array.from(constant(i).values, (v) => Math.round(v));
  const ops: FloatOp[] = [];
  for (const o of model.operators) {
    const opWhat = `${what}: operator ${o.index} ${o.op} (${model.tensors[o.outputs[0]]?.name.split(';')[0]})`;
    const [x] = o.inputs;
    const out = o.outputs[0];
    switch (o.op) {
      case 'QUANTIZE':
      case 'DEQUANTIZE':
        ops.push({ kind: 'identity', out, x });
        break;
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        const opt = o.options as ConvOptions;
        const w = constant(o.inputs[1]);
        let filter: ConstValue;
        if (o.op === 'CONV_2D') {
          filter = { values: ohwiToHwio(w.values, w.shape), shape: [w.shape[1], w.shape[2], w.shape[3], w.shape[0]] };
        } else {
          // [1, kh, kw, in·mult] → [kh, kw, in, mult] (channel index in·mult + m): a reshape
          const [, kh, kw, cm] = w.shape;
          const inC = model.tensors[x].shape[3];
          const mult = opt.depthMultiplier && opt.depthMultiplier > 0 ? opt.depthMultiplier : cm / inC;
          filter = { values: w.values, shape: [kh, kw, cm / mult, mult] };
        }
        const bias = o.inputs.length > 2 && o.inputs[2] >= 0 ? constant(o.inputs[2]) : null;
        ops.push({
          kind: o.op === 'CONV_2D' ? 'conv2d' : 'depthwise',
          out,
          x,
          filter,
          bias,
          strides: [opt.strideH, opt.strideW],
          pad: opt.padding,
          dilations: [opt.dilationH, opt.dilationW],
          activation: activationOf(opt.activation, opWhat),
        });
        break;
      }
      case 'ADD': {
        const [a, b] = o.inputs.map((i) => (isConst(i) ? constant(i) : i));
        ops.push({ kind: 'add', out, a, b, activation: activationOf((o.options as { activation: FusedActivation }).activation, opWhat) });
        break;
      }
      case 'MEAN':
        ops.push({ kind: 'mean', out, x, axes: ints(o.inputs[1]), keepDims: (o.options as { keepDims: boolean }).keepDims });
        break;
      case 'RESHAPE': {
        const shape = o.inputs.length > 1 && o.inputs[1] >= 0 ? ints(o.inputs[1]) : (o.options as { newShape: number[] }).newShape;
        // the file is batch-1: keep the batch dimension free
        ops.push({ kind: 'reshape', out, x, shape: [-1, ...shape.slice(1)] });
        break;
      }
      case 'SOFTMAX':
        ops.push({ kind: 'softmax', out, x, beta: (o.options as { beta: number }).beta });
        break;
      default:
        throw new UserError(`${opWhat}: operator ${o.op} is not supported by this reader`);
    }
  }
  return ops;
}

/** A TFLite graph compiled to float32, with its tensors addressable by name. */
export class TfliteGraph extends FloatGraph {
  readonly outputIndex: number;
  private readonly byName = new Map<string, number>();

  constructor(
    readonly model: TfliteModel,
    what = 'tflite model',
    opts: FloatGraphOptions = {},
  ) {
    if (model.inputs.length !== 1) throw new UserError(`${what}: expected one input tensor, found ${model.inputs.length}`);
    const input = model.inputs[0];
    super(compileFloatOps(model, what), input, model.tensors[input].shape[3] ?? 3, what, opts);
    this.outputIndex = model.outputs[0];
    for (const t of model.tensors) {
      this.byName.set(t.name, t.index);
      this.byName.set(t.name.split(';')[0], t.index);
      this.byName.set(shortTensorName(t.name), t.index);
    }
  }

  /** Tensor index of a name (full stored name, its first ';' part, or its short name). */
  resolve(name: string): number {
    const i = this.byName.get(name);
    if (i === undefined) throw new UserError(`${this.what}: no tensor named "${name}" (see the backbone's layerInfo() for the names)`);
    return i;
  }

  tensor(i: number): TfliteTensor {
    return this.model.tensors[i];
  }

  /** Indices of the activation tensors (outputs of ops), in execution order. */
  activations(): number[] {
    return this.ops.map((o) => o.out);
  }
}
