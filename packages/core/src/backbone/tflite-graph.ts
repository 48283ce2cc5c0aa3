// Runs a parsed TFLite graph in float32: quantized constants are dequantized once as
// (q − zero_point) · scale (per output channel along quantized_dimension), and the graph's QUANTIZE /
// DEQUANTIZE nodes become identities. The graph is first compiled to a small list of float ops
// (FloatOp), which two executors run:
//  - 'session': the float graph written as a frozen TensorFlow GraphDef (a SavedModel in the cache)
//    and run by the native TensorFlow session in one call per batch, so Grappler fuses
//    conv + bias + ReLU6 (much less memory traffic than op-by-op);
//  - 'eager': tfjs ops one by one (fused conv2d / depthwiseConv2d with relu6); any backend.
// Only the ops needed for the requested tensors run.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, engineInfo } from '../engine';
import { UserError } from '../errors';
import { writeFileAtomic } from '../paths';
import type { ConvOptions, FusedActivation, TfliteModel, TfliteTensor } from './tflite';
import { attr, DT_FLOAT, DT_INT32, nodeDef, savedModelProto, tensorProto } from './proto';

export type Activation = 'linear' | 'relu' | 'relu6';

/** A constant operand: float values and shape. */
export interface ConstValue {
  values: Float32Array;
  shape: number[];
}

/** One op of the float graph. Operands `x`, `a`, `b` are TFLite tensor indices. */
export type FloatOp = { out: number } & (
  | { kind: 'identity'; x: number }
  | { kind: 'conv2d' | 'depthwise'; x: number; filter: ConstValue; bias: ConstValue | null; strides: [number, number]; pad: 'same' | 'valid'; dilations: [number, number]; activation: Activation }
  | { kind: 'add'; a: number | ConstValue; b: number | ConstValue; activation: Activation }
  | { kind: 'mean'; x: number; axes: number[]; keepDims: boolean }
  | { kind: 'reshape'; x: number; shape: number[] }
  | { kind: 'softmax'; x: number; beta: number }
);

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

/** tensor operands of an op (TFLite tensor indices) */
function operands(op: FloatOp): number[] {
  switch (op.kind) {
    case 'add':
      return [op.a, op.b].filter((v): v is number => typeof v === 'number');
    default:
      return [op.x];
  }
}

export type Executor = 'session' | 'eager';

interface Plan {
  steps: number[];
  lastUse: Map<number, number>;
}

/** A TFLite graph compiled to float32 and ready to run on batches. */
export class TfliteGraph {
  readonly ops: FloatOp[];
  readonly inputIndex: number;
  readonly outputIndex: number;
  readonly executor: Executor;
  private readonly producer = new Map<number, number>();
  private readonly byName = new Map<string, number>();
  private readonly plans = new Map<string, Plan>();
  // eager state: constants as kept tf tensors
  private readonly consts = new Map<ConstValue, Tensor>();
  // session state
  private sessionId: number | null = null;
  private disposed = false;

