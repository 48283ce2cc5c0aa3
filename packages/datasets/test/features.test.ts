// The feature cache: hits/misses, no backbone work on a second run, corruption detection, key
// contents, float16 entries; and the real MobileNetV2 path (skipped without ../shared).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { sharedPath, tf, UserError, type Dataset, type Sample } from '@unified-ad/core';
import { createBackbone, extractAligned, type Backbone } from '@unified-ad/backbones';
import {
  decodeEntry,
  DEFAULT_FEATURE_SPEC,
  defaultFeatureSpec,
  encodeEntry,
  extractFeatures,
  FeatureCache,
  featureKey,
  fromFloat16,
  HEADER_BYTES,
  toFloat16,
  benchFeatures,
} from '../src';

const SIDE = 16;

/** A tiny in-memory dataset: image i is a deterministic pattern; loadImage counts its calls. */
function memoryDataset(n: number, seed = 0): Dataset & { loads: number } {
  const samples: Sample[] = Array.from({ length: n }, (_, i) => ({
    id: `toy/train/good/${i}`,
    className: 'toy',
    split: 'train',
    label: 0,
    defectType: 'good',
    imagePath: `mem.bin#${i}`,
  }));
  const ds = {
    name: 'memory',
    samples,
    classes: ['toy'],
    loads: 0,
    async loadImage(s: Sample, size: number) {
      ds.loads++;
      const i = Number(s.imagePath.split('#')[1]);
      return Float32Array.from({ length: size * size * 3 }, (_, k) => (k * 7 + i * 31 + seed) % 256);
    },
    async loadMask(_s: Sample, size: number) {
      return new Float32Array(size * size);
    },
  };
  return ds;
}

/** A fake backbone: two "layers" (stride 2 and 4) computed from the pixels; counts extract() calls. */
function spyBackbone(): Backbone & { calls: number; images: number } {
  const b = {
    id: 'fake',
    inputSize: SIDE,
    weightsHash: 'fake-weights-v1',
    defaultLayers: ['a', 'b'],
    calls: 0,
    images: 0,
    layerInfo: () => [
      { name: 'a', stride: 2, channels: 2 },
      { name: 'b', stride: 4, channels: 3 },
    ],
    extract(images: Tensor4D, layers: string[]) {
      b.calls++;
      b.images += images.shape[0];
      return tf.tidy(() =>
        layers.map((l) => {
          if (l === 'a') return tf.avgPool(tf.slice(images, [0, 0, 0, 0], [-1, -1, -1, 2]), 2, 2, 'valid') as Tensor4D;
          if (l === 'b') return tf.div(tf.avgPool(images, 4, 4, 'valid'), 255) as Tensor4D;
          throw new UserError(`fake: no layer ${l}`);
        }),
      );
    },
    dispose() {},
  };
  return b;
}

const spec = { backbone: 'fake', layers: ['a', 'b'], size: 4, inputSize: SIDE };
let dir = '';
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uad-features-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const entries = (d: string): string[] =>
  fs.existsSync(d) ? fs.readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name)) : [];

