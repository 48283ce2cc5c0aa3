// @unified-ad/backbones: frozen feature extractors (registry: createBackbone({ id })) and UniAD's MFCN neck.
// the backbone contract and its registry
export type { Backbone, BackboneOptions, LayerInfo, InputNormalization } from './types';
export {
  registerBackbone,
  listBackbones,
  createBackbone,
  backboneWeightsHash,
  backboneDefaultLayers,
  extractAligned,
  type BackboneFactory,
} from './registry';
// UniAD's neck
export { mfcnNeck, neckChannels } from './neck';
// weight files: resolution order, sha256-checked download
export {
  MOBILENET_V2_WEIGHTS,
  resolveWeights,
  weightsCachePath,
  weightsUrl,
  downloadVerified,
  sha256File,
  type WeightsSpec,
  type WeightsSource,
  type ResolvedWeights,
  type ResolveOptions,
} from './weights';
// the backbones: TFLite MobileNetV2, the MobileNetV2 embedded in nsfwjs, your own tfjs model
export { loadMobileNetV2, resolveMobileNetV2Weights, MOBILENET_V2_DEFAULT_LAYERS, type MobileNetV2, type MobileNetV2Options } from './mobilenet-v2';
export {
  loadEmbeddedMobileNetV2,
  embeddedWeightsHash,
  EMBEDDED_DEFAULT_LAYERS,
  EMBEDDED_NORMALIZATION,
  LayersBackbone,
  type LayersBackboneOptions,
} from './embedded';
export { loadTfjsBackbone, listTfjsModelLayers, tfjsModelHash, GraphBackbone, type TfjsBackboneOptions } from './tfjs-model';
export { normalizeInput } from './normalize';
// building blocks (TFLite reader, float graph, Keras compilation, BMP reader)
export { readBmp, decodeBmp, type RgbImage } from './bmp';
export { parseTflite, type TfliteModel, type TfliteTensor, type TfliteOperator } from './tflite';
export { TfliteGraph, shortTensorName, dequantize, compileFloatOps } from './tflite-graph';
export { FloatGraph, type FloatOp, type ConstValue, type Activation, type Executor, type FloatGraphOptions } from './float-graph';
export { compileKeras, type CompiledKeras } from './keras-graph';
