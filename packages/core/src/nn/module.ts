// Minimal building blocks for feature reconstructors, written with raw tfjs ops on the native engine.
// Each module owns named tf.Variables; names become checkpoint keys.
import type { Tensor, Variable } from '@tensorflow/tfjs-node';
import { tf } from '../engine';
import type { Rng } from '../rng';

/**
 * A module with named parameters (PyTorch-like: `prefix.sub.weight`) and named buffers: non-trainable state such as
 * BatchNorm's running statistics, saved with the weights but never given to an optimizer.
 */
export abstract class Module {
  protected params = new Map<string, Variable>();
  protected buffers = new Map<string, Variable>();
  protected children = new Map<string, Module>();

  protected addParam(name: string, value: Tensor): Variable {
    if (this.buffers.has(name)) throw new Error(`module already has a buffer named '${name}'`);
    const v = tf.variable(value, true);
    value.dispose();
    this.params.set(name, v);
    return v;
  }

  /** A non-trainable variable (takes ownership of `value`): listed by namedBuffers, not by namedVariables. */
  protected addBuffer(name: string, value: Tensor): Variable {
    if (this.params.has(name) || this.buffers.has(name)) throw new Error(`module already has a parameter or buffer named '${name}'`);
    const v = tf.variable(value, false);
    value.dispose();
    this.buffers.set(name, v);
    return v;
  }

  protected addChild<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Trainable parameters only (what an optimizer updates). */
  namedVariables(prefix = ''): Map<string, Variable> {
    const out = new Map<string, Variable>();
    for (const [k, v] of this.params) out.set(prefix + k, v);
    for (const [k, c] of this.children) for (const [kk, v] of c.namedVariables(`${prefix}${k}.`)) out.set(kk, v);
    return out;
  }

  /** Non-trainable state (running statistics and the like), named as namedVariables names parameters. */
  namedBuffers(prefix = ''): Map<string, Variable> {
    const out = new Map<string, Variable>();
    for (const [k, v] of this.buffers) out.set(prefix + k, v);
    for (const [k, c] of this.children) for (const [kk, v] of c.namedBuffers(`${prefix}${k}.`)) out.set(kk, v);
    return out;
  }

  parameterCount(): number {
    let n = 0;
    for (const v of this.namedVariables().values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.namedVariables().values()) v.dispose();
    for (const v of this.namedBuffers().values()) v.dispose();
  }
}

/** Glorot/Xavier uniform: U(−a, a), a = sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(shape: number[], fanIn: number, fanOut: number, rng: Rng): Tensor {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return rng.uniformTensor(shape, -a, a);
}
