// What every optimizer here shares: the Optimizer surface the training loop drives, the state it saves in checkpoints,
// and the stacking of same-shaped parameters (one update expression per shape, not per parameter), global-norm
// clipping as torch.nn.utils.clip_grad_norm_, and the copy of per-parameter slots in and out of the stacks.
import type { Tensor, Variable } from '@tensorflow/tfjs-node';
import { tf } from '../engine';

export interface OptimizerState {
  step: number;
  lr: number;
  /** parameter name → its slots (AdamW and Adam: [m, v]; SGD: [momentum buffer], only for parameters it has started) */
  slots: Map<string, Float32Array[]>;
}

export interface Optimizer {
  /** learning rate of the next apply (the training loop sets it from the schedule each epoch) */
  lr: number;
  /** number of updates applied so far */
  step: number;
  readonly vars: Map<string, Variable>;
  /**
   * One update with the given gradients (name → gradient; a parameter without one is left alone, as in PyTorch).
   * With `clipNorm`, gradients are first scaled as by clip_grad_norm_ (coef = max / (norm + 1e-6) when below 1).
   * Returns the global gradient norm before clipping (a scalar tensor; the host never waits for it).
   */
  apply(grads: Map<string, Tensor>, clipNorm?: number | null): Tensor;
  getState(): OptimizerState;
  setState(s: OptimizerState): void;
  dispose(): void;
}

/** Parameters of one shape, updated as one stacked tensor; each slot is a [k, ...shape] variable. */
export interface ParamGroup {
  shape: number[];
  names: string[];
  vars: Variable[];
  slots: Variable[];
}

export function groupByShape(vars: Map<string, Variable>, slotCount: number): ParamGroup[] {
  const groups: ParamGroup[] = [];
  const byShape = new Map<string, ParamGroup>();
  for (const [name, p] of vars) {
    if (p.dtype !== 'float32') throw new Error(`optimizer: parameter '${name}' is ${p.dtype}, not float32`);
    const key = p.shape.join('x');
    let g = byShape.get(key);
    if (!g) {
      g = { shape: p.shape, names: [], vars: [], slots: [] };
      byShape.set(key, g);
      groups.push(g);
    }
    g.names.push(name);
    g.vars.push(p);
  }
  for (const g of groups) for (let k = 0; k < slotCount; k++) g.slots.push(tf.tidy(() => tf.variable(tf.zeros([g.vars.length, ...g.shape]), false)));
  return groups;
}

/** Gradients stacked per group (zeros where a parameter has none), which parameters have one, the global norm. */
export function stackGradients(groups: ParamGroup[], grads: Map<string, Tensor>): { stacked: Tensor[]; squares: Tensor[]; has: boolean[][]; norm: Tensor } {
  const stacked = groups.map((g) => tf.stack(g.names.map((n, i) => grads.get(n) ?? tf.zeros(g.vars[i]!.shape))));
  const squares = stacked.map((x) => x.square());
  const norm = tf.addN(squares.map((x) => x.sum())).sqrt();
  return { stacked, squares, has: groups.map((g) => g.names.map((n) => grads.has(n))), norm };
}

/** clip_grad_norm_'s factor: min(1, max / (norm + 1e-6)), or 1 without clipping. */
export function clipCoefficient(norm: Tensor, clipNorm: number | null | undefined): Tensor {
  if (clipNorm === null || clipNorm === undefined) return tf.scalar(1);
  if (!(clipNorm > 0)) throw new Error(`clipNorm must be > 0 or null, got ${clipNorm}`);
  return tf.minimum(tf.scalar(1), tf.scalar(clipNorm).div(norm.add(1e-6)));
}

/** A [k, 1, ..., 1] per-row mask or factor for a group. */
export function perRow(g: ParamGroup, values: number[] | boolean[]): Tensor {
  const shape = [values.length, ...g.shape.map(() => 1)];
  return typeof values[0] === 'boolean' ? tf.tensor1d(values as boolean[], 'bool').reshape(shape) : tf.tensor(values as number[], shape);
}

/** Writes new slots and parameters of a group, only for the rows (parameters) that had a gradient. */
export function commit(g: ParamGroup, has: boolean[], slots: Tensor[], params: Tensor): void {
  const parts = tf.unstack(params);
  if (has.every(Boolean)) {
    g.slots.forEach((s, k) => s.assign(slots[k]!));
    g.vars.forEach((p, k) => p.assign(parts[k]!));
    return;
  }
  const keep = perRow(g, has);
  g.slots.forEach((s, k) => s.assign(tf.where(keep.broadcastTo(s.shape), slots[k]!, s)));
  g.vars.forEach((p, k) => has[k] && p.assign(parts[k]!));
}

/** Per-parameter copies of the slots (`include` picks the parameters to save). */
export function readSlots(groups: ParamGroup[], include: (name: string) => boolean = () => true): Map<string, Float32Array[]> {
  const out = new Map<string, Float32Array[]>();
  for (const g of groups) {
    if (!g.slots.length) continue;
    const data = g.slots.map((s) => s.dataSync() as Float32Array);
    const size = data[0]!.length / g.names.length;
    g.names.forEach((n, k) => include(n) && out.set(n, data.map((d) => d.slice(k * size, (k + 1) * size))));
  }
  return out;
}

/**
 * Loads per-parameter slots into the stacks. A parameter absent from `slots` is an error when `required`, else
 * its slots become zeros; `onLoaded` learns which parameters were present.
 */
export function writeSlots(groups: ParamGroup[], slots: Map<string, Float32Array[]>, what: string, required: boolean, onLoaded?: (name: string, present: boolean) => void): void {
  const known = new Set(groups.flatMap((g) => g.names));
  for (const name of slots.keys()) if (!known.has(name)) throw new Error(`${what} state has unknown parameter '${name}'`);
  for (const g of groups) {
    const size = g.shape.reduce((a, b) => a * b, 1);
    const data = g.slots.map(() => new Float32Array(size * g.names.length));
    g.names.forEach((n, k) => {
      const slot = slots.get(n);
      onLoaded?.(n, slot !== undefined);
      if (!slot) {
        if (required) throw new Error(`${what} state lacks parameter '${n}'`);
        return;
      }
      if (slot.length !== g.slots.length) throw new Error(`${what} state of '${n}' has ${slot.length} slots, expected ${g.slots.length}`);
      slot.forEach((s, j) => {
        if (s.length !== size) throw new Error(`${what} state of '${n}' has ${s.length} values, expected ${size} (shape [${g.shape}])`);
        data[j]!.set(s, k * size);
      });
    });
    tf.tidy(() => g.slots.forEach((s, j) => s.assign(tf.tensor(data[j]!, s.shape))));
  }
}

export function disposeGroups(groups: ParamGroup[]): void {
  for (const g of groups) for (const s of g.slots) s.dispose();
}
