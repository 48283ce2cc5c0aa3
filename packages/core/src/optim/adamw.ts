// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), PyTorch semantics:
//   p ← p · (1 − lr·λ);  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
//   p ← p − lr · (m / (1−β1ᵗ)) / (sqrt(v / (1−β2ᵗ)) + ε)
import type { Variable } from '@tensorflow/tfjs-node';
import { Adam } from './adam';

export type { OptimizerState } from './optimizer';

export interface AdamWConfig {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

/** AdamW: Adam with decoupled weight decay (the shared update is Adam's, with `decoupled` set). */
export class AdamW extends Adam {
  constructor(vars: Map<string, Variable>, cfg: AdamWConfig) {
    super(vars, cfg, true);
  }
}

/** StepLR: lr = base · γ^floor(epoch / stepSize) (epoch counted from 0). */
export function stepLR(base: number, epoch: number, stepSize: number, gamma: number): number {
  return base * gamma ** Math.floor(epoch / stepSize);
}
