import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor, Variable } from '@tensorflow/tfjs-node';
import { tf } from '../src/engine';
import { validateConfig } from '../src/config';
import { Adam, AdamW, OptimizerConfigSchema, ScheduleConfigSchema, Sgd, createOptimizer, lrAt, type Optimizer, type OptimizerConfig } from '../src/optim';

// PyTorch golden values: test/golden/optim_golden.py (torch.optim.Adam / SGD + clip_grad_norm_, lr_scheduler; float64)
type Step = { grads: Record<string, number[]>; norm: number; params: Record<string, number[]> };
type Run = { name: string; optimizer: 'adam' | 'sgd'; opts: Record<string, unknown>; clip: number | null; missing: Record<string, string[]>; init: Record<string, number[]>; steps: Step[] };
const golden = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden', 'optim_golden.json'), 'utf8')) as {
  shapes: Record<string, number[]>;
  runs: Run[];
  epochs: number;
  base_lr: number;
  schedules: { config: Record<string, unknown>; lrs: number[] }[];
};
const adamwGolden = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden', 'adamw_golden.json'), 'utf8')) as {
  lr: number;
  betas: [number, number];
  eps: number;
  weight_decay: number;
  runs: { clip: number | null; init: Record<string, number[]>; steps: Step[] }[];
};

/** The torch optimizer's keyword arguments as this framework's optimizer config (validated as a user's would be). */
function configOf(run: Run): OptimizerConfig {
  const o = run.opts as { betas?: [number, number]; eps?: number; weight_decay?: number; momentum?: number; nesterov?: boolean; dampening?: number };
  const raw =
    run.optimizer === 'adam'
      ? { name: 'adam', betas: o.betas, eps: o.eps, weightDecay: o.weight_decay ?? 0 }
      : { name: 'sgd', momentum: o.momentum ?? 0, nesterov: o.nesterov ?? false, weightDecay: o.weight_decay ?? 0, dampening: o.dampening ?? 0 };
  return validateConfig(OptimizerConfigSchema, raw, run.name);
}

function setup(init: Record<string, number[]>, make: (vars: Map<string, Variable>) => Optimizer) {
  const vars = new Map<string, Variable>();
  for (const [n, s] of Object.entries(golden.shapes)) vars.set(n, tf.variable(tf.tensor(init[n]!, s)));
  return { vars, opt: make(vars) };
}
const gradMap = (g: Record<string, number[]>) => new Map<string, Tensor>(Object.entries(g).map(([n, v]) => [n, tf.tensor(v, golden.shapes[n])]));

/** max |got − want| ≤ 1e-5 · max(1, max |want|) */
function expectClose(got: ArrayLike<number>, want: number[], what: string, tol = 1e-5) {
  expect(got.length, `${what}: length`).toBe(want.length);
  const scale = Math.max(1, ...want.map(Math.abs));
  let worst = 0;
  want.forEach((w, i) => (worst = Math.max(worst, Math.abs(got[i]! - w))));
  expect(worst / scale, `${what}: max error ${worst}`).toBeLessThanOrEqual(tol);
}

function replay(opt: Optimizer, vars: Map<string, Variable>, steps: Step[], clip: number | null) {
  steps.forEach((st, t) => {
    const grads = gradMap(st.grads);
    const norm = opt.apply(grads, clip);
    expectClose([norm.dataSync()[0]!], [st.norm], `step ${t}: norm`);
    tf.dispose([norm, ...grads.values()]);
    for (const [n, v] of vars) expectClose(v.dataSync(), st.params[n]!, `step ${t}: ${n}`);
  });
}

describe('Adam and SGD against PyTorch', () => {
  for (const run of golden.runs) {
    const missing = Object.values(run.missing).length ? `, no gradient for ${JSON.stringify(run.missing)}` : '';
    it(`${run.name} (clip ${run.clip ?? 'off'}${missing})`, () => {
      const cfg = configOf(run);
      const { vars, opt } = setup(run.init, (v) => createOptimizer(cfg, v, run.opts.lr as number));
      expect(opt).toBeInstanceOf(run.optimizer === 'adam' ? Adam : Sgd);
      replay(opt, vars, run.steps, run.clip);
      expect(opt.step).toBe(run.steps.length);
      opt.dispose();
    });
  }

  for (const run of adamwGolden.runs) {
    it(`createOptimizer's AdamW matches PyTorch (clip ${run.clip ?? 'off'})`, () => {
      const cfg = validateConfig(OptimizerConfigSchema, { name: 'adamw', betas: adamwGolden.betas, eps: adamwGolden.eps, weightDecay: adamwGolden.weight_decay }, 'cfg');
      const { vars, opt } = setup(run.init, (v) => createOptimizer(cfg, v, adamwGolden.lr));
      expect(opt).toBeInstanceOf(AdamW);
      replay(opt, vars, run.steps, run.clip);
      opt.dispose();
    });
  }
});

