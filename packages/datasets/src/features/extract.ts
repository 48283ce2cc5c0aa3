// extractFeatures: backbone + UniAD neck features of dataset samples, through the on-disk cache.
// Each image is loaded at spec.inputSize, hashed, and looked up; only the misses run through the
// backbone (batched), and their features are written back. A second run does no backbone work.
import * as fs from 'node:fs';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import {
  cacheDir as defaultCacheDir,
  progress,
  tf,
  UserError,
  type Dataset,
  type FeatureSet,
  type FeatureSpec,
  type Sample,
} from '@unified-ad/core';
import {
  backboneDefaultLayers,
  backboneWeightsHash,
  createBackbone,
  extractAligned,
  MOBILENET_V2_DEFAULT_LAYERS,
  type Backbone,
  type BackboneOptions,
} from '@unified-ad/backbones';
import { FeatureCache, featureKey, type CacheDtype, type CacheStats } from './cache';
import { decodeFloat16, encodeFloat16 } from './float16';

/** UniAD's grid (14×14 at a 224 input, i.e. stride 16) with the default MobileNetV2 layers: C = 24 + 32 + 96 = 152. */
export const DEFAULT_FEATURE_SPEC: Readonly<FeatureSpec> = Object.freeze({
  backbone: 'mobilenet_v2',
  layers: [...MOBILENET_V2_DEFAULT_LAYERS],
  size: 14,
  inputSize: 224,
});

/** A FeatureSpec with the backbone's default layers (and 14 / 224 unless given). */
export function defaultFeatureSpec(backbone = 'mobilenet_v2', over: Partial<Omit<FeatureSpec, 'backbone'>> = {}, backboneOptions: Omit<BackboneOptions, 'id'> = {}): FeatureSpec {
  return {
    backbone,
    layers: over.layers ?? [...backboneDefaultLayers({ id: backbone, ...backboneOptions })],
    size: over.size ?? 14,
    inputSize: over.inputSize ?? 224,
  };
}

export interface ExtractOptions {
  /** cache folder (default: core cacheDir('features'), i.e. $UNIFIED_AD_CACHE/features) */
  cacheDir?: string;
  /** false: no cache reads or writes */
  cache?: boolean;
  /** images per backbone call (default 8) */
  batchSize?: number;
  /** a backbone to use (the caller keeps ownership); else one is built from spec.backbone on the first miss and disposed at the end */
  backbone?: Backbone;
  /** options for building spec.backbone (weights path, tfjs model layers/normalisation, executor) */
  backboneOptions?: Omit<BackboneOptions, 'id'>;
  /** storage precision of cache entries (default 'float32': cached and fresh features are identical) */
  dtype?: CacheDtype;
  /** progress label (default "features <dataset>") */
  label?: string;
}

/** FeatureSet plus what the cache did. */
export interface ExtractedFeatures extends FeatureSet {
  stats: CacheStats & { backboneCalls: number; backboneImages: number };
}

/** cache keys of images already decoded in this process: (file, size, mtime, key parts) → content key */
const KEY_MEMO = new Map<string, string>();

function memoKey(s: Sample, partsJson: string): string | null {
  const file = s.imagePath.split('#')[0];
  try {
    const st = fs.statSync(file);
    return `${s.imagePath}|${st.size}|${st.mtimeMs}|${partsJson}`;
  } catch {
    return null;
  }
}

function checkSpec(spec: FeatureSpec): void {
  if (!spec.backbone) throw new UserError('feature spec: backbone is empty');
  if (!Array.isArray(spec.layers) || spec.layers.length === 0) throw new UserError(`feature spec: layers must be a non-empty list (backbone ${spec.backbone})`);
  if (!Number.isInteger(spec.size) || spec.size < 1) throw new UserError(`feature spec: size must be a positive integer, got ${spec.size}`);
  if (!Number.isInteger(spec.inputSize) || spec.inputSize < 8) throw new UserError(`feature spec: inputSize must be an integer ≥ 8, got ${spec.inputSize}`);
}

/**
 * Features [N, size, size, C] of `samples` (in order), from the cache when present. C is the sum of
 * the layers' channels. The returned tensor belongs to the caller.
 */
