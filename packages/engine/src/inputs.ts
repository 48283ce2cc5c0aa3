// The inputs a method declared, for a set of samples: backbone features through the feature cache, images
// decoded once at the method's size into a uint8 store (a quarter of float32 memory; a full MVTec AD training
// set at 256² is 0.7 GB).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, cacheDir, methodInputs, progress, quantizeInto, writeFileAtomic, type Dataset, type FeatureSpec, type ImageStore, type MethodInputs, type Sample } from '@unified-ad/core';
import { backboneDefaultLayers, createBackbone, type Backbone } from '@unified-ad/backbones';
import { extractFeatures } from '@unified-ad/datasets';
import type { RunConfig } from './run-config';

/** Inputs of many samples (rows aligned with the samples). */
export interface InputSet {
  features?: Tensor4D;
  images?: ImageStore;
}

/** The method's inputs with the run config's overrides (features.layers / features.size). */
export function resolveInputs(cfg: RunConfig): MethodInputs {
  const declared = methodInputs(cfg.model.name, cfg.model.config);
  const out: MethodInputs = {};
  if (declared.features) out.features = { ...declared.features, layers: cfg.features.layers ?? declared.features.layers, size: cfg.features.size ?? declared.features.size };
  if (declared.images) out.images = { ...declared.images };
  if (declared.backbone) out.backbone = true;
  return out;
}

/** The run's backbone options (its `backbone` section). */
export function runBackboneOptions(cfg: RunConfig): { id: string; path?: string; sha256?: string | null; inputSize: number } {
  return { id: cfg.backbone.id, path: cfg.backbone.path, sha256: cfg.backbone.sha256, inputSize: cfg.backbone.inputSize };
}

/** The frozen backbone a method runs itself (inputs.backbone), built once per run; null when it asks for none. */
export async function methodBackbone(cfg: RunConfig): Promise<Backbone | null> {
  return resolveInputs(cfg).backbone ? createBackbone(runBackboneOptions(cfg)) : null;
}

/** The backbone feature spec of a run, or null when its method reads no features. */
export async function resolveFeatureSpec(cfg: RunConfig): Promise<FeatureSpec | null> {
  const f = resolveInputs(cfg).features;
  if (!f) return null;
  let layers = f.layers;
  if (!layers || layers.length === 0) layers = [...backboneDefaultLayers({ id: cfg.backbone.id, path: cfg.backbone.path })];
  return { backbone: cfg.backbone.id, layers, size: f.size, inputSize: cfg.backbone.inputSize };
}

/**
 * Cache key of one decoded image: the file (path, size, mtime), the target size and the decoder version. A
 * changed file gets a new key; array-backed pseudo-paths ("file.bin#3") use the container file.
 */
function imageKey(sample: Sample, size: number): string | null {
  const file = sample.imagePath.replace(/#\d+$/, '');
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return null;
  }
  return crypto.createHash('sha256').update(JSON.stringify({ v: 1, f: path.resolve(file), p: sample.imagePath, s: st.size, m: st.mtimeMs, size })).digest('hex');
}

/**
 * Decodes the samples' images at `size` into one uint8 store, through an on-disk cache of decoded images
 * (`<cache>/images/<size>/<key>.u8`, written atomically): a second run at the same size decodes nothing.
 */
export async function loadImageStore(dataset: Dataset, samples: Sample[], size: number, label = 'images'): Promise<ImageStore> {
  const b = size * size * 3;
  const data = new Uint8Array(samples.length * b);
  const dir = cacheDir('images', String(size));
  const bar = progress(`${label} @${size}`, samples.length);
  try {
    for (let i = 0; i < samples.length; i++) {
      const dst = data.subarray(i * b, (i + 1) * b);
      const key = imageKey(samples[i]!, size);
      const file = key ? path.join(dir, `${key}.u8`) : null;
      let hit = false;
      if (file && fs.existsSync(file)) {
        const bytes = fs.readFileSync(file);
        if (bytes.length === b) {
          dst.set(bytes);
          hit = true;
        }
      }
      if (!hit) {
        quantizeInto(await dataset.loadImage(samples[i]!, size), dst);
        if (file) writeFileAtomic(file, dst);
      }
      bar.tick(1);
    }
  } finally {
    bar.stop();
  }
  return { size, data };
}

/** Loads what the method reads for `samples` (features: one batched backbone pass over cache misses). */
export async function loadInputs(cfg: RunConfig, dataset: Dataset, samples: Sample[], spec: FeatureSpec | null): Promise<InputSet> {
  const inputs = resolveInputs(cfg);
  const out: InputSet = {};
  if (spec) {
    const f = await extractFeatures(dataset, samples, spec, { batchSize: cfg.features.batchSize, backboneOptions: { path: cfg.backbone.path, sha256: cfg.backbone.sha256 } });
    out.features = f.features;
  }
  if (inputs.images) out.images = await loadImageStore(dataset, samples, inputs.images.size);
  return out;
}

/** Rows `idx` of an input set (new tensors; a view of the image store for a contiguous run of rows, else a copy). */
export function selectRows(set: InputSet, idx: number[]): InputSet {
  const out: InputSet = {};
  if (set.features) {
    const f = set.features;
    out.features = tf.tidy(() => tf.gather(f, tf.tensor1d(idx, 'int32')) as Tensor4D);
  }
  if (set.images) {
    const b = set.images.size * set.images.size * 3;
    // the store is read-only: a contiguous run of rows (the usual train / test split) is a view, not a copy
    const contiguous = idx.every((i, k) => i === idx[0]! + k);
    let data: Uint8Array;
    if (contiguous) data = set.images.data.subarray(idx.length ? idx[0]! * b : 0, idx.length ? (idx[0]! + idx.length) * b : 0);
    else {
      data = new Uint8Array(idx.length * b);
      idx.forEach((i, k) => data.set(set.images!.data.subarray(i * b, (i + 1) * b), k * b));
    }
    out.images = { size: set.images.size, data };
  }
  return out;
}

export function disposeInputs(set: InputSet): void {
  set.features?.dispose();
}
