// The offline fallback backbone: the Keras MobileNetV2 (1.0, 224) that the `nsfwjs` npm package ships
// in tfjs LayersModel format. It is ImageNet-initialised but fine-tuned by nsfwjs for another task and
// stored uint8-quantized, so its features are weaker than the TFLite ImageNet model's; it needs no
// download and no ../shared. The package wraps model.json and the weights shard in browserify
// bundles (dist/models/mobilenet_v2/*.min.js) whose module.exports are the model.json object and the
// base64 of the binary shard; we load them from memory with tf.io.fromMemory.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayersModel, Tensor, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, UserError, cacheDir } from '@unified-ad/core';
import { FloatGraph, type FloatGraphOptions } from './float-graph';
import { compileKeras } from './keras-graph';
import { checkImages, normalizeInput } from './normalize';
import type { Backbone, InputNormalization, LayerInfo } from './types';

/** Keras names of the block outputs at strides 4, 8, 16 (24 + 32 + 96 = 152 channels), like MobileNetV2's defaults. */
export const EMBEDDED_DEFAULT_LAYERS = ['block_2_add', 'block_5_add', 'block_12_add'] as const;

/** nsfwjs feeds this model x/255 (its core.js divides by 255), so its weights expect [0, 1]. */
export const EMBEDDED_NORMALIZATION: InputNormalization = 'unit';

interface Artifacts {
  modelTopology: object;
  weightSpecs: { name: string; shape: number[]; dtype: string }[];
  weightData: ArrayBuffer;
  sha256: string;
}

/** Folder of the bundled model inside the installed nsfwjs package. */
export function embeddedModelDir(): string {
  let main: string;
  try {
    main = require.resolve('nsfwjs');
  } catch {
    throw new UserError('mobilenet_v2_embedded: the npm package "nsfwjs" is not installed (npm install nsfwjs)');
  }
  // main is <pkg>/dist/cjs/index.js
  const dir = path.resolve(path.dirname(main), '..', 'models', 'mobilenet_v2');
  if (!fs.existsSync(path.join(dir, 'model.min.js'))) throw new UserError(`mobilenet_v2_embedded: ${dir}/model.min.js not found (unexpected nsfwjs layout)`);
  return dir;
}