export async function extractFeatures(dataset: Dataset, samples: Sample[], spec: FeatureSpec, opts: ExtractOptions = {}): Promise<ExtractedFeatures> {
  checkSpec(spec);
  const batchSize = opts.batchSize ?? 8;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UserError(`extractFeatures: batchSize must be a positive integer, got ${batchSize}`);
  if (opts.backbone && opts.backbone.id !== spec.backbone) throw new UserError(`extractFeatures: the given backbone is "${opts.backbone.id}" but the spec asks for "${spec.backbone}"`);
  const dtype = opts.dtype ?? 'float32';
  const useCache = opts.cache ?? true;
  const cache = new FeatureCache(opts.cacheDir ?? defaultCacheDir('features'));
  // a 'tfjs' model exposes the spec's layers unless told otherwise
  const bbOpts: BackboneOptions = { id: spec.backbone, layers: spec.layers, ...opts.backboneOptions };
  const weightsHash = opts.backbone?.weightsHash ?? (await backboneWeightsHash(bbOpts));
  const keyParts = { backbone: spec.backbone, weightsHash, layers: spec.layers, size: spec.size, inputSize: spec.inputSize, dtype };
  const cell = spec.size * spec.size;

  let backbone: Backbone | null = opts.backbone ?? null;
  const ownBackbone = !opts.backbone;
  let out: Float32Array | null = null;
  let channels = 0;
  let backboneCalls = 0;
  let backboneImages = 0;
  const n = samples.length;
  const slot = (i: number) => out!.subarray(i * cell * channels, (i + 1) * cell * channels);
  const ensureOut = (c: number) => {
    if (!out) {
      channels = c;
      out = new Float32Array(n * cell * c);
    } else if (c !== channels) {
      throw new UserError(`extractFeatures: features of ${spec.backbone} [${spec.layers.join(', ')}] have ${c} channels, earlier ones ${channels}`);
    }
  };

  const bar = progress(opts.label ?? `features ${dataset.name}`, n);
  let pending: { index: number; pixels: Float32Array; key: string }[] = [];
  const flush = async () => {
    if (!pending.length) return;
    backbone ??= await createBackbone(bbOpts);
    const batch = pending;
    pending = [];
    const side = spec.inputSize;
    const pix = new Float32Array(batch.length * side * side * 3);
    batch.forEach((p, k) => pix.set(p.pixels, k * side * side * 3));
    const feats = tf.tidy(() => extractAligned(backbone!, tf.tensor4d(pix, [batch.length, side, side, 3]), spec.layers, spec.size)) as Tensor4D;
    backboneCalls++;
    backboneImages += batch.length;
    const values = feats.dataSync() as Float32Array;
    const c = feats.shape[3];
    feats.dispose();
    ensureOut(c);
    batch.forEach((p, k) => {
      let data = values.subarray(k * cell * c, (k + 1) * cell * c);
      // with float16 entries, fresh features get the same rounding as cached ones
      if (dtype === 'float16') data = decodeFloat16(encodeFloat16(data));
      slot(p.index).set(data);
      if (useCache) cache.put(p.key, { data: data.slice(), height: spec.size, width: spec.size, channels: c }, dtype);
    });
    bar.tick(batch.length, { hits: cache.stats.hits, computed: backboneImages });
  };

  try {
    /** copies a cached entry into row `index`; false on a miss */
    const readCached = (key: string, index: number): boolean => {
      const hit = out ? cache.get(key, slot(index)) : cache.get(key);
      if (!hit) return false;
      if (!out) {
        ensureOut(hit.channels);
        slot(index).set(hit.data);
      }
      bar.tick(1);
      return true;
    };
    const partsJson = JSON.stringify(keyParts);
    for (let i = 0; i < n; i += batchSize) {
      const chunk = samples.slice(i, i + batchSize);
      // a cache key known from an earlier call in this process (same file, same mtime) spares the decode
      const memo = chunk.map((s) => memoKey(s, partsJson));
      const known = memo.map((m) => (m && useCache ? KEY_MEMO.get(m) : undefined));
      const need: number[] = [];
      for (const [k, key] of known.entries()) {
        const index = i + k;
        if (key && readCached(key, index)) continue;
        need.push(k);
      }
      const images = await Promise.all(need.map((k) => dataset.loadImage(chunk[k], spec.inputSize)));
      for (const [j, pixels] of images.entries()) {
        const k = need[j];
        const index = i + k;
        if (pixels.length !== spec.inputSize * spec.inputSize * 3) {
          throw new UserError(`${chunk[k].imagePath}: dataset ${dataset.name} returned ${pixels.length} values for a ${spec.inputSize}×${spec.inputSize}×3 image`);
        }
        const key = featureKey(pixels, keyParts);
        if (memo[k]) KEY_MEMO.set(memo[k]!, key);
        if (useCache && readCached(key, index)) continue;
        pending.push({ index, pixels, key });
        if (pending.length >= batchSize) await flush();
      }
    }
    await flush();
  } finally {
    bar.stop();
    if (ownBackbone && backbone) backbone.dispose();
  }
  if (cache.problems.length) process.stderr.write(`feature cache: recomputed ${cache.problems.length} invalid entr${cache.problems.length === 1 ? 'y' : 'ies'} (${cache.problems[0]})\n`);
  const features = tf.tensor4d(out ?? new Float32Array(0), [n, spec.size, spec.size, channels]);
  return { samples, features, stats: { ...cache.stats, backboneCalls, backboneImages } };
}
