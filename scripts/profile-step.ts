// Where the time of UniAD's paper-shape step goes: every TensorFlow kernel the step runs, timed at tfjs-node's binding
// (executeOp), summed per op and output shape over 5 steps after 3 of warm-up; the top 45 printed.
//   npx ts-node -T scripts/profile-step.ts [train|infer]        (UNIFIED_AD_FPMATH=bf16, UNIFIED_AD_FUSED_KERNELS=0 apply)
// The wall time includes the timing itself (~5 %); `npm run bench` gives the real step time.
import { tf, Rng, AdamW, engineInfo, fusedOps } from '@unified-ad/core';
import { makeTrainStep } from '../packages/core/src/trainer';
import { UniAD, UniADConfigSchema } from '@unified-ad/models-uniad';
const be: any = tf.backend();
const b = be.binding;
const orig = b.executeOp.bind(b);
const px: any = {}; for (const k of Object.getOwnPropertyNames(b)) px[k] = typeof b[k] === 'function' ? b[k].bind(b) : b[k]; px.executeOp = exec;
be.binding = px;
require('../packages/core/src/fast-kernels').installFastKernels(tf);
const acc = new Map<string, { n: number; ms: number }>();
let on = false;
function exec(name: string, attrs: any[], inputs: number[], n: number) {
  if (!on) return orig(name, attrs, inputs, n);
  const t0 = process.hrtime.bigint();
  const r = orig(name, attrs, inputs, n);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const shp = r[0]?.shape?.join('x') ?? '';
  const key = name + ' ' + shp;
  const a = acc.get(key) ?? { n: 0, ms: 0 }; a.n++; a.ms += ms; acc.set(key, a);
  return r;
}
const mode = process.argv[2] ?? 'train';
const rng = new Rng(0);
const model = new UniAD(UniADConfigSchema.parse({}), 272, 14, rng);
const x = rng.normalTensor([8, 14, 14, 272]) as any;
const opt = new AdamW(model.namedVariables(), { lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-4 });
const step = makeTrainStep(model as any, opt as any, 0.1);
const f = mode === 'train' ? () => { const [l, nn] = tf.tidy(() => step(x, rng)); l.dataSync(); l.dispose(); nn.dispose(); } : () => { const m = (model as any).predict(x).maps; m.dataSync(); m.dispose(); };
for (let i = 0; i < 3; i++) f();
const N = 5;
on = true;
const t0 = Date.now();
for (let i = 0; i < N; i++) f();
const wall = (Date.now() - t0) / N;
on = false;
let tot = 0; let cnt = 0;
const rows = [...acc.entries()].map(([k, v]) => { tot += v.ms; cnt += v.n; return [k, v.n / N, v.ms / N] as const; }).sort((a, b) => b[2] - a[2]);
console.log(`fpmath ${engineInfo.fpmath}, fused kernels ${fusedOps()}, ${mode}: wall ${wall.toFixed(1)} ms/step, ops ${(tot / N).toFixed(1)} ms in ${cnt / N} calls`);
for (const r of rows.slice(0, Number(process.env.TOP ?? 45))) console.log(r[2].toFixed(2).padStart(8), String(r[1]).padStart(5), r[0]);
