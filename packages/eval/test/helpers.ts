import * as fs from 'node:fs';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const golden: any = JSON.parse(fs.readFileSync(path.join(__dirname, 'golden', 'golden.json'), 'utf8'));

/** null in the golden JSON stands for NaN. */
export const num = (v: number | null): number => (v === null ? NaN : v);

/** The LCG case of make_golden.py (lcg_case): float32 scores and ~3 % positive labels. */
export function lcgCase(n: number, seed: number, quant: number): { scores: Float32Array; labels: Uint8Array } {
  const next = (s: number) => (Math.imul(1664525, s) + 1013904223) >>> 0;
  const scores = new Float32Array(n);
  const labels = new Uint8Array(n);
  let a = seed >>> 0;
  let b = (seed + 1000) >>> 0;
  const add = Math.fround(0.05);
  for (let i = 0; i < n; i++) {
    a = next(a);
    b = next(b);
    let x = a / 4294967296;
    if (quant) x = Math.floor(x * quant) / quant;
    const lab = b < 128849019 ? 1 : 0;
    labels[i] = lab;
    scores[i] = Math.fround(Math.fround(x) + lab * add);
  }
  return { scores, labels };
}