  /**
   * @param executor 'session' (default on the native engine) or 'eager'
   * @param sessionDir folder for the generated SavedModel ('session' executor), e.g. a cache folder
   */
  constructor(
    readonly model: TfliteModel,
    readonly what = 'tflite model',
    opts: { executor?: Executor; sessionDir?: string; key?: string } = {},
  ) {
    if (model.inputs.length !== 1) throw new UserError(`${what}: expected one input tensor, found ${model.inputs.length}`);
    this.inputIndex = model.inputs[0];
    this.outputIndex = model.outputs[0];
    for (const t of model.tensors) {
      this.byName.set(t.name, t.index);
      this.byName.set(t.name.split(';')[0], t.index);
      this.byName.set(shortTensorName(t.name), t.index);
    }
    this.ops = compileFloatOps(model, what);
    this.ops.forEach((op, s) => this.producer.set(op.out, s));
    this.executor = opts.executor ?? (engineInfo.backend === 'tensorflow' && opts.sessionDir ? 'session' : 'eager');
    if (this.executor === 'session') {
      if (engineInfo.backend !== 'tensorflow') throw new UserError(`${what}: executor 'session' needs the native TensorFlow engine (backend is ${engineInfo.backend})`);
      if (!opts.sessionDir) throw new UserError(`${what}: executor 'session' needs a sessionDir`);
      this.sessionId = this.loadSession(opts.sessionDir, opts.key);
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

  private plan(targets: number[]): Plan {
    const key = targets.join(',');
    let p = this.plans.get(key);
    if (p) return p;
    // backward closure from the targets: only these ops run
    const need = new Set<number>();
    const stack = targets
      .filter((t) => t !== this.inputIndex)
      .map((t) => {
        const s = this.producer.get(t);
        if (s === undefined) throw new UserError(`${this.what}: tensor "${this.model.tensors[t].name}" is not computed by the graph`);
        return s;
      });
    while (stack.length) {
      const s = stack.pop()!;
      if (need.has(s)) continue;
      need.add(s);
      for (const i of operands(this.ops[s])) {
        const ps = this.producer.get(i);
        if (ps !== undefined) stack.push(ps);
      }
    }
    const steps = [...need].sort((a, b) => a - b);
    const lastUse = new Map<number, number>();
    for (const s of steps) for (const i of operands(this.ops[s])) lastUse.set(i, s);
    p = { steps, lastUse };
    this.plans.set(key, p);
    return p;
  }

  /** How many ops run to compute `targets` (only the ancestors of the targets run). */
  opsNeeded(targets: number[]): number {
    return this.plan(targets).steps.length;
  }

  /**
   * Runs the graph on an already-normalised NHWC float input, returning the requested tensors
   * (the caller disposes them).
   */
  run(input: Tensor4D, targets: number[]): Tensor[] {
    if (this.disposed) throw new UserError(`${this.what}: used after dispose()`);
    const plan = this.plan(targets);
    return this.sessionId !== null ? this.runSession(input, targets) : this.runEager(input, targets, plan);
  }

  // ---------------- eager executor ----------------

  private constTensor(c: ConstValue): Tensor {
    let t = this.consts.get(c);
    if (!t) {
      t = tf.keep(tf.tensor(c.values, c.shape, 'float32'));
      this.consts.set(c, t);
    }
    return t;
  }

  private runEager(input: Tensor4D, targets: number[], { steps, lastUse }: Plan): Tensor[] {
    const keep = new Set(targets);
    return tf.tidy(() => {
      const env = new Map<number, Tensor>([[this.inputIndex, input]]);
      const get = (v: number | ConstValue) => (typeof v === 'number' ? env.get(v)! : this.constTensor(v));
      for (const s of steps) {
        const op = this.ops[s];
        env.set(op.out, this.eagerOp(op, get));
        // free what no later op needs
        for (const i of operands(op)) {
          if (lastUse.get(i) === s && !keep.has(i) && i !== this.inputIndex) {
            env.get(i)!.dispose();
            env.delete(i);
          }
        }
      }
      return targets.map((t) => env.get(t)!);
    });
  }

  private eagerOp(op: FloatOp, get: (v: number | ConstValue) => Tensor): Tensor {
    switch (op.kind) {
      case 'identity':
        return get(op.x).clone();
      case 'conv2d':
      case 'depthwise': {
        const args = {
          x: get(op.x) as Tensor4D,
          filter: this.constTensor(op.filter) as Tensor4D,
          bias: op.bias ? this.constTensor(op.bias) : undefined,
          strides: op.strides,
          pad: op.pad,
          dilations: op.dilations,
          activation: op.activation,
        };
        return op.kind === 'conv2d' ? tf.fused.conv2d(args) : tf.fused.depthwiseConv2d(args);
      }
      case 'add': {
        const y = tf.add(get(op.a), get(op.b));
        return op.activation === 'relu6' ? tf.relu6(y) : op.activation === 'relu' ? tf.relu(y) : y;
      }
      case 'mean':
        return tf.mean(get(op.x), op.axes, op.keepDims);
      case 'reshape':
        return tf.reshape(get(op.x), op.shape);
      case 'softmax':
        return tf.softmax(op.beta === 1 ? get(op.x) : tf.mul(get(op.x), op.beta));
    }
  }

  // ---------------- session executor ----------------

  /** Node name of a TFLite tensor in the generated GraphDef. */
  private static node(i: number): string {
    return `t${i}`;
  }

  /** The float graph as a frozen GraphDef inside a SavedModel (bytes of saved_model.pb). */
  savedModelBytes(): Uint8Array {
    const T = { T: attr.type(DT_FLOAT) };
    const channels = this.model.tensors[this.inputIndex].shape[3] ?? -1;
    const nodes: Uint8Array[] = [nodeDef(TfliteGraph.node(this.inputIndex), 'Placeholder', [], { dtype: attr.type(DT_FLOAT), shape: attr.shape([-1, -1, -1, channels]) })];
    let nConst = 0;
    const constNode = (c: ConstValue): string => {
      const name = `c${nConst++}`;
      nodes.push(nodeDef(name, 'Const', [], { dtype: attr.type(DT_FLOAT), value: attr.tensor(tensorProto(DT_FLOAT, c.shape, c.values)) }));
      return name;
    };
    const intConst = (vs: number[]): string => {
      const name = `c${nConst++}`;
      nodes.push(nodeDef(name, 'Const', [], { dtype: attr.type(DT_INT32), value: attr.tensor(tensorProto(DT_INT32, [vs.length], Int32Array.from(vs))) }));
      return name;
    };
    const ref = (v: number | ConstValue) => (typeof v === 'number' ? TfliteGraph.node(v) : constNode(v));
    const activate = (name: string, pre: string, act: Activation) => {
      if (act === 'linear') nodes.push(nodeDef(name, 'Identity', [pre], T));
      else nodes.push(nodeDef(name, act === 'relu6' ? 'Relu6' : 'Relu', [pre], T));
    };
    for (const op of this.ops) {
      const name = TfliteGraph.node(op.out);
      switch (op.kind) {
        case 'identity':
          nodes.push(nodeDef(name, 'Identity', [ref(op.x)], T));
          break;
        case 'conv2d':
        case 'depthwise': {
          const common = {
            ...T,
            strides: attr.ints([1, op.strides[0], op.strides[1], 1]),
            dilations: attr.ints([1, op.dilations[0], op.dilations[1], 1]),
            padding: attr.s(op.pad === 'same' ? 'SAME' : 'VALID'),
            data_format: attr.s('NHWC'),
          };
          const conv = `${name}/conv`;
          nodes.push(nodeDef(conv, op.kind === 'conv2d' ? 'Conv2D' : 'DepthwiseConv2dNative', [ref(op.x), constNode(op.filter)], common));
          let pre = conv;
          if (op.bias) {
            pre = `${name}/bias`;
            nodes.push(nodeDef(pre, 'BiasAdd', [conv, constNode(op.bias)], { ...T, data_format: attr.s('NHWC') }));
          }
          activate(name, pre, op.activation);
          break;
        }
        case 'add': {
          const sum = `${name}/sum`;
          nodes.push(nodeDef(sum, 'AddV2', [ref(op.a), ref(op.b)], T));
          activate(name, sum, op.activation);
          break;
        }
        case 'mean':
          nodes.push(nodeDef(name, 'Mean', [ref(op.x), intConst(op.axes)], { ...T, Tidx: attr.type(DT_INT32), keep_dims: attr.b(op.keepDims) }));
          break;
        case 'reshape':
          nodes.push(nodeDef(name, 'Reshape', [ref(op.x), intConst(op.shape)], { ...T, Tshape: attr.type(DT_INT32) }));
          break;
        case 'softmax': {
          let x = ref(op.x);
          if (op.beta !== 1) {
            const scaled = `${name}/beta`;
            nodes.push(nodeDef(scaled, 'Mul', [x, constNode({ values: Float32Array.of(op.beta), shape: [] })], T));
            x = scaled;
          }
          nodes.push(nodeDef(name, 'Softmax', [x], T));
          break;
        }
      }
    }
    return savedModelProto(nodes, ['serve']);
  }

  private loadSession(dir: string, key?: string): number {
    const bytes = this.savedModelBytes();
    const id = key ?? crypto.createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    const folder = path.join(dir, `float-graph-${id}`);
    const pb = path.join(folder, 'saved_model.pb');
    try {
      if (!fs.existsSync(pb) || fs.statSync(pb).size !== bytes.length) writeFileAtomic(pb, bytes);
    } catch (e) {
      throw new UserError(`${this.what}: cannot write the generated graph ${pb}: ${(e as Error).message.split('\n')[0]}`);
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return (tf.backend() as any).loadSavedModelMetaGraph(folder, 'serve') as number;
    } catch (e) {
      throw new UserError(`${this.what}: TensorFlow could not load the generated graph ${pb}: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  private runSession(input: Tensor4D, targets: number[]): Tensor[] {
    const x = input.dtype === 'float32' ? input : tf.cast(input, 'float32');
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return (tf.backend() as any).runSavedModel(
        this.sessionId,
        [x],
        [{ name: `${TfliteGraph.node(this.inputIndex)}:0`, dtype: 'float32', shape: x.shape, tfDtype: 'DT_FLOAT' }],
        targets.map((t) => `${TfliteGraph.node(t)}:0`),
      ) as Tensor[];
    } finally {
      if (x !== input) x.dispose();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.consts.values()) t.dispose();
    this.consts.clear();
    if (this.sessionId !== null) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (tf.backend() as any).deleteSavedModel(this.sessionId);
      this.sessionId = null;
    }
  }
}
