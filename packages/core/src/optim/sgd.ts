// Stochastic gradient descent, torch.optim.SGD semantics:
//   g ← g + λ p;  b ← g on a parameter's first update, else b ← μ b + (1 − τ) g;  g ← g + μ b (Nesterov) or g ← b
//   p ← p − lr · g
// Clipping (clip_grad_norm_) scales the raw gradient before the decay term is added, as when torch clips p.grad.
import type { Tensor, Variable } from '@tensorflow/tfjs-node';
import { tf } from '../engine';
import {
  clipCoefficient,
  commit,
  disposeGroups,
  groupByShape,
  perRow,
  readSlots,
  stackGradients,
  writeSlots,
  type Optimizer,
  type OptimizerState,
  type ParamGroup,
} from './optimizer';

export interface SgdConfig {
  lr: number;
  /** μ (0: plain SGD, no buffer) */
  momentum: number;
  /** τ: damping of the gradient in the momentum update (not applied on the first update, as torch) */
  dampening?: number;
  nesterov: boolean;
  /** L2 penalty coefficient λ (added to the gradient) */
  weightDecay: number;
}

export class Sgd implements Optimizer {
  lr: number;
  step = 0;
  private groups: ParamGroup[];
  /** per group, per parameter: has its momentum buffer been started (torch creates it on the first update) */
  private started: boolean[][];

  constructor(readonly vars: Map<string, Variable>, readonly cfg: SgdConfig) {
    const d = cfg.dampening ?? 0;
    if (!(cfg.lr >= 0)) throw new Error(`SGD lr must be ≥ 0, got ${cfg.lr}`);
    if (!(cfg.momentum >= 0)) throw new Error(`SGD momentum must be ≥ 0, got ${cfg.momentum}`);
    if (!(d >= 0 && d <= 1)) throw new Error(`SGD dampening must be in [0, 1], got ${d}`);
    if (!(cfg.weightDecay >= 0)) throw new Error(`SGD weightDecay must be ≥ 0, got ${cfg.weightDecay}`);
    if (cfg.nesterov && (cfg.momentum <= 0 || d !== 0)) throw new Error(`SGD nesterov needs momentum > 0 and dampening 0, got momentum ${cfg.momentum}, dampening ${d}`);
    this.lr = cfg.lr;
    this.groups = groupByShape(vars, cfg.momentum > 0 ? 1 : 0); // slots [momentum buffer]
    this.started = this.groups.map((g) => g.names.map(() => false));
  }

  apply(grads: Map<string, Tensor>, clipNorm: number | null = null): Tensor {
    this.step += 1;
    const { momentum: mu, nesterov, weightDecay: wd } = this.cfg;
    const damp = this.cfg.dampening ?? 0;
    const lr = this.lr;
    const norm = tf.tidy(() => {
      const { stacked, has, norm } = stackGradients(this.groups, grads);
      const clipping = clipNorm !== null && clipNorm !== undefined;
      const coef = clipCoefficient(norm, clipNorm);
      this.groups.forEach((g, i) => {
        const p = tf.stack(g.vars);
        let d = clipping ? stacked[i]!.mul(coef) : stacked[i]!;
        if (wd !== 0) d = d.add(p.mul(wd));
        if (mu === 0) {
          commit(g, has[i]!, [], p.sub(d.mul(lr)));
          return;
        }
        // a buffer that has not started is zero, so b ← μ·0 + c·g with c = 1 on the first update, 1 − τ after
        const started = this.started[i]!;
        const c = damp === 0 ? 1 : started.every(Boolean) ? 1 - damp : perRow(g, started.map((s) => (s ? 1 - damp : 1)));
        const b1 = g.slots[0]!.mul(mu).add(d.mul(c));
        const step = nesterov ? d.add(b1.mul(mu)) : b1;
        commit(g, has[i]!, [b1], p.sub(step.mul(lr)));
      });
      return norm;
    });
    this.groups.forEach((_, i) => has(grads, this.groups[i]!).forEach((h, k) => h && (this.started[i]![k] = true)));
    return norm;
  }

  /** slots: name → [momentum buffer], for the parameters whose buffer has started (none without momentum) */
  getState(): OptimizerState {
    const started = new Set(this.groups.flatMap((g, i) => g.names.filter((_, k) => this.started[i]![k])));
    return { step: this.step, lr: this.lr, slots: readSlots(this.groups, (n) => started.has(n)) };
  }

  /** A parameter absent from the slots has not started its buffer (as in a torch state_dict). */
  setState(s: OptimizerState): void {
    const known = new Set(this.groups.flatMap((g) => g.names));
    for (const [n, slot] of s.slots) {
      if (!known.has(n)) throw new Error(`SGD state has unknown parameter '${n}'`);
      if (this.cfg.momentum === 0 && slot.length) throw new Error(`SGD state of '${n}' has a momentum buffer but momentum is 0`);
    }
    const present = new Set<string>();
    if (this.cfg.momentum > 0) writeSlots(this.groups, s.slots, 'SGD', false, (n, p) => p && present.add(n));
    this.started = this.groups.map((g) => g.names.map((n) => present.has(n)));
    this.step = s.step;
    this.lr = s.lr;
  }

  dispose(): void {
    disposeGroups(this.groups);
  }
}

const has = (grads: Map<string, Tensor>, g: ParamGroup) => g.names.map((n) => grads.has(n));
