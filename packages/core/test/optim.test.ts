import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor, Variable } from '@tensorflow/tfjs-node';
import { AdamW, tf } from '../src';

// PyTorch golden values: test/golden/adamw_golden.py (torch.optim.AdamW + clip_grad_norm_, float64)
const golden = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden', 'adamw_golden.json'), 'utf8')) as {
  shapes: Record<string, number[]>;
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
  runs: { clip: number | null; init: Record<string, number[]>; steps: { grads: Record<string, number[]>; norm: number; params: Record<string, number[]> }[] }[];
};

function setup(init: Record<string, number[]>) {
  const vars = new Map<string, Variable>();
  for (const [n, s] of Object.entries(golden.shapes)) vars.set(n, tf.variable(tf.tensor(init[n]!, s)));
  const opt = new AdamW(vars, { lr: golden.lr, betas: golden.betas, eps: golden.eps, weightDecay: golden.weight_decay });
  return { vars, opt };
}
const gradMap = (g: Record<string, number[]>, only?: string[]) =>
  new Map<string, Tensor>(Object.entries(g).filter(([n]) => !only || only.includes(n)).map(([n, v]) => [n, tf.tensor(v, golden.shapes[n])]));

describe('AdamW + gradient clipping', () => {
  for (const run of golden.runs) {
    it(`matches PyTorch over 5 steps (clip ${run.clip ?? 'off'})`, () => {
      const { vars, opt } = setup(run.init);
      for (const st of run.steps) {
        const norm = opt.apply(gradMap(st.grads), run.clip);
        expect(norm.dataSync()[0]).toBeCloseTo(st.norm, 3);
        for (const [n, v] of vars) {
          const got = v.dataSync();
          st.params[n]!.forEach((x, i) => expect(Math.abs(got[i]! - x)).toBeLessThan(2e-6 * Math.max(1, Math.abs(x))));
        }
      }
      opt.dispose();
    });
  }

  it('a parameter without a gradient is untouched; state round-trips to identical updates', () => {
    const run = golden.runs[0]!;
    const a = setup(run.init), b = setup(run.init);
    a.opt.apply(gradMap(run.steps[0]!.grads, ['a', 'c', 'd']), 0.5);
    expect(Array.from(a.vars.get('b')!.dataSync())).toEqual(Array.from(tf.tensor(run.init.b!).dataSync()));
    expect(Array.from(a.vars.get('a')!.dataSync())).not.toEqual(Array.from(tf.tensor(run.init.a!).dataSync()));
    // b continues from a's state and parameters: the next update is identical
    b.opt.setState(a.opt.getState());
    for (const [n, v] of a.vars) b.vars.get(n)!.assign(v.clone());
    a.opt.apply(gradMap(run.steps[1]!.grads), 0.5);
    b.opt.apply(gradMap(run.steps[1]!.grads), 0.5);
    for (const [n, v] of a.vars) expect(Array.from(b.vars.get(n)!.dataSync())).toEqual(Array.from(v.dataSync()));
    const state = a.opt.getState();
    expect(state.step).toBe(2);
    expect(state.slots.get('b')![0].every((x) => x !== 0)).toBe(true); // b got a gradient in step 2
  });
});