describe('optimizer state', () => {
  const pick = (name: string) => golden.runs.find((r) => r.name === name && r.clip === 0.5)!;
  const cases: [string, Run][] = [
    ['Adam', pick('adam weight decay')],
    ['SGD momentum', golden.runs.find((r) => r.name === 'sgd momentum' && r.clip === null)!],
    ['SGD Nesterov', pick('sgd nesterov weight decay')],
    ['SGD dampening, late starters', pick('sgd momentum dampening, b and d start late')],
    ['SGD without momentum', golden.runs.find((r) => r.name === 'sgd plain weight decay')!],
  ];
  for (const [label, run] of cases) {
    it(`${label}: getState/setState round trip gives an identical next step`, () => {
      const cfg = configOf(run);
      const lr = run.opts.lr as number;
      const a = setup(run.init, (v) => createOptimizer(cfg, v, lr));
      const b = setup(run.init, (v) => createOptimizer(cfg, v, lr));
      const only = (g: Record<string, number[]>, t: number) => Object.fromEntries(Object.entries(g).filter(([n]) => !(run.missing[String(t)] ?? []).includes(n)));
      for (const t of [0, 1]) tf.dispose(a.opt.apply(gradMap(only(run.steps[t]!.grads, t)), run.clip));
      a.opt.lr = lr * 0.5; // the lr travels with the state
      const state = a.opt.getState();
      expect(state.step).toBe(2);
      b.opt.setState(state);
      expect(b.opt.lr).toBe(lr * 0.5);
      for (const [n, v] of a.vars) b.vars.get(n)!.assign(v.clone());
      for (const o of [a, b]) tf.dispose(o.opt.apply(gradMap(run.steps[2]!.grads), run.clip));
      for (const [n, v] of a.vars) expect(Array.from(b.vars.get(n)!.dataSync()), n).toEqual(Array.from(v.dataSync()));
      // the restored state's slots equal the source's after the same step
      const sa = a.opt.getState(), sb = b.opt.getState();
      expect([...sb.slots.keys()].sort()).toEqual([...sa.slots.keys()].sort());
      for (const [n, slots] of sa.slots) slots.forEach((s, k) => expect(Array.from(sb.slots.get(n)![k]!)).toEqual(Array.from(s)));
      a.opt.dispose();
      b.opt.dispose();
    });
  }

  it('slot layout: Adam [m, v] for every parameter; SGD [buffer] only once started; none without momentum', () => {
    const adam = pick('adam weight decay'), late = pick('sgd momentum dampening, b and d start late');
    const a = setup(adam.init, (v) => createOptimizer(configOf(adam), v, 0.01));
    expect([...a.opt.getState().slots.values()].every((s) => s.length === 2)).toBe(true);
    expect(a.opt.getState().slots.size).toBe(4);
    const s = setup(late.init, (v) => createOptimizer(configOf(late), v, 0.05));
    tf.dispose(s.opt.apply(gradMap(Object.fromEntries(Object.entries(late.steps[0]!.grads).filter(([n]) => n !== 'b')))));
    const st = s.opt.getState();
    expect([...st.slots.keys()].sort()).toEqual(['a', 'c', 'd']);
    expect([...st.slots.values()].every((x) => x.length === 1)).toBe(true);
    const plain = golden.runs.find((r) => r.name === 'sgd plain weight decay')!;
    const p = setup(plain.init, (v) => createOptimizer(configOf(plain), v, 0.1));
    tf.dispose(p.opt.apply(gradMap(plain.steps[0]!.grads)));
    expect(p.opt.getState().slots.size).toBe(0);
    // a bad state names the parameter
    expect(() => a.opt.setState({ step: 1, lr: 0.1, slots: new Map([['zz', [new Float32Array(1)]]]) })).toThrow(/unknown parameter 'zz'/);
    const short = new Map(a.opt.getState().slots);
    short.delete('c');
    expect(() => a.opt.setState({ step: 1, lr: 0.1, slots: short })).toThrow(/lacks parameter 'c'/);
    expect(() => s.opt.setState({ step: 1, lr: 0.1, slots: new Map([['c', [new Float32Array(3)]]]) })).toThrow(/'c' has 3 values, expected 5/);
    expect(() => p.opt.setState({ step: 1, lr: 0.1, slots: new Map([['c', [new Float32Array(5)]]]) })).toThrow(/momentum is 0/);
    for (const o of [a, s, p]) o.opt.dispose();
  });

  it('repeated steps leave the tensor count flat (every optimizer, with and without clipping)', () => {
    const cfgs: OptimizerConfig[] = [
      validateConfig(OptimizerConfigSchema, { name: 'adamw' }, 'c'),
      validateConfig(OptimizerConfigSchema, { name: 'adam', weightDecay: 0.1 }, 'c'),
      validateConfig(OptimizerConfigSchema, { name: 'sgd', momentum: 0.9, dampening: 0.1, weightDecay: 0.1 }, 'c'),
      validateConfig(OptimizerConfigSchema, { name: 'sgd', momentum: 0.9, nesterov: true }, 'c'),
    ];
    const run = golden.runs[0]!;
    for (const cfg of cfgs) {
      const { vars, opt } = setup(run.init, (v) => createOptimizer(cfg, v, 0.01));
      const grads = gradMap(run.steps[0]!.grads);
      const partial = new Map([...grads].filter(([n]) => n !== 'b'));
      tf.dispose([opt.apply(grads, 0.5), opt.apply(partial, null)]);
      opt.setState(opt.getState());
      const before = tf.memory().numTensors;
      for (let i = 0; i < 4; i++) tf.dispose([opt.apply(grads, i % 2 ? 0.5 : null), opt.apply(partial, 0.5)]);
      opt.setState(opt.getState());
      expect(tf.memory().numTensors, cfg.name).toBe(before);
      opt.dispose();
      tf.dispose([...grads.values(), ...vars.values()]);
    }
  });
});