describe('extractFeatures with the cache', () => {
  it('first run computes in batches, second run reads the cache only (no backbone calls), same values', async () => {
    const ds = memoryDataset(11);
    const bb = spyBackbone();
    const first = await extractFeatures(ds, ds.samples, spec, { cacheDir: dir, backbone: bb, batchSize: 4 });
    expect(first.features.shape).toEqual([11, 4, 4, 5]);
    expect(first.samples).toBe(ds.samples);
    expect(bb.calls).toBe(3); // 4 + 4 + 3
    expect(first.stats).toMatchObject({ hits: 0, misses: 11, writes: 11, backboneCalls: 3, backboneImages: 11 });
    expect(entries(dir)).toHaveLength(11);
    // features = neck(backbone(x)): equal to running backbone + neck directly
    const x = tf.tensor4d(await ds.loadImage(ds.samples[5], SIDE), [1, SIDE, SIDE, 3]);
    const direct = extractAligned(bb, x, spec.layers, 4);
    const row5 = tf.slice(first.features, [5], [1]);
    expect(tf.max(tf.abs(tf.sub(direct, row5))).dataSync()[0]).toBe(0);

    const second = await extractFeatures(ds, ds.samples, spec, { cacheDir: dir, backbone: bb, batchSize: 4 });
    expect(bb.calls).toBe(3 + 1); // only the direct call above
    expect(second.stats).toMatchObject({ hits: 11, misses: 0, writes: 0, backboneCalls: 0 });
    expect(Array.from(second.features.dataSync())).toEqual(Array.from(first.features.dataSync()));
    tf.dispose([x, direct, row5, first.features, second.features]);
  });

  it('a file-backed image already keyed in this process is not decoded again (until the file changes)', async () => {
    const file = path.join(dir, 'images.bin');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, 'x');
    const ds = memoryDataset(5);
    ds.samples.forEach((s, i) => (s.imagePath = `${file}#${i}`));
    const bb = spyBackbone();
    const cacheDir = path.join(dir, 'cache');
    const a = await extractFeatures(ds, ds.samples, spec, { cacheDir, backbone: bb });
    expect(ds.loads).toBe(5);
    const b = await extractFeatures(ds, ds.samples, spec, { cacheDir, backbone: bb });
    expect(ds.loads).toBe(5);
    expect(b.stats).toMatchObject({ hits: 5, backboneCalls: 0 });
    expect(Array.from(b.features.dataSync())).toEqual(Array.from(a.features.dataSync()));
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const c = await extractFeatures(ds, ds.samples, spec, { cacheDir, backbone: bb });
    expect(ds.loads).toBe(10);
    expect(c.stats).toMatchObject({ hits: 5, backboneCalls: 0 });
    tf.dispose([a.features, b.features, c.features]);
  });

  it('a subset and a re-ordering hit the same entries; new samples only run the backbone on the misses', async () => {
    const ds = memoryDataset(6);
    const bb = spyBackbone();
    const a = await extractFeatures(ds, ds.samples.slice(0, 4), spec, { cacheDir: dir, backbone: bb });
    const b = await extractFeatures(ds, [ds.samples[5], ds.samples[2], ds.samples[4], ds.samples[0]], spec, { cacheDir: dir, backbone: bb });
    expect(b.stats).toMatchObject({ hits: 2, misses: 2, backboneImages: 2 });
    expect(Array.from(tf.slice(b.features, [1], [1]).dataSync())).toEqual(Array.from(tf.slice(a.features, [2], [1]).dataSync()));
    tf.dispose([a.features, b.features]);
  });

  it('a corrupted, truncated or misplaced entry is detected, recomputed and rewritten', async () => {
    const ds = memoryDataset(5);
    const bb = spyBackbone();
    const first = await extractFeatures(ds, ds.samples, spec, { cacheDir: dir, backbone: bb });
    const files = entries(dir).sort();
    // flip one payload byte; truncate another; put a third entry's bytes under a fourth's name
    const f0 = fs.readFileSync(files[0]);
    f0[HEADER_BYTES + 17] ^= 0x40;
    fs.writeFileSync(files[0], f0);
    fs.truncateSync(files[1], HEADER_BYTES + 10);
    fs.copyFileSync(files[2], files[3]);
    const callsBefore = bb.images;
    const again = await extractFeatures(ds, ds.samples, spec, { cacheDir: dir, backbone: bb });
    expect(again.stats).toMatchObject({ hits: 2, corrupted: 3, misses: 3, writes: 3, backboneImages: 3 });
    expect(bb.images - callsBefore).toBe(3);
    expect(Array.from(again.features.dataSync())).toEqual(Array.from(first.features.dataSync()));
    // rewritten: a third run is all hits
    const third = await extractFeatures(ds, ds.samples, spec, { cacheDir: dir, backbone: bb });
    expect(third.stats).toMatchObject({ hits: 5, corrupted: 0, backboneCalls: 0 });
    tf.dispose([first.features, again.features, third.features]);
  });

  it('the key covers pixels, backbone, weights, layers, grid size, input size, dtype and oneDNN math mode bf16', () => {
    const px = Float32Array.from({ length: 12 }, (_, i) => i);
    const parts = { backbone: 'fake', weightsHash: 'w1', layers: ['a', 'b'], size: 4, inputSize: 16, dtype: 'float32' as const };
    const k = featureKey(px, parts);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(featureKey(Float32Array.from(px), parts)).toBe(k);
    const px2 = Float32Array.from(px);
    px2[11] += 1e-3;
    const variants = [
      featureKey(px2, parts),
      featureKey(px, { ...parts, backbone: 'other' }),
      featureKey(px, { ...parts, weightsHash: 'w2' }),
      featureKey(px, { ...parts, layers: ['b', 'a'] }),
      featureKey(px, { ...parts, layers: ['a'] }),
      featureKey(px, { ...parts, size: 7 }),
      featureKey(px, { ...parts, inputSize: 32 }),
      featureKey(px, { ...parts, dtype: 'float16' }),
      featureKey(px, parts, 'bf16'), // UNIFIED_AD_FPMATH=bf16 rounds the backbone's convolutions
    ];
    expect(featureKey(px, parts, 'fp32')).toBe(k); // float32 keys are what they were before the math mode existed
    expect(new Set([k, ...variants]).size).toBe(variants.length + 1);
  });

  it('float16 entries: half the bytes, values within half-precision rounding', async () => {
    const ds = memoryDataset(3);
    const f32 = await extractFeatures(ds, ds.samples, spec, { cacheDir: dir, backbone: spyBackbone() });
    const fresh = await extractFeatures(ds, ds.samples, spec, { cacheDir: path.join(dir, 'h'), backbone: spyBackbone(), dtype: 'float16' });
    const h = await extractFeatures(ds, ds.samples, spec, { cacheDir: path.join(dir, 'h'), backbone: spyBackbone(), dtype: 'float16' });
    expect(h.stats.hits).toBe(3);
    // fresh and cached float16 features are identical
    expect(Array.from(fresh.features.dataSync())).toEqual(Array.from(h.features.dataSync()));
    fresh.features.dispose();
    const a = f32.features.dataSync();
    const b = h.features.dataSync();
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(Math.abs(a[i]) * 2 ** -11 + 1e-7);
    const size = (p: string) => fs.statSync(p).size;
    expect(size(entries(path.join(dir, 'h'))[0]) - HEADER_BYTES).toBe((size(entries(dir)[0]) - HEADER_BYTES) / 2);
    tf.dispose([f32.features, h.features]);
  });

  it('half-precision conversion on known values (IEEE 754 binary16)', () => {
    const cases: [number, number][] = [[1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [0.1, 0x2e66], [1 / 3, 0x3555], [70000, 0x7c00], [0, 0]];
    for (const [v, h] of cases) expect(toFloat16(v)).toBe(h);
    expect(fromFloat16(0x3555)).toBeCloseTo(0.333251953125, 12);
    expect(fromFloat16(0x0001)).toBe(2 ** -24);
    expect(Number.isNaN(fromFloat16(toFloat16(NaN)))).toBe(true);
    // round half to even: 1 + 2^-11 lies between 1 and 1 + 2^-10 → 1
    expect(toFloat16(1 + 2 ** -11)).toBe(0x3c00);
    expect(toFloat16(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('entry codec rejects wrong keys, bad magic and length mismatches', () => {
    const map = { data: Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i / 3), height: 2, width: 2, channels: 3 };
    const key = 'ab'.repeat(32);
    const bytes = encodeEntry(key, map, 'float32');
    const ok = decodeEntry(bytes, key);
    expect(typeof ok).toBe('object');
    expect(Array.from((ok as { data: Float32Array }).data)).toEqual(Array.from(map.data));
    expect(decodeEntry(bytes, 'cd'.repeat(32))).toBe('key mismatch');
    expect(decodeEntry(bytes.subarray(0, 70), key)).toMatch(/length mismatch/);
    const bad = Uint8Array.from(bytes);
    bad[0] = 0;
    expect(decodeEntry(bad, key)).toBe('bad magic');
    const cache = new FeatureCache(dir);
    cache.put(key, map, 'float32');
    expect(cache.get(key)?.channels).toBe(3);
    expect(cache.get('ef'.repeat(32))).toBeNull();
  });

  it('bad input is a UserError; cache: false computes everything and writes nothing; no tensor leaks', async () => {
    const ds = memoryDataset(3);
    const bb = spyBackbone();
    await expect(extractFeatures(ds, ds.samples, { ...spec, layers: [] }, { backbone: bb })).rejects.toThrow(/layers/);
    await expect(extractFeatures(ds, ds.samples, { ...spec, backbone: 'mobilenet_v2' }, { backbone: bb })).rejects.toThrow(/given backbone is "fake"/);
    await expect(extractFeatures(ds, ds.samples, spec, { backbone: bb, batchSize: 0 })).rejects.toThrow(/batchSize/);
    const broken = { ...ds, loadImage: async () => new Float32Array(5) };
    await expect(extractFeatures(broken, ds.samples, spec, { cacheDir: dir, backbone: bb })).rejects.toThrow(/returned 5 values/);
    const before = tf.memory().numTensors;
    for (let r = 0; r < 3; r++) {
      const f = await extractFeatures(ds, ds.samples, spec, { cache: false, cacheDir: dir, backbone: bb });
      expect(f.stats.backboneImages).toBe(3);
      f.features.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(entries(dir)).toEqual([]);
    const empty = await extractFeatures(ds, [], spec, { cacheDir: dir, backbone: bb });
    expect(empty.features.shape[0]).toBe(0);
    empty.features.dispose();
  });
});

describe("extractFeatures with a user's tfjs model (backbone 'tfjs')", () => {
  it('builds it from backboneOptions.path with the spec layers; a second run is all hits', async () => {
    const input = tf.input({ shape: [SIDE, SIDE, 3] });
    const c1 = tf.layers.conv2d({ name: 's1', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(input);
    const c2 = tf.layers.conv2d({ name: 's2', filters: 5, kernelSize: 3, strides: 2, padding: 'same' }).apply(c1);
    const m = tf.model({ inputs: input, outputs: c2 as never });
    const modelDir = path.join(dir, 'model');
    await m.save(`file://${modelDir}`);
    m.dispose();
    const ds = memoryDataset(3);
    const tspec = { backbone: 'tfjs', layers: ['s1', 's2'], size: 4, inputSize: SIDE };
    const opts = { cacheDir: path.join(dir, 'cache'), backboneOptions: { path: modelDir, normalize: 'unit' as const } };
    const a = await extractFeatures(ds, ds.samples, tspec, opts);
    expect(a.features.shape).toEqual([3, 4, 4, 8]);
    expect(a.stats.backboneCalls).toBe(1);
    const b = await extractFeatures(ds, ds.samples, tspec, opts);
    expect(b.stats).toMatchObject({ hits: 3, backboneCalls: 0 });
    tf.dispose([a.features, b.features]);
  });
});

const weights = sharedPath('weights', 'mobilenet-v2-imagenet', 'tf2_mobilenet_v2_1.0_224_ptq.tflite');
if (!weights) console.log('note: ../shared/weights/mobilenet-v2-imagenet absent: real-backbone feature tests skipped');

describe.skipIf(!weights)('default spec with the real MobileNetV2 (../shared)', () => {
  it('[N, 14, 14, 152]; builds the backbone itself only when something misses', async () => {
    expect(DEFAULT_FEATURE_SPEC).toEqual({ backbone: 'mobilenet_v2', layers: ['expanded_conv_3/add', 'expanded_conv_6/add', 'expanded_conv_13/add'], size: 14, inputSize: 224 });
    expect(defaultFeatureSpec()).toEqual(DEFAULT_FEATURE_SPEC);
    const ds = memoryDataset(3, 11);
    const opts = { cacheDir: dir, backboneOptions: { path: weights! } };
    const a = await extractFeatures(ds, ds.samples, DEFAULT_FEATURE_SPEC, opts);
    expect(a.features.shape).toEqual([3, 14, 14, 152]);
    expect(a.stats.backboneCalls).toBe(1);
    const b = await extractFeatures(ds, ds.samples, DEFAULT_FEATURE_SPEC, opts);
    expect(b.stats).toMatchObject({ hits: 3, backboneCalls: 0 });
    const bb = await createBackbone({ id: 'mobilenet_v2', path: weights! });
    const x = tf.tensor4d(await ds.loadImage(ds.samples[1], 224), [1, 224, 224, 3]);
    const direct = extractAligned(bb, x, DEFAULT_FEATURE_SPEC.layers, 14);
    const row = tf.slice(b.features, [1], [1]);
    // the cached row is this image's features: equal to float precision (extracted in a batch of 3 there, of 1 here;
    // on some CPUs oneDNN's convolution sums depend on the batch, ~1e-5 on an AVX2 host), where another row is O(1) off
    expect(tf.max(tf.abs(tf.sub(direct, row))).dataSync()[0]).toBeLessThan(1e-4);
    const other = tf.slice(b.features, [0], [1]);
    expect(tf.max(tf.abs(tf.sub(direct, other))).dataSync()[0]).toBeGreaterThan(1e-2);
    other.dispose();
    tf.dispose([x, direct, row, a.features, b.features]);
    bb.dispose();
  });

  it('benchFeatures reports backbone ms/image and cache read MB/s', async () => {
    const r = await benchFeatures();
    expect(r.backbone_ms_per_image).toBeGreaterThan(0);
    expect(r.feature_cache_read_mb_s).toBeGreaterThan(0);
  });
});
