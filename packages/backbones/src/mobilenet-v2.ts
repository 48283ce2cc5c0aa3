// MobileNetV2 1.0 (ImageNet) from the TF-Hub TFLite file, run in float32 (see tflite-graph.ts).
// Input: RGB scaled to [-1, 1] (x/127.5 − 1). Layer names are the file's tensor names, shortened
// (shortTensorName): e.g. `expanded_conv_6/add` (28×28×32 at 224 input) or the block's expansion
// output `expanded_conv_6/expand/relu6` (28×28×192).
import * as fs from 'node:fs';
import type { Tensor2D, Tensor4D } from '@tensorflow/tfjs-node';
import { engineInfo, UserError, cacheDir } from '@unified-ad/core';
import { checkImages, normalizeInput } from './normalize';
import { parseTflite } from './tflite';
import { shortTensorName, TfliteGraph, type Executor } from './tflite-graph';
import type { Backbone, LayerInfo } from './types';
import { MOBILENET_V2_WEIGHTS, resolveWeights, type ResolvedWeights } from './weights';

/**
 * Default layers (strides 4, 8, 16; 24 + 32 + 96 = 152 channels): the last block output at each of
 * the three strides, chosen by the layer study in README.md (bottle, kNN and Gaussian scores).
 */
export const MOBILENET_V2_DEFAULT_LAYERS = ['expanded_conv_3/add', 'expanded_conv_6/add', 'expanded_conv_13/add'] as const;

/** Bump when the generated float graph changes, so stale cached graphs are not reused. */
const GRAPH_VERSION = 'v1';

export class MobileNetV2 implements Backbone {
  readonly id = 'mobilenet_v2';
  readonly inputSize: number;
  readonly defaultLayers: readonly string[] = MOBILENET_V2_DEFAULT_LAYERS;
  private readonly infos: LayerInfo[];

  constructor(
    private readonly graph: TfliteGraph,
    readonly weightsHash: string,
    readonly weightsPath: string,
  ) {
    const inT = graph.tensor(graph.inputIndex);
    this.inputSize = inT.shape[1] || 224;
    const inputCopy = new Set(graph.ops.filter((o) => o.kind === 'identity' && o.x === graph.inputIndex).map((o) => o.out));
    this.infos = graph
      .activations()
      .map((i) => graph.tensor(i))
      .filter((t) => t.shape.length === 4 && t.shape[1] > 1 && !inputCopy.has(t.index))
      .map((t) => ({ name: shortTensorName(t.name), stride: this.inputSize / t.shape[1], channels: t.shape[3] }));
  }

  /** Which executor runs the graph ('session': native TF graph; 'eager': tfjs ops). */
  get executor(): Executor {
    return this.graph.executor;
  }

  layerInfo(): LayerInfo[] {
    return this.infos.map((l) => ({ ...l }));
  }

  extract(images: Tensor4D, layers: string[]): Tensor4D[] {
    checkImages(images, this.id);
    if (layers.length === 0) throw new UserError(`${this.id}: no layers requested (e.g. ${this.defaultLayers.join(', ')})`);
    const targets = layers.map((n) => this.graph.resolve(n));
    for (const [k, t] of targets.entries()) {
      if (this.graph.tensor(t).shape.length !== 4) throw new UserError(`${this.id}: layer "${layers[k]}" is not a feature map (shape [${this.graph.tensor(t).shape.join(', ')}])`);
    }
    const x = normalizeInput(images, 'symmetric');
    try {
      return this.graph.run(x, targets) as Tensor4D[];
    } finally {
      x.dispose();
    }
  }

  /** ImageNet class probabilities [N, 1001] (index 0 = background). */
  classify(images: Tensor4D): Tensor2D {
    checkImages(images, this.id);
    const x = normalizeInput(images, 'symmetric');
    try {
      return this.graph.run(x, [this.graph.outputIndex])[0] as Tensor2D;
    } finally {
      x.dispose();
    }
  }

  dispose(): void {
    this.graph.dispose();
  }
}

export interface MobileNetV2Options {
  /** explicit .tflite path (else env UNIFIED_AD_MOBILENET_V2 → cache → ../shared → download) */
  path?: string;
  executor?: Executor;
  download?: boolean;
  /** expected sha256 of the explicit / env file (see ResolveOptions.sha256; null: no check) */
  sha256?: string | null;
}

/** Resolves the weights file (see weights.ts) without loading it. */
export function resolveMobileNetV2Weights(opts: MobileNetV2Options = {}): Promise<ResolvedWeights> {
  return resolveWeights(MOBILENET_V2_WEIGHTS, { path: opts.path, download: opts.download, sha256: opts.sha256 });
}

export async function loadMobileNetV2(opts: MobileNetV2Options = {}): Promise<MobileNetV2> {
  const w = await resolveMobileNetV2Weights(opts);
  const model = parseTflite(fs.readFileSync(w.path), w.path);
  let executor = opts.executor;
  if (!executor) executor = engineInfo.backend === 'tensorflow' ? 'session' : 'eager';
  const key = `${w.sha256.slice(0, 16)}-${GRAPH_VERSION}`;
  let graph: TfliteGraph;
  try {
    graph = new TfliteGraph(model, w.path, { executor, sessionDir: cacheDir('graphs'), key });
  } catch (e) {
    if (opts.executor === 'session' || !(e instanceof UserError) || executor !== 'session') throw e;
    // no writable cache or TF refused the graph: the op-by-op executor gives the same numbers
    process.stderr.write(`note: ${e.message}; using the eager executor\n`);
    graph = new TfliteGraph(model, w.path, { executor: 'eager' });
  }
  return new MobileNetV2(graph, w.sha256, w.path);
}