describe('lr schedules against torch.optim.lr_scheduler', () => {
  for (const s of golden.schedules) {
    it(JSON.stringify(s.config), () => {
      const cfg = validateConfig(ScheduleConfigSchema, s.config, 'schedule');
      const got = s.lrs.map((_, e) => lrAt(cfg, golden.base_lr, e, golden.epochs));
      got.forEach((v, e) => expect(Math.abs(v - s.lrs[e]!), `epoch ${e}: ${v} vs ${s.lrs[e]}`).toBeLessThanOrEqual(1e-12 * s.lrs[e]!));
    });
  }

  it('defaults: step γ 0.1, cosine ηmin 0, no warm-up', () => {
    const step = validateConfig(ScheduleConfigSchema, { kind: 'step', stepSize: 2 }, 's');
    expect([0, 1, 2, 4].map((e) => lrAt(step, 1, e, 10))).toEqual([1, 1, 0.1, 0.1 ** 2]);
    const cos = validateConfig(ScheduleConfigSchema, { kind: 'cosine' }, 's');
    expect(lrAt(cos, 2, 0, 10)).toBe(2);
    expect(lrAt(cos, 2, 5, 10)).toBeCloseTo(1, 12);
    expect(cos.warmupEpochs).toBe(0);
  });
});

describe('config errors are one line naming the key', () => {
  const bad: [unknown, RegExp][] = [
    [{ name: 'sgd', nesterov: true }, /key 'nesterov'.*momentum > 0/],
    [{ name: 'sgd', momentum: 0.9, nesterov: true, dampening: 0.1 }, /key 'nesterov'/],
    [{ name: 'sgd', momentum: -1 }, /key 'momentum'/],
    [{ name: 'adam', betas: [0.9, 1.5] }, /key 'betas\.1'/],
    [{ name: 'adamw', weightDecay: -0.1 }, /key 'weightDecay'/],
    [{ name: 'adamw', lr: 0.1 }, /unknown key 'lr'/],
    [{ name: 'rmsprop' }, /key 'name'/],
  ];
  for (const [raw, re] of bad) {
    it(`optimizer ${JSON.stringify(raw)}`, () => {
      expect(() => validateConfig(OptimizerConfigSchema, raw, 'train.optimizer')).toThrow(re);
      try {
        validateConfig(OptimizerConfigSchema, raw, 'train.optimizer');
      } catch (e) {
        expect((e as Error).message).not.toContain('\n');
        expect((e as Error).message.startsWith('train.optimizer: ')).toBe(true);
      }
    });
  }

  const badSchedules: [unknown, RegExp][] = [
    [{ kind: 'step' }, /key 'stepSize'/],
    [{ kind: 'step', stepSize: 0 }, /key 'stepSize'/],
    [{ kind: 'multistep', milestones: [3, -1] }, /key 'milestones\.1'/],
    [{ kind: 'cosine', warmupEpochs: 1.5 }, /key 'warmupEpochs'/],
    [{ kind: 'constant', warmupStartFactor: 0 }, /key 'warmupStartFactor'/],
    [{ kind: 'exponential' }, /key 'gamma'/],
    [{ kind: 'poly' }, /key 'kind'/],
  ];
  for (const [raw, re] of badSchedules) {
    it(`schedule ${JSON.stringify(raw)}`, () => expect(() => validateConfig(ScheduleConfigSchema, raw, 'train.schedule')).toThrow(re));
  }

  it('impossible combinations at use time name the key too', () => {
    const cos = validateConfig(ScheduleConfigSchema, { kind: 'cosine', warmupEpochs: 10 }, 's');
    expect(() => lrAt(cos, 0.1, 10, 10)).toThrow(/key 'warmupEpochs'/);
    expect(() => lrAt(cos, 0.1, -1, 10)).toThrow(/epoch must be an integer/);
    const vars = new Map([['w', tf.variable(tf.zeros([2]))]]);
    expect(() => new Sgd(vars, { lr: 0.1, momentum: 0, nesterov: true, weightDecay: 0 })).toThrow(/nesterov needs momentum > 0/);
    expect(() => new Adam(vars, { lr: 0.1, betas: [0.9, 1], eps: 1e-8, weightDecay: 0 })).toThrow(/Adam betas/);
    const sgd = new Sgd(vars, { lr: 0.1, momentum: 0.9, nesterov: false, weightDecay: 0 });
    expect(() => sgd.apply(new Map([['w', tf.ones([2])]]), 0)).toThrow(/clipNorm must be > 0/);
    sgd.dispose();
  });
});
