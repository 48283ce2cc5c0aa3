// A small float32 dataflow graph (FloatOp list) with two executors:
//  - 'session': the graph written as a frozen TensorFlow GraphDef (a SavedModel in a cache folder)
//    and run by the native TensorFlow session in one call per batch, so Grappler fuses
//    conv + bias + ReLU6 (much less memory traffic than op-by-op; about 3× faster on CPU);
//  - 'eager': tfjs ops one by one (fused conv2d / depthwiseConv2d with relu6); any backend.
// Both give the same numbers. Only the ops needed for the requested tensors run, and intermediates are
// freed after their last use. TFLite (tflite-graph.ts) and Keras (keras-graph.ts) models compile to it.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, engineInfo, UserError, writeFileAtomic } from '@unified-ad/core';
import { attr, DT_FLOAT, DT_INT32, nodeDef, savedModelProto, tensorProto } from './proto';

export type Activation = 'linear' | 'relu' | 'relu6';

/** A constant operand: float values and shape. */
export interface ConstValue {
  values: Float32Array;
  shape: number[];
}

/**
 * One op of the float graph. `out` and the operands `x`, `a`, `b` are tensor ids (integers chosen by
 * the compiler). Conv filters are HWIO (depthwise: [kh, kw, in, multiplier]).
 */
export type FloatOp = { out: number } & (
  | { kind: 'identity'; x: number }
  | { kind: 'conv2d' | 'depthwise'; x: number; filter: ConstValue; bias: ConstValue | null; strides: [number, number]; pad: 'same' | 'valid'; dilations: [number, number]; activation: Activation }
  | { kind: 'add'; a: number | ConstValue; b: number | ConstValue; activation: Activation }
  | { kind: 'pad'; x: number; /** [[top, bottom], [left, right]] zero padding */ hw: [[number, number], [number, number]] }
  | { kind: 'mean'; x: number; axes: number[]; keepDims: boolean }
  | { kind: 'reshape'; x: number; shape: number[] }
  | { kind: 'softmax'; x: number; beta: number }
);

/** tensor operands of an op */
function operands(op: FloatOp): number[] {
  switch (op.kind) {
    case 'add':
      return [op.a, op.b].filter((v): v is number => typeof v === 'number');
    default:
      return [op.x];
  }
}

export type Executor = 'session' | 'eager';

export interface FloatGraphOptions {
  /** 'session' (default when the native engine is active and sessionDir is given) or 'eager' */
  executor?: Executor;
  /** folder for the generated SavedModel ('session' executor), e.g. core cacheDir('graphs') */
  sessionDir?: string;
  /** name of the generated graph's folder (default: a hash of the graph) */
  key?: string;
}

interface Plan {
  steps: number[];
  lastUse: Map<number, number>;
}

export class FloatGraph {
  readonly executor: Executor;
  private readonly producer = new Map<number, number>();
  private readonly plans = new Map<string, Plan>();
  // eager state: constants as kept tf tensors
  private readonly consts = new Map<ConstValue, Tensor>();
  // session state
  private sessionId: number | null = null;
  private disposed = false;

  /**
   * @param ops the ops in a valid execution order
   * @param inputIndex id of the graph input (NHWC float)
   * @param inputChannels channels of the input
   */
  constructor(
    readonly ops: FloatOp[],
    readonly inputIndex: number,
    readonly inputChannels: number,
    readonly what: string,
    opts: FloatGraphOptions = {},
  ) {
    ops.forEach((op, s) => this.producer.set(op.out, s));
    this.executor = opts.executor ?? (engineInfo.backend === 'tensorflow' && opts.sessionDir ? 'session' : 'eager');
    if (this.executor === 'session') {
      if (engineInfo.backend !== 'tensorflow') throw new UserError(`${what}: executor 'session' needs the native TensorFlow engine (backend is ${engineInfo.backend})`);
      if (!opts.sessionDir) throw new UserError(`${what}: executor 'session' needs a sessionDir`);
      this.sessionId = this.loadSession(opts.sessionDir, opts.key);
    }
  }

  /** Whether an op computes tensor `i`. */
  computes(i: number): boolean {
    return this.producer.has(i);
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
        if (s === undefined) throw new UserError(`${this.what}: tensor ${t} is not computed by the graph`);
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
      case 'pad':
        return tf.pad(get(op.x), [[0, 0], op.hw[0], op.hw[1], [0, 0]]);
      case 'mean':
        return tf.mean(get(op.x), op.axes, op.keepDims);
      case 'reshape':
        return tf.reshape(get(op.x), op.shape);
      case 'softmax':
        return tf.softmax(op.beta === 1 ? get(op.x) : tf.mul(get(op.x), op.beta));
    }
  }

  // ---------------- session executor ----------------

  /** Node name of a tensor in the generated GraphDef. */
  private static node(i: number): string {
    return `t${i}`;
  }

  /** The float graph as a frozen GraphDef inside a SavedModel (bytes of saved_model.pb). */
  savedModelBytes(): Uint8Array {
    const T = { T: attr.type(DT_FLOAT) };
    const nodes: Uint8Array[] = [nodeDef(FloatGraph.node(this.inputIndex), 'Placeholder', [], { dtype: attr.type(DT_FLOAT), shape: attr.shape([-1, -1, -1, this.inputChannels]) })];
    let nConst = 0;
    const constNode = (c: ConstValue): string => {
      const name = `c${nConst++}`;
      nodes.push(nodeDef(name, 'Const', [], { dtype: attr.type(DT_FLOAT), value: attr.tensor(tensorProto(DT_FLOAT, c.shape, c.values)) }));
      return name;
    };
    const intConst = (vs: number[], shape = [vs.length]): string => {
      const name = `c${nConst++}`;
      nodes.push(nodeDef(name, 'Const', [], { dtype: attr.type(DT_INT32), value: attr.tensor(tensorProto(DT_INT32, shape, Int32Array.from(vs))) }));
      return name;
    };
    const ref = (v: number | ConstValue) => (typeof v === 'number' ? FloatGraph.node(v) : constNode(v));
    const activate = (name: string, pre: string, act: Activation) => {
      if (act === 'linear') nodes.push(nodeDef(name, 'Identity', [pre], T));
      else nodes.push(nodeDef(name, act === 'relu6' ? 'Relu6' : 'Relu', [pre], T));
    };
    for (const op of this.ops) {
      const name = FloatGraph.node(op.out);
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
        case 'pad':
          nodes.push(nodeDef(name, 'Pad', [ref(op.x), intConst([0, 0, ...op.hw[0], ...op.hw[1], 0, 0], [4, 2])], { ...T, Tpaddings: attr.type(DT_INT32) }));
          break;
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
        [{ name: `${FloatGraph.node(this.inputIndex)}:0`, dtype: 'float32', shape: x.shape, tfDtype: 'DT_FLOAT' }],
        targets.map((t) => `${FloatGraph.node(t)}:0`),
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
