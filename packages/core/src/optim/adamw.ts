// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), PyTorch semantics:
//   p ← p · (1 − lr·λ);  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
//   p ← p − lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + ε)
import type { Tensor, Variable } from '@tensorflow/tfjs-node';
import { tf } from '../engine';

export interface AdamWConfig {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

export interface OptimizerState {
  step: number;
  lr: number;
  /** name → [m, v] */
  slots: Map<string, [Float32Array, Float32Array]>;
}

export class AdamW {
  lr: number;
  step = 0;
  private m = new Map<string, Variable>();
  private v = new Map<string, Variable>();

  constructor(readonly vars: Map<string, Variable>, readonly cfg: AdamWConfig) {
    this.lr = cfg.lr;
    for (const [name, p] of vars) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    }
  }

  /** Applies one update with the given gradients (name → gradient). */
  apply(grads: Map<string, Tensor>): void {
    this.step += 1;
    const [b1, b2] = this.cfg.betas;
    const bc1 = 1 - b1 ** this.step;
    const bc2 = 1 - b2 ** this.step;
    const stepSize = this.lr / bc1;
    const decay = 1 - this.lr * this.cfg.weightDecay;
    tf.tidy(() => {
      for (const [name, p] of this.vars) {
        const g = grads.get(name);
        if (!g) continue;
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const m1 = m.mul(b1).add(g.mul(1 - b1));
        const v1 = v.mul(b2).add(g.square().mul(1 - b2));
        m.assign(m1);
        v.assign(v1);
        const denom = v1.div(bc2).sqrt().add(this.cfg.eps);
        p.assign(p.mul(decay).sub(m1.div(denom).mul(stepSize)));
      }
    });
  }

  getState(): OptimizerState {
    const slots = new Map<string, [Float32Array, Float32Array]>();
    for (const name of this.vars.keys()) {
      slots.set(name, [this.m.get(name)!.dataSync() as Float32Array, this.v.get(name)!.dataSync() as Float32Array]);
    }
    return { step: this.step, lr: this.lr, slots };
  }

  setState(s: OptimizerState): void {
    this.step = s.step;
    this.lr = s.lr;
    for (const [name, [m, v]] of s.slots) {
      const mv = this.m.get(name);
      const vv = this.v.get(name);
      if (!mv || !vv) throw new Error(`optimizer state has unknown parameter '${name}'`);
      mv.assign(tf.tensor(m, mv.shape));
      vv.assign(tf.tensor(v, vv.shape));
    }
  }

  dispose(): void {
    for (const x of this.m.values()) x.dispose();
    for (const x of this.v.values()) x.dispose();
  }
}

/** StepLR: lr = base · γ^floor(epoch / stepSize) (epoch counted from 0). */
export function stepLR(base: number, epoch: number, stepSize: number, gamma: number): number {
  return base * gamma ** Math.floor(epoch / stepSize);
}

/**
 * Clips gradients by their global L2 norm (PyTorch clip_grad_norm_: coef = max / (norm + 1e-6), applied if < 1).
 * Stays on the device: no host round-trip. Returns the clipped gradients and the pre-clip norm (a scalar tensor).
 */
export function clipByGlobalNorm(grads: Map<string, Tensor>, maxNorm: number): { grads: Map<string, Tensor>; norm: Tensor } {
  const sq = [...grads.values()].map((g) => g.square().sum());
  const norm = tf.addN(sq).sqrt();
  const coef = tf.minimum(tf.scalar(1), tf.scalar(maxNorm).div(norm.add(1e-6)));
  const out = new Map<string, Tensor>();
  for (const [k, g] of grads) out.set(k, g.mul(coef));
  return { grads: out, norm };
}
