// Small synthetic inputs for the picture tests: textured images with elliptic defects, their masks, maps and
// reconstruction errors, and a training log with the "identical shortcut" shape (loss falls, AUROC peaks then drops).
import { Rng } from '@unified-ad/core';
import type { GridSample } from '../src/plots/grid';

export function syntheticGridSamples(nNormal: number, nAnomalous: number, size = 64, seed = 3): GridSample[] {
  const rng = new Rng(seed);
  const out: GridSample[] = [];
  for (let k = 0; k < nNormal + nAnomalous; k++) {
    const anomalous = k >= nNormal;
    const n = size * size;
    const image = new Uint8Array(n * 3);
    const mask = new Float32Array(n);
    const cy = rng.uniform(0.25, 0.75) * size;
    const cx = rng.uniform(0.25, 0.75) * size;
    const ry = rng.uniform(0.08, 0.2) * size;
    const rx = rng.uniform(0.08, 0.2) * size;
    const phase = rng.uniform(0, 6.28);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = y * size + x;
        const tex = 0.5 + 0.25 * Math.sin((x + y) / 3 + phase) + 0.1 * rng.normal();
        const inside = anomalous && ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1;
        if (inside) mask[i] = 1;
        image[3 * i] = Math.max(0, Math.min(255, (inside ? 0.25 : tex) * 230));
        image[3 * i + 1] = Math.max(0, Math.min(255, (inside ? 0.2 : tex) * 200));
        image[3 * i + 2] = Math.max(0, Math.min(255, (inside ? 0.15 : tex) * 150));
      }
    }
    // native-resolution map (size/4): a bump over the defect plus noise, upsampled by the grid code
    const g = size / 4;
    const data = new Float32Array(g * g);
    for (let y = 0; y < g; y++) {
      for (let x = 0; x < g; x++) {
        const d2 = ((4 * y + 2 - cy) / (ry + 4)) ** 2 + ((4 * x + 2 - cx) / (rx + 4)) ** 2;
        data[y * g + x] = 0.2 * rng.next() + (anomalous ? Math.exp(-0.5 * d2) : 0.1 * rng.next());
      }
    }
    const err = new Float32Array(n);
    for (let i = 0; i < n; i++) err[i] = 0.1 * rng.next() + (mask[i] ? 0.6 + 0.2 * rng.next() : 0);
    let score = -Infinity;
    for (const v of data) score = Math.max(score, v);
    out.push({
      image,
      height: size,
      width: size,
      mask,
      map: { data, height: g, width: g },
      reconError: err,
      label: anomalous ? 1 : 0,
      score,
      name: anomalous ? `crack/${String(k).padStart(3, '0')}` : `good/${String(k).padStart(3, '0')}`,
    });
  }
  return out;
}

/** A JSONL training log: per-epoch loss lines and eval lines every `evalEvery` epochs. */
export function syntheticTrainingLog(epochs: number, evalEvery: number, peakEpoch: number, seed = 1): string {
  const rng = new Rng(seed);
  const lines: string[] = [];
  for (let e = 1; e <= epochs; e++) {
    const loss = 0.8 * Math.exp(-e / 8) + 0.01 + 0.005 * rng.next();
    lines.push(JSON.stringify({ epoch: e, step: e * 40, train_loss: loss, lr: 1e-4, time_s: e * 2.1, extra_key: 'ignored' }));
    if (e % evalEvery === 0) {
      const rise = 1 - Math.exp(-e / 5);
      const fall = e > peakEpoch ? Math.exp(-(e - peakEpoch) / 40) : 1;
      const i = 0.5 + 0.45 * rise * fall;
      const p = 0.5 + 0.47 * rise * (0.3 + 0.7 * fall);
      lines.push(JSON.stringify({ epoch: e, eval: { mean: { i_auroc: i, p_auroc: p }, per_class: { bottle: { i_auroc: i, p_auroc: p } } } }));
    }
  }
  return lines.join('\n') + '\n';
}
