// Compiles the convolutional part of a tfjs/Keras LayersModel (configs as tfjs getConfig() gives them: camelCase) into FloatOps (float-graph.ts), folding
// BatchNormalization into the preceding convolution (w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β)
// and ReLU / ReLU6 into it as a fused activation, so that a Keras MobileNetV2 runs as one native
// TensorFlow session call instead of ~150 separate tfjs layers. Supported layers: InputLayer,
// ZeroPadding2D, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, Activation(relu/relu6/linear),
// Add. Compilation stops at the first other layer on a path; layers that were folded away (a conv
// before its BN) or lie beyond an unsupported layer are simply not offered by the fast graph.
import type { LayersModel } from '@tensorflow/tfjs-node';
import type { Activation, ConstValue, FloatOp } from './float-graph';

interface KLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inputs: string[];
}

export interface CompiledKeras {
  ops: FloatOp[];
  inputId: number;
  inputChannels: number;
  /** Keras layer name → tensor id, for layers whose output the float graph computes exactly */
  ids: Map<string, number>;
}

function layersOf(model: LayersModel): KLayer[] {
  return model.layers.map((l) => {
    const inbound = (l as unknown as { inboundNodes: { inboundLayers: { name: string }[] }[] }).inboundNodes;
    if (inbound.length > 1) throw new Error(`layer ${l.name} is shared (${inbound.length} nodes)`);
    return { name: l.name, className: l.getClassName(), config: l.getConfig() as Record<string, unknown>, inputs: inbound.length ? inbound[0].inboundLayers.map((x) => x.name) : [] };
  });
}

function weightsByName(model: LayersModel, name: string): Map<string, ConstValue> {
  const layer = model.getLayer(name);
  const out = new Map<string, ConstValue>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const short = w.originalName.split('/').pop()!;
    out.set(short, { values: values[i].dataSync() as Float32Array, shape: values[i].shape });
  });
  return out;
}

function pair(v: unknown): [number, number] {
  return Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : [Number(v), Number(v)];
}

