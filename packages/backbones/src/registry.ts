// Backbone registry: createBackbone({ id, ... }) and a cheap weights fingerprint for cache keys.
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, UserError } from '@unified-ad/core';
import { EMBEDDED_DEFAULT_LAYERS, embeddedWeightsHash, loadEmbeddedMobileNetV2 } from './embedded';
import { loadMobileNetV2, MOBILENET_V2_DEFAULT_LAYERS, resolveMobileNetV2Weights } from './mobilenet-v2';
import { mfcnNeck } from './neck';
import { loadTfjsBackbone, tfjsModelHash } from './tfjs-model';
import type { Backbone, BackboneOptions } from './types';

export interface BackboneFactory {
  create(opts: BackboneOptions): Promise<Backbone>;
  /** sha256 of the weights, without building the network (may resolve/download the weights file) */
  weightsHash(opts: BackboneOptions): Promise<string>;
  /** default layers, without building the network */
  defaultLayers(opts: BackboneOptions): readonly string[];
}

const factories = new Map<string, BackboneFactory>();

/** Adds a backbone id (throws on a duplicate id). */
export function registerBackbone(id: string, factory: BackboneFactory): void {
  if (factories.has(id)) throw new Error(`backbone "${id}" is already registered`);
  factories.set(id, factory);
}

export function listBackbones(): string[] {
  return [...factories.keys()];
}

function factory(id: string): BackboneFactory {
  const f = factories.get(id);
  if (!f) throw new UserError(`backbone: unknown id "${id}" (known: ${listBackbones().join(', ')})`);
  return f;
}

/** Builds a backbone: `createBackbone({ id: 'mobilenet_v2' })`. */
export async function createBackbone(opts: BackboneOptions): Promise<Backbone> {
  return factory(opts.id).create(opts);
}

/** The weights hash createBackbone(opts) would report, without building the network. */
export async function backboneWeightsHash(opts: BackboneOptions): Promise<string> {
  return factory(opts.id).weightsHash(opts);
}

/** Default layers of a backbone id, without building the network. */
export function backboneDefaultLayers(opts: BackboneOptions): readonly string[] {
  return factory(opts.id).defaultLayers(opts);
}

/**
 * Backbone + neck on one batch: [N, H, W, 3] RGB 0..255 → [N, size, size, Σc] (the maps are resized
 * to size×size with align-corners bilinear and concatenated, UniAD's MFCN neck).
 */
export function extractAligned(backbone: Backbone, images: Tensor4D, layers: string[], size: number): Tensor4D {
  return tf.tidy(() => mfcnNeck(backbone.extract(images, layers), size));
}

registerBackbone('mobilenet_v2', {
  create: (o) => loadMobileNetV2({ path: o.path, executor: o.executor, download: o.download, sha256: o.sha256 }),
  weightsHash: async (o) => (await resolveMobileNetV2Weights({ path: o.path, download: o.download, sha256: o.sha256 })).sha256,
  defaultLayers: () => MOBILENET_V2_DEFAULT_LAYERS,
});

registerBackbone('mobilenet_v2_embedded', {
  create: () => loadEmbeddedMobileNetV2(),
  weightsHash: async () => embeddedWeightsHash(),
  defaultLayers: () => EMBEDDED_DEFAULT_LAYERS,
});

registerBackbone('tfjs', {
  create: (o) => loadTfjsBackbone({ path: o.path ?? '', layers: o.layers ?? [], normalize: o.normalize, inputSize: o.inputSize }),
  weightsHash: async (o) => {
    if (!o.path) throw new UserError("tfjs backbone: 'path' (a tfjs model folder or model.json) is required");
    return tfjsModelHash(o.path);
  },
  defaultLayers: (o) => {
    if (!o.layers?.length) throw new UserError("tfjs backbone: 'layers' (its output layer names) is required");
    return o.layers;
  },
});
