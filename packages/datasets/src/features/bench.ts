// Speed figures of the feature pipeline (for `npm run bench`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { Rng, sharedPath, tf } from '@unified-ad/core';
import { createBackbone, extractAligned, MOBILENET_V2_WEIGHTS } from '@unified-ad/backbones';
import { FeatureCache, featureKey } from './cache';
import { DEFAULT_FEATURE_SPEC } from './extract';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** ms per image of backbone + neck (default layers, 14×14) at batch 8, 224×224, shared TFLite MobileNetV2. */
async function backboneMsPerImage(): Promise<number | null> {
  const w = sharedPath(...MOBILENET_V2_WEIGHTS.sharedDir, MOBILENET_V2_WEIGHTS.fileName);
  if (!w) return null;
  const b = await createBackbone({ id: 'mobilenet_v2', path: w });
  const rng = new Rng(7);
  const n = 8 * 224 * 224 * 3;
  const pix = new Float32Array(n);
  for (let i = 0; i < n; i++) pix[i] = Math.floor(rng.next() * 256);
  const x = tf.tensor4d(pix, [8, 224, 224, 3]);
  const spec = DEFAULT_FEATURE_SPEC;
  const once = () => {
    const t0 = process.hrtime.bigint();
    const f = extractAligned(b, x as Tensor4D, spec.layers, spec.size);
    f.dataSync();
    f.dispose();
    return Number(process.hrtime.bigint() - t0) / 1e6 / 8;
  };
  once();
  once();
  const times = Array.from({ length: 10 }, once);
  x.dispose();
  b.dispose();
  return median(times);
}

/** MB/s of reading and verifying float32 cache entries (14×14×152, the default features). */
function cacheReadMbPerS(): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uad-cache-bench-'));
  try {
    const cache = new FeatureCache(dir);
    const c = 152;
    const cell = 14 * 14 * c;
    const rng = new Rng(3);
    const keys: string[] = [];
    for (let i = 0; i < 256; i++) {
      const data = new Float32Array(cell);
      for (let j = 0; j < cell; j++) data[j] = rng.next();
      const key = featureKey(Float32Array.of(i), { ...DEFAULT_FEATURE_SPEC, weightsHash: 'bench', dtype: 'float32' });
      cache.put(key, { data, height: 14, width: 14, channels: c }, 'float32');
      keys.push(key);
    }
    const out = new Float32Array(cell);
    const rates: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = process.hrtime.bigint();
      for (const k of keys) if (!cache.get(k, out)) throw new Error('bench: cache entry unreadable');
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      rates.push((keys.length * cell * 4) / 1e6 / s);
    }
    return median(rates);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchFeatures(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const ms = await backboneMsPerImage();
  if (ms === null) process.stderr.write('bench features: ../shared MobileNetV2 weights absent, backbone_ms_per_image skipped\n');
  else out.backbone_ms_per_image = Math.round(ms * 100) / 100;
  out.feature_cache_read_mb_s = Math.round(cacheReadMbPerS());
  return out;
}