/** Compiles what it can of `model`; returns null when not even the first layer after the input compiles. */
export function compileKeras(model: LayersModel): CompiledKeras | null {
  let layers: KLayer[];
  try {
    layers = layersOf(model);
  } catch {
    return null;
  }
  if (model.inputs.length !== 1) return null;
  const consumers = new Map<string, number>();
  for (const l of layers) for (const i of l.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const ops: FloatOp[] = [];
  const ids = new Map<string, number>();
  /** tensor id of each compiled layer's output (also for folded layers, for chaining) */
  const tensorOf = new Map<string, number>();
  /** op index that produced a layer's tensor, when it may still absorb a BN / activation */
  const foldable = new Map<string, number>();
  let next = 0;
  const inputLayer = layers.find((l) => l.className === 'InputLayer');
  const shape = model.inputs[0].shape;
  if (!inputLayer || shape.length !== 4 || !shape[3]) return null;
  const inputId = next++;
  tensorOf.set(inputLayer.name, inputId);
  ids.set(inputLayer.name, inputId);

  for (const l of layers) {
    if (l.className === 'InputLayer') continue;
    const srcs = l.inputs.map((n) => tensorOf.get(n));
    if (srcs.some((s) => s === undefined)) continue; // downstream of something unsupported
    const c = l.config;
    const x = srcs[0]!;
    const single = l.inputs.length === 1 && (consumers.get(l.inputs[0]) ?? 0) === 1;
    switch (l.className) {
      case 'ZeroPadding2D': {
        const p = c.padding as number[][] | number[] | number;
        const hw: [[number, number], [number, number]] = Array.isArray(p) && Array.isArray(p[0]) ? [pair(p[0]), pair(p[1])] : [pair(Array.isArray(p) ? p[0] : p), pair(Array.isArray(p) ? p[1] : p)];
        const out = next++;
        ops.push({ kind: 'pad', out, x, hw });
        tensorOf.set(l.name, out);
        ids.set(l.name, out);
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const act = c.activation === 'linear' ? 'linear' : c.activation === 'relu' ? 'relu' : c.activation === 'relu6' ? 'relu6' : null;
        if (!act || (c.dataFormat && c.dataFormat !== 'channelsLast') || (l.className === 'Conv2D' && Number(c.groups ?? 1) !== 1)) continue;
        const w = weightsByName(model, l.name);
        const filter = w.get(l.className === 'Conv2D' ? 'kernel' : 'depthwise_kernel');
        if (!filter) continue;
        const out = next++;
        ops.push({
          kind: l.className === 'Conv2D' ? 'conv2d' : 'depthwise',
          out,
          x,
          filter,
          bias: c.useBias ? (w.get('bias') ?? null) : null,
          strides: pair(c.strides),
          pad: c.padding === 'same' ? 'same' : 'valid',
          dilations: pair(c.dilationRate ?? 1),
          activation: act,
        });
        tensorOf.set(l.name, out);
        ids.set(l.name, out);
        if (act === 'linear') foldable.set(l.name, ops.length - 1);
        break;
      }
      case 'BatchNormalization': {
        const axis = Array.isArray(c.axis) ? c.axis[0] : c.axis;
        const k = foldable.get(l.inputs[0]);
        if (!single || k === undefined || !(axis === -1 || axis === 3)) continue;
        const op = ops[k] as Extract<FloatOp, { kind: 'conv2d' | 'depthwise' }>;
        const w = weightsByName(model, l.name);
        const mean = w.get('moving_mean')!.values;
        const variance = w.get('moving_variance')!.values;
        const n = mean.length;
        const gamma = w.get('gamma')?.values ?? new Float32Array(n).fill(1);
        const beta = w.get('beta')?.values ?? new Float32Array(n);
        const eps = Number(c.epsilon ?? 1e-3);
        const scale = Float32Array.from(gamma, (g, i) => g / Math.sqrt(variance[i] + eps));
        const filter = Float32Array.from(op.filter.values, (v, i) => v * scale[i % n]);
        const bias = Float32Array.from(scale, (s, i) => ((op.bias?.values[i] ?? 0) - mean[i]) * s + beta[i]);
        ops[k] = { ...op, filter: { values: filter, shape: op.filter.shape }, bias: { values: bias, shape: [n] } };
        // the conv's own output (before BN) is no longer computed
        ids.delete(l.inputs[0]);
        tensorOf.set(l.name, op.out);
        ids.set(l.name, op.out);
        foldable.delete(l.inputs[0]);
        foldable.set(l.name, k);
        break;
      }
      case 'ReLU':
      case 'Activation': {
        let act: Activation | null = null;
        if (l.className === 'ReLU') {
          const max = c.maxValue as number | null | undefined;
          if (Number(c.negativeSlope ?? 0) === 0 && Number(c.threshold ?? 0) === 0) act = max == null ? 'relu' : max === 6 ? 'relu6' : null;
        } else act = c.activation === 'relu' ? 'relu' : c.activation === 'relu6' ? 'relu6' : c.activation === 'linear' ? 'linear' : null;
        const k = foldable.get(l.inputs[0]);
        if (!act || !single || k === undefined) continue;
        const op = ops[k] as Extract<FloatOp, { kind: 'conv2d' | 'depthwise' | 'add' }>;
        ops[k] = { ...op, activation: act };
        ids.delete(l.inputs[0]);
        tensorOf.set(l.name, op.out);
        ids.set(l.name, op.out);
        foldable.delete(l.inputs[0]);
        break;
      }
      case 'Add': {
        if (srcs.length !== 2) continue;
        const out = next++;
        ops.push({ kind: 'add', out, a: srcs[0]!, b: srcs[1]!, activation: 'linear' });
        tensorOf.set(l.name, out);
        ids.set(l.name, out);
        foldable.set(l.name, ops.length - 1);
        break;
      }
      default:
        break; // unsupported: its consumers are skipped
    }
  }
  if (ops.length === 0) return null;
  return { ops, inputId, inputChannels: shape[3] as number, ids };
}
