// A user's own tfjs model as a backbone: a LayersModel or GraphModel folder (model.json + weight
// shards, as written by tensorflowjs_converter or model.save('file://...')), with named output layers.
// This is how the paper's EfficientNet-B4 can be used by configuration alone (README: "Your own
// backbone").
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GraphModel, Tensor, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, UserError } from '@unified-ad/core';
import { LayersBackbone } from './embedded';
import type { FloatGraphOptions } from './float-graph';
import { checkImages, normalizeInput } from './normalize';
import type { Backbone, InputNormalization, LayerInfo } from './types';

interface ModelJson {
  format?: string;
  modelTopology?: { model_config?: { config?: { layers?: { name: string }[] } }; config?: { layers?: { name: string }[] }; node?: { name: string; op: string }[] };
  weightsManifest?: { paths: string[] }[];
}

/** The model.json of a tfjs model folder (or the file itself). */
export function tfjsModelJsonPath(p: string): string {
  const abs = path.resolve(p);
  const file = fs.existsSync(abs) && fs.statSync(abs).isDirectory() ? path.join(abs, 'model.json') : abs;
  if (!fs.existsSync(file)) throw new UserError(`tfjs backbone: ${file} not found (give a tfjs model folder or its model.json)`);
  return file;
}

function readModelJson(file: string): ModelJson {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ModelJson;
  } catch (e) {
    throw new UserError(`tfjs backbone: ${file} is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

function kindOf(json: ModelJson, file: string): 'layers' | 'graph' {
  if (json.format === 'graph-model' || json.modelTopology?.node) return 'graph';
  if (json.format === 'layers-model' || json.modelTopology?.model_config || json.modelTopology?.config) return 'layers';
  throw new UserError(`tfjs backbone: ${file} is neither a tfjs layers-model nor a graph-model`);
}

/** Names that can be requested from a tfjs model (layer names, or graph node names), from its model.json. */
export function listTfjsModelLayers(p: string): { kind: 'layers' | 'graph'; names: string[] } {
  const file = tfjsModelJsonPath(p);
  const json = readModelJson(file);
  const kind = kindOf(json, file);
  const t = json.modelTopology!;
  const names = kind === 'graph' ? (t.node ?? []).filter((n) => n.op !== 'Const').map((n) => n.name) : (t.model_config?.config?.layers ?? t.config?.layers ?? []).map((l) => l.name);
  return { kind, names };
}

/** sha256 over model.json and its weight shards. */
export function tfjsModelHash(p: string): string {
  const file = tfjsModelJsonPath(p);
  const json = readModelJson(file);
  const h = crypto.createHash('sha256').update(fs.readFileSync(file));
  for (const g of json.weightsManifest ?? []) {
    for (const s of g.paths) {
      const shard = path.join(path.dirname(file), s);
      if (!fs.existsSync(shard)) throw new UserError(`tfjs backbone: weight shard ${shard} (listed in ${file}) not found`);
      h.update(fs.readFileSync(shard));
    }
  }
  return h.digest('hex');
}

/** A tfjs GraphModel whose named nodes are exposed as feature maps. */
export class GraphBackbone implements Backbone {
  readonly id = 'tfjs';
  private readonly infos: LayerInfo[];

  constructor(
    private readonly model: GraphModel,
    readonly weightsHash: string,
    readonly inputSize: number,
    readonly defaultLayers: readonly string[],
    private readonly normalization: InputNormalization,
  ) {
    // shapes from one dry run at the input size
    const outs = tf.tidy(() => this.run(tf.zeros([1, inputSize, inputSize, 3]) as Tensor4D, [...defaultLayers]).map((t) => t.shape));
    this.infos = defaultLayers.map((name, i) => {
      const s = outs[i];
      if (s.length !== 4) throw new UserError(`tfjs backbone: node "${name}" is not a feature map (shape [${s.join(', ')}])`);
      return { name, stride: inputSize / s[1], channels: s[3] };
    });
  }

  private run(images: Tensor4D, layers: string[]): Tensor4D[] {
    return tf.tidy(() => {
      let out: Tensor | Tensor[];
      try {
        out = this.model.execute(normalizeInput(images, this.normalization), layers);
      } catch (e) {
        throw new UserError(`tfjs backbone: cannot compute [${layers.join(', ')}]: ${(e as Error).message.split('\n')[0]}`);
      }
      return (Array.isArray(out) ? out : [out]) as Tensor4D[];
    });
  }

  layerInfo(): LayerInfo[] {
    return this.infos.map((l) => ({ ...l }));
  }

  extract(images: Tensor4D, layers: string[]): Tensor4D[] {
    checkImages(images, this.id);
    if (layers.length === 0) throw new UserError(`tfjs backbone: no layers requested (e.g. ${this.defaultLayers.join(', ')})`);
    return this.run(images, layers);
  }

  dispose(): void {
    this.model.dispose();
  }
}

export interface TfjsBackboneOptions {
  /** model folder or model.json */
  path: string;
  /** output layers (LayersModel layer names or GraphModel node names), shallow to deep */
  layers: string[];
  /** input normalisation of RGB 0..255 (default 'none') */
  normalize?: InputNormalization;
  /** input side (default: the model's input shape, else 224) */
  inputSize?: number;
  /** LayersModel: compile its convolutional part to a native TF graph (default on; see LayersBackboneOptions.fast) */
  fast?: boolean | FloatGraphOptions;
}

export async function loadTfjsBackbone(opts: TfjsBackboneOptions): Promise<Backbone> {
  if (!opts.path) throw new UserError("tfjs backbone: 'path' (a tfjs model folder or model.json) is required");
  if (!opts.layers?.length) throw new UserError(`tfjs backbone: 'layers' (output layer names of ${opts.path}) is required`);
  const file = tfjsModelJsonPath(opts.path);
  const kind = kindOf(readModelJson(file), file);
  const hash = tfjsModelHash(file);
  const url = `file://${file}`;
  const normalize = opts.normalize ?? 'none';
  try {
    if (kind === 'layers') {
      const model = await tf.loadLayersModel(url);
      const size = opts.inputSize ?? ((model.inputs[0].shape[1] as number | null) || 224);
      return new LayersBackbone({ id: 'tfjs', model, weightsHash: hash, inputSize: size, defaultLayers: opts.layers, normalization: normalize, offered: opts.layers, fast: opts.fast });
    }
    const model = await tf.loadGraphModel(url);
    const shape = model.inputs[0]?.shape;
    const size = opts.inputSize ?? ((shape && shape[1] > 0 ? shape[1] : 0) || 224);
    return new GraphBackbone(model, hash, size, opts.layers, normalize);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`tfjs backbone: cannot load ${file}: ${(e as Error).message.split('\n')[0]}`);
  }
}
