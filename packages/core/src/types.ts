// Types that explain the data flowing through the framework.
import type { Tensor3D, Tensor4D, Tensor1D, Variable, Scalar } from '@tensorflow/tfjs-node';
import type { Rng } from './rng';

export type Split = 'train' | 'test';

/** One image of a dataset. label: 0 normal, 1 anomalous. */
export interface Sample {
  /** stable id, unique within a dataset, e.g. "bottle/test/broken_large/000" */
  id: string;
  /** the object / texture class ("bottle", "magnetic_tile", "3" for CIFAR...) */
  className: string;
  split: Split;
  label: 0 | 1;
  /** "good" for normal images, else the defect type folder name */
  defectType: string;
  /** image file, or a pseudo-path "file.bin#index" for array-backed datasets */
  imagePath: string;
  /** ground-truth mask file (absent: all-normal, or no pixel labels in this dataset) */
  maskPath?: string;
}

/** A single-channel map in row-major order (an anomaly map, or a mask with values 0/1). */
export interface AnomalyMap {
  data: Float32Array;
  height: number;
  width: number;
}

/** Backbone features of one image: row-major HWC float32. */
export interface FeatureMap {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** Which backbone maps a method consumes, and at which spatial size they are resized and concatenated. */
export interface FeatureSpec {
  /** backbone id, e.g. "mobilenet_v2" */
  backbone: string;
  /** backbone layer names, in concatenation order */
  layers: string[];
  /** side of the square grid every layer is resized to (14 for UniAD's neck) */
  size: number;
  /** network input size in pixels (224 default) */
  inputSize: number;
}

/** Features of many samples, stacked. `features` is [N, H, W, C]. */
export interface FeatureSet {
  samples: Sample[];
  features: Tensor4D;
}

/** What every method returns at test time, in one common type. */
export interface Prediction {
  /** [N, h, w] anomaly maps at the method's native resolution (higher = more anomalous) */
  maps: Tensor3D;
  /** [N] image scores when the method defines its own (PatchCore's re-weighting); else derived by eval */
  scores?: Tensor1D;
}

/** A method that learns by gradient descent: a feature reconstructor (UniAD, MLP, CNN, Transformer). */
export interface Reconstructor {
  kind: 'trainable';
  /** named trainable variables (names are stable: used as checkpoint keys) */
  namedVariables(): Map<string, Variable>;
  /** mean training loss on a batch of features [N, H, W, C]; training-mode (jitter, dropout) randomness from rng */
  loss(batch: Tensor4D, rng: Rng): Scalar;
  /** eval-mode anomaly maps [N, H, W] for a batch of features */
  predict(batch: Tensor4D): Prediction;
  /** number of scalar parameters */
  parameterCount(): number;
  dispose(): void;
}

/** A method that fits statistics of normal features (PaDiM, PatchCore). */
export interface StatisticalModel {
  kind: 'statistical';
  fit(train: FeatureSet, rng: Rng): Promise<void> | void;
  predict(batch: Tensor4D): Prediction;
  /** serialisable state (for saving a fitted model) */
  state(): Record<string, Float32Array | number[] | number | string>;
  parameterCount(): number;
  dispose(): void;
}

export type AnomalyModel = Reconstructor | StatisticalModel;

/** Context handed to a model factory. */
export interface ModelContext {
  /** channels of the feature map the model will see (0: the method reads no features) */
  inChannels: number;
  /** spatial size of the feature grid (H = W; 0: no features) */
  gridSize: number;
  /** side of the images the model will see (0 or absent: the method reads no images) */
  imageSize?: number;
  /** initialisation randomness (seeded from the run's seed) */
  rng: Rng;
  /** the run's frozen backbone, given when the method's inputs ask for it (`inputs.backbone`) */
  backbone?: FrozenBackbone;
}

/**
 * A frozen feature extractor that a method runs itself, inside its steps, on images it makes (e.g. FCDD's
 * confetti anomalies, whose features no cache can hold). Structurally the `Backbone` of @unified-ad/backbones.
 */
export interface FrozenBackbone {
  readonly id: string;
  /** sha256 of the weights */
  readonly weightsHash: string;
  /** every layer extract() accepts, shallow to deep, with its stride and channels */
  layerInfo(): { name: string; stride: number; channels: number }[];
  /** [N, H, W, 3] RGB 0..255 → one [N, h, w, c] tensor per layer (caller disposes them) */
  extract(images: Tensor4D, layers: string[]): Tensor4D[];
}

/** A loaded dataset: its samples and how to read their pixels. Implemented by @unified-ad/datasets. */
export interface Dataset {
  /** e.g. "mvtec-ad", "magnetic-tile", "synthetic", "manifest:my.csv" */
  name: string;
  samples: Sample[];
  /** class names in a stable order */
  classes: string[];
  /** RGB image resized bilinearly to size×size: HWC float32 with values in [0, 255] */
  loadImage(sample: Sample, size: number): Promise<Float32Array>;
  /** binary mask (0/1) resized nearest-neighbour to size×size; all zeros for normal samples */
  loadMask(sample: Sample, size: number): Promise<Float32Array>;
}
