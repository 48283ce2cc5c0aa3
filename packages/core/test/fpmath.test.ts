// UNIFIED_AD_FPMATH (engine.ts): oneDNN's math mode is fixed per process, so each mode runs in its own child.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineInfo, fpmathFromEnv } from '../src';

const child = path.join(__dirname, 'fixtures', 'fpmath-child.ts');
function run(mode: string | undefined) {
  const env = { ...process.env, VITEST: undefined, UNIFIED_AD_FPMATH: mode };
  if (mode === undefined) delete env.UNIFIED_AD_FPMATH;
  return spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', child], { encoding: 'utf8', env, timeout: 120_000 });
}
type Out = { fpmath: string; leaked: number; y: number[]; grads: number[][]; scores: number[] };
const parse = (r: ReturnType<typeof run>): Out => {
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Out;
};
const relMax = (a: number[], ref: number[]) => Math.max(...a.map((v, i) => Math.abs(v - ref[i]!))) / Math.max(...ref.map(Math.abs));
// bfloat16 hardware on this CPU? oneDNN's math mode rounds only where it has AMX (on an AVX512-BF16 CPU without
// AMX, AMD EPYC Zen 4, 2026-12-03, its products in this mode equal float32's bit for bit); there the linear layers
// run on unified-ad's own bf16 kernels instead (nn/bf16-matmul.ts), which need AVX512-BF16. Without either the mode
// is allowed but changes nothing.
const cpuFlags = (() => {
  try {
    return fs.readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
})();
const amx = /\bamx_bf16\b/.test(cpuFlags);
const bf16Cpu = amx || /\bavx512_bf16\b/.test(cpuFlags);

describe('UNIFIED_AD_FPMATH: oneDNN math mode of the process', () => {
  it('parses unset / fp32 / bf16, and names the variable on anything else', () => {
    expect(fpmathFromEnv({})).toBe('fp32');
    expect(fpmathFromEnv({ UNIFIED_AD_FPMATH: 'fp32' })).toBe('fp32');
    expect(fpmathFromEnv({ UNIFIED_AD_FPMATH: 'bf16' })).toBe('bf16');
    expect(fpmathFromEnv({ UNIFIED_AD_FPMATH: 'bf32' })).toBe("UNIFIED_AD_FPMATH must be fp32 or bf16, got 'bf32'");
    expect(engineInfo.fpmath).toBe('fp32');
  });

  it('a bad value stops the process with that one line, no stack trace', () => {
    const r = run('half');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n').filter((l) => !/^\d{4}-|^WARNING|^I\d{4}/.test(l))).toEqual(["error: UNIFIED_AD_FPMATH must be fp32 or bf16, got 'half'"]);
  }, 60_000);

  it.skipIf(engineInfo.backend !== 'tensorflow')('bf16: linear value, gradients and batched products within bfloat16 rounding of fp32, no leaks' + (bf16Cpu ? ', and really rounded on this CPU' : ''), () => {
    const a = parse(run(undefined)), b = parse(run('bf16'));
    expect([a.fpmath, b.fpmath]).toEqual(['fp32', 'bf16']);
    expect([a.leaked, b.leaked]).toEqual([0, 0]);
    // bfloat16 keeps 8 significant bits: ~0.4 % per rounded input, a few % of the largest entry at most
    expect(relMax(b.y, a.y)).toBeLessThan(0.03);
    b.grads.forEach((g, i) => expect(relMax(g, a.grads[i]!)).toBeLessThan(0.03));
    expect(relMax(b.scores, a.scores)).toBeLessThan(0.03);
    if (bf16Cpu) {
      // not equal: the linear products (BatchMatMulV2 in this mode with AMX, our kernels without) ran in bf16 …
      expect(relMax(b.y, a.y)).toBeGreaterThan(1e-5);
      expect(relMax(b.grads[1]!, a.grads[1]!)).toBeGreaterThan(1e-5);
    }
    // … and a plain tf.matMul (oneDNN's batched product) where oneDNN rounds: with AMX
    if (amx) expect(relMax(b.scores, a.scores)).toBeGreaterThan(1e-5);
  }, 120_000);
});
