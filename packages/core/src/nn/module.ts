// Minimal building blocks for feature reconstructors, written with raw tfjs ops on the native engine.
// Each module owns named tf.Variables; names become checkpoint keys.
import type { Tensor, Variable } from '@tensorflow/tfjs-node';
import { tf } from '../engine';
import type { Rng } from '../rng';

/** A module with named parameters (PyTorch-like: `prefix.sub.weight`). */
export abstract class Module {
  protected params = new Map<string, Variable>();
  protected children = new Map<string, Module>();

  protected addParam(name: string, value: Tensor): Variable {
    const v = tf.variable(value, true);
    value.dispose();
    this.params.set(name, v);
    return v;
  }

  protected addChild<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  namedVariables(prefix = ''): Map<string, Variable> {
    const out = new Map<string, Variable>();
    for (const [k, v] of this.params) out.set(prefix + k, v);
    for (const [k, c] of this.children) for (const [kk, v] of c.namedVariables(`${prefix}${k}.`)) out.set(kk, v);
    return out;
  }

  parameterCount(): number {
    let n = 0;
    for (const v of this.namedVariables().values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.namedVariables().values()) v.dispose();
  }
}

/** Glorot/Xavier uniform: U(−a, a), a = sqrt(6 / (fanIn + fanOut)). */
export function xavierUniform(shape: number[], fanIn: number, fanOut: number, rng: Rng): Tensor {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return rng.uniformTensor(shape, -a, a);
}
