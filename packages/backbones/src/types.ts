import type { Tensor4D } from '@tensorflow/tfjs-node';

/** One named feature map a backbone can return. */
export interface LayerInfo {
  /** name to pass to extract() */
  name: string;
  /** input pixels per feature cell (input side / map side) */
  stride: number;
  channels: number;
}

/** A frozen feature extractor. */
export interface Backbone {
  /** registry id: 'mobilenet_v2', 'mobilenet_v2_embedded', 'tfjs' */
  readonly id: string;
  /** input side in pixels the weights were trained at (224) */
  readonly inputSize: number;
  /** sha256 (hex) of the weights: part of every feature-cache key */
  readonly weightsHash: string;
  /** the layers the project uses when a spec names none (see the README for why) */
  readonly defaultLayers: readonly string[];
  /** every layer extract() accepts, shallow to deep, with stride and channels at `inputSize` */
  layerInfo(): LayerInfo[];
  /**
   * Feature maps of a batch. `images` is [N, H, W, 3] RGB with values 0..255 (the backbone does its
   * own normalisation); returns one [N, h, w, c] tensor per requested layer, in order (caller
   * disposes them). Runs the network only as deep as the deepest requested layer.
   */
  extract(images: Tensor4D, layers: string[]): Tensor4D[];
  dispose(): void;
}

/** How createBackbone() builds a backbone. */
export interface BackboneOptions {
  /** 'mobilenet_v2' (TFLite, ImageNet), 'mobilenet_v2_embedded' (nsfwjs, offline), 'tfjs' (your own model) */
  id: string;
  /** weights: the .tflite file (mobilenet_v2), or a tfjs model folder / model.json ('tfjs') */
  path?: string;
  /** 'tfjs': the output layers (LayersModel layer names or GraphModel node names) the model exposes */
  layers?: string[];
  /** network input side (default 224) */
  inputSize?: number;
  /** 'tfjs': input normalisation of 0..255 RGB (default 'none') */
  normalize?: InputNormalization;
  /** mobilenet_v2: 'session' (native TF graph, default on the native engine) or 'eager' (tfjs ops) */
  executor?: 'session' | 'eager';
  /** allow downloading weights (default true unless UNIFIED_AD_OFFLINE=1) */
  download?: boolean;
  /**
   * mobilenet_v2: expected sha256 of `path` / $UNIFIED_AD_MOBILENET_V2. Default: the known weights' hash when
   * the file name is the known one; null: no check (your own weights under that name); a hex string: that hash.
   */
  sha256?: string | null;
}

/**
 * Input normalisation from RGB 0..255: 'none' keeps 0..255 (Keras EfficientNet, which normalises
 * inside the model), 'unit' x/255, 'symmetric' x/127.5 − 1 (MobileNet, Inception), 'imagenet'
 * (x/255 − mean)/std with the ImageNet mean/std (torchvision models).
 */
export type InputNormalization = 'none' | 'unit' | 'symmetric' | 'imagenet';