/** Loads a browserify-wrapped module's export without keeping it in the require cache. */
function requireFresh(file: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file);
  } catch (e) {
    throw new UserError(`mobilenet_v2_embedded: cannot read ${file}: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    delete require.cache[require.resolve(file)];
  }
}

function readArtifacts(): Artifacts {
  const dir = embeddedModelDir();
  const jsonFile = path.join(dir, 'model.min.js');
  const json = requireFresh(jsonFile) as { modelTopology?: object; weightsManifest?: { paths: string[]; weights: Artifacts['weightSpecs'] }[] };
  if (!json?.modelTopology || !json.weightsManifest) throw new UserError(`mobilenet_v2_embedded: ${jsonFile} does not export a tfjs model.json`);
  const hash = crypto.createHash('sha256').update(fs.readFileSync(jsonFile));
  const shards: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const file = path.join(dir, `${p}.min.js`);
      const b64 = requireFresh(file);
      if (typeof b64 !== 'string') throw new UserError(`mobilenet_v2_embedded: ${file} does not export a base64 weights shard`);
      shards.push(Buffer.from(b64, 'base64'));
      hash.update(fs.readFileSync(file));
    }
  }
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  return { modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData, sha256: hash.digest('hex') };
}

let hashMemo: string | null = null;

/** sha256 of the bundled model files (cheap after the first call). */
export function embeddedWeightsHash(): string {
  if (hashMemo) return hashMemo;
  const dir = embeddedModelDir();
  const h = crypto.createHash('sha256');
  h.update(fs.readFileSync(path.join(dir, 'model.min.js')));
  for (const f of fs.readdirSync(dir).filter((f) => /^group\d+-shard\d+of\d+\.min\.js$/.test(f)).sort()) h.update(fs.readFileSync(path.join(dir, f)));
  hashMemo = h.digest('hex');
  return hashMemo;
}

export interface LayersBackboneOptions {
  id: string;
  /** the tfjs model (owned by the backbone from now on) */
  model: LayersModel;
  weightsHash: string;
  inputSize: number;
  defaultLayers: readonly string[];
  normalization: InputNormalization;
  /** layer names offered in layerInfo() (default: every layer with a 4-D output) */
  offered?: string[];
  /**
   * Compile the convolutional part to a FloatGraph (BN and ReLU folded into the convolutions) and run
   * it as a native TensorFlow session when possible (default: on, with the session in cacheDir('graphs')).
   * false: always run the tfjs LayersModel.
   */
  fast?: boolean | FloatGraphOptions;
}

/** A Keras LayersModel whose named intermediate layers are exposed as feature maps. */
export class LayersBackbone implements Backbone {
  readonly id: string;
  /** the underlying tfjs model (shared with the sub-models: do not dispose it yourself) */
  readonly model: LayersModel;
  readonly weightsHash: string;
  readonly inputSize: number;
  readonly defaultLayers: readonly string[];
  private readonly normalization: InputNormalization;
  private readonly subModels = new Map<string, LayersModel>();
  private readonly infos: LayerInfo[];
  private readonly fast: { graph: FloatGraph; ids: Map<string, number> } | null = null;

  constructor(o: LayersBackboneOptions) {
    this.id = o.id;
    this.model = o.model;
    this.weightsHash = o.weightsHash;
    this.inputSize = o.inputSize;
    this.defaultLayers = o.defaultLayers;
    this.normalization = o.normalization;
    const names = o.offered ?? this.model.layers.filter((l) => l.getClassName() !== 'InputLayer' && l.getClassName() !== 'ZeroPadding2D').map((l) => l.name);
    this.infos = [];
    for (const n of names) {
      const shape = this.layerShape(n);
      if (shape.length === 4 && shape[1]) this.infos.push({ name: n, stride: this.inputSize / shape[1], channels: shape[3] ?? 0 });
    }
    if (o.fast !== false) {
      const compiled = compileKeras(this.model);
      if (compiled) {
        const gopts: FloatGraphOptions = typeof o.fast === 'object' ? o.fast : { sessionDir: cacheDir('graphs'), key: `keras-${o.weightsHash.slice(0, 16)}-v1` };
        try {
          this.fast = { graph: new FloatGraph(compiled.ops, compiled.inputId, compiled.inputChannels, this.id, gopts), ids: compiled.ids };
        } catch {
          // no writable cache or TF refused the graph: the eager float graph gives the same numbers
          this.fast = { graph: new FloatGraph(compiled.ops, compiled.inputId, compiled.inputChannels, this.id, { executor: 'eager' }), ids: compiled.ids };
        }
      }
    }
  }

  /** How extract() would run these layers: 'session' / 'eager' (compiled float graph) or 'layers' (tfjs LayersModel). */
  pathFor(layers: string[]): 'session' | 'eager' | 'layers' {
    return this.fast && layers.every((n) => this.fast!.ids.has(n)) ? this.fast.graph.executor : 'layers';
  }

  private layerShape(name: string): (number | null)[] {
    let layer;
    try {
      layer = this.model.getLayer(name);
    } catch {
      throw new UserError(`${this.id}: no layer named "${name}" (see layerInfo() for the names)`);
    }
    const out = layer.output;
    if (Array.isArray(out)) throw new UserError(`${this.id}: layer "${name}" has several outputs`);
    return out.shape;
  }

  layerInfo(): LayerInfo[] {
    return this.infos.map((l) => ({ ...l }));
  }

  private subModel(layers: string[]): LayersModel {
    const key = layers.join('\n');
    let m = this.subModels.get(key);
    if (!m) {
      for (const n of layers) if (this.layerShape(n).length !== 4) throw new UserError(`${this.id}: layer "${n}" is not a feature map`);
      const outputs = layers.map((n) => this.model.getLayer(n).output);
      m = tf.model({ inputs: this.model.inputs, outputs: outputs as never });
      this.subModels.set(key, m);
    }
    return m;
  }

  extract(images: Tensor4D, layers: string[], path: 'auto' | 'layers' = 'auto'): Tensor4D[] {
    checkImages(images, this.id);
    if (layers.length === 0) throw new UserError(`${this.id}: no layers requested (e.g. ${this.defaultLayers.join(', ')})`);
    if (path === 'auto' && this.pathFor(layers) !== 'layers') {
      for (const n of layers) if (this.layerShape(n).length !== 4) throw new UserError(`${this.id}: layer "${n}" is not a feature map`);
      const x = normalizeInput(images, this.normalization);
      try {
        return this.fast!.graph.run(x, layers.map((n) => this.fast!.ids.get(n)!)) as Tensor4D[];
      } finally {
        x.dispose();
      }
    }
    const sub = this.subModel(layers);
    return tf.tidy(() => {
      const out = sub.predict(normalizeInput(images, this.normalization)) as Tensor | Tensor[];
      return (Array.isArray(out) ? out : [out]) as Tensor4D[];
    });
  }

  dispose(): void {
    // sub-models share the layers (and weights) of the model: dispose only the model
    this.subModels.clear();
    this.fast?.graph.dispose();
    this.model.dispose();
  }
}

/** Loads the embedded MobileNetV2 (about 1 s). */
export async function loadEmbeddedMobileNetV2(opts: { fast?: boolean | FloatGraphOptions } = {}): Promise<LayersBackbone> {
  const a = readArtifacts();
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs as never, weightData: a.weightData }));
  hashMemo = a.sha256;
  const size = (model.inputs[0].shape[1] as number) || 224;
  return new LayersBackbone({
    id: 'mobilenet_v2_embedded',
    model,
    weightsHash: a.sha256,
    inputSize: size,
    defaultLayers: EMBEDDED_DEFAULT_LAYERS,
    normalization: EMBEDDED_NORMALIZATION,
    fast: opts.fast,
  });
}
