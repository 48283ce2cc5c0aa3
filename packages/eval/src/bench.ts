// Speed of the exact metrics on a full-MVTec-sized pixel set: 1725 maps of 224×224 = 86.6 M pixels with
// blob-shaped anomalous regions (about 3 % of the pixels), generated deterministically with the core Rng.
import { Rng } from '@unified-ad/core';
import { aupro } from './aupro';
import { binaryMetrics } from './metrics';
import { pixelMetrics } from './evaluate';

export interface SyntheticPixels {
  maps: { data: Float32Array; height: number; width: number }[];
  masks: { data: Float32Array; height: number; width: number }[];
  labels: number[];
  positives: number;
}

/**
 * Synthetic test set: `count` maps of size×size; about 70 % of the images carry 1–3 elliptic regions. Map value =
 * uniform noise, plus a bump inside and around each region, so that AUROC is high but not perfect.
 */
export function syntheticPixels(count: number, size: number, seed = 2022): SyntheticPixels {
  const rng = new Rng(seed);
  const maps: SyntheticPixels['maps'] = [];
  const masks: SyntheticPixels['masks'] = [];
  const labels: number[] = [];
  let positives = 0;
  const n = size * size;
  for (let k = 0; k < count; k++) {
    const map = new Float32Array(n);
    const mask = new Float32Array(n);
    for (let i = 0; i < n; i++) map[i] = rng.next();
    const anomalous = rng.next() < 0.7;
    if (anomalous) {
      const blobs = 1 + rng.int(3);
      for (let b = 0; b < blobs; b++) {
        const cy = rng.uniform(0, size);
        const cx = rng.uniform(0, size);
        const ry = rng.uniform(0.03, 0.12) * size;
        const rx = rng.uniform(0.03, 0.12) * size;
        const y0 = Math.max(0, Math.floor(cy - 2 * ry));
        const y1 = Math.min(size - 1, Math.ceil(cy + 2 * ry));
        const x0 = Math.max(0, Math.floor(cx - 2 * rx));
        const x1 = Math.min(size - 1, Math.ceil(cx + 2 * rx));
        for (let y = y0; y <= y1; y++) {
          for (let x = x0; x <= x1; x++) {
            const d2 = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2;
            const i = y * size + x;
            if (d2 <= 1) mask[i] = 1;
            map[i] += 1.5 * Math.exp(-0.5 * d2);
          }
        }
      }
      for (let i = 0; i < n; i++) positives += mask[i];
    }
    maps.push({ data: map, height: size, width: size });
    masks.push({ data: mask, height: size, width: size });
    labels.push(anomalous ? 1 : 0);
  }
  return { maps, masks, labels, positives };
}

/** Wall-clock and process CPU milliseconds of one call. */
function time(f: () => unknown): [number, number] {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  f();
  const c = process.cpuUsage(c0);
  return [Number(process.hrtime.bigint() - t0) / 1e6, (c.user + c.system) / 1000];
}

/**
 * Bench numbers in milliseconds (one run each, after generating the data): exact pixel AUROC (with AP and F1-max,
 * which come from the same pass) and AUPRO of 86.6 M pixels, and exact AUROC of 10 k image scores. The `_cpu_ms`
 * twins give the process CPU time, a steadier figure on a shared machine.
 */
export async function benchEval(): Promise<Record<string, number>> {
  const data = syntheticPixels(1725, 224);
  const out: Record<string, number> = {};
  let check = 0;
  [out.pixel_auroc_86m_ms, out.pixel_auroc_86m_cpu_ms] = time(() => {
    check += pixelMetrics(data.maps, data.masks).auroc;
  });
  [out.aupro_86m_ms, out.aupro_86m_cpu_ms] = time(() => {
    check += aupro(data.maps, data.masks);
  });
  const rng = new Rng(7);
  const scores = new Float64Array(10_000);
  const labels = new Uint8Array(10_000);
  for (let i = 0; i < scores.length; i++) {
    labels[i] = rng.next() < 0.3 ? 1 : 0;
    scores[i] = rng.normal() + labels[i];
  }
  [out.image_auroc_10k_ms] = time(() => {
    check += binaryMetrics(scores, labels).auroc;
  });
  if (!Number.isFinite(check)) throw new Error('benchEval: a metric came out NaN');
  return out;
}

if (require.main === module) {
  benchEval().then((r) => console.log(JSON.stringify(r)));
}
