// The method contract (v2): one interface for every anomaly-detection method, whatever it reads.
//
// A method declares its inputs (backbone features and/or raw images); the engine feeds it batches of those,
// calls `fit(data, ctx)` once per model (unified: once; separate: once per class), then `predict(batch)` on
// the test images, and saves `state()` in the run folder so that `loadState()` restores the fitted model
// without refitting. Gradient methods call `fitGradient` (trainer.ts) from their `fit`; statistical methods
// compute their statistics from `data.all()`; hybrid methods (CutPaste's density after training) do both.
import type { Scalar, Tensor1D, Tensor3D, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import type { Rng } from './rng';
import type { Sample } from './types';
import type { Checkpoint, CheckpointTensor } from './checkpoint';
import type { EpochRecord, TrainConfig } from './trainer';
import { UserError } from './errors';
import { tf } from './engine';

/** What a method reads. At least one of the two. */
export interface MethodInputs {
  /** frozen-backbone features: layers (empty = the backbone's default set) resized to a size×size grid and concatenated */
  features?: { layers: string[]; size: number; backbone?: string };
  /** RGB images resized to size×size, values 0..255 (HWC float32 in batches, uint8 in storage) */
  images?: { size: number };
  /**
   * the method runs the run's frozen backbone itself (on images it augments, inside its steps): the engine builds
   * it from the run's `backbone` section and passes it as `ModelContext.backbone`; its weights enter the fingerprint
   */
  backbone?: boolean;
}

/** One batch handed to a method: the samples and the inputs it declared (rows aligned with `samples`). */
export interface Batch {
  samples: Sample[];
  /** [N, H, W, C] backbone features */
  features?: Tensor4D;
  /** [N, S, S, 3] float32 images, values 0..255 */
  images?: Tensor4D;
}

/** The training data of one model. Tensors it returns belong to the caller (create them inside tf.tidy). */
export interface FitData {
  readonly samples: readonly Sample[];
  /** the rows `idx` as a batch */
  batch(idx: number[]): Batch;
  /** every row at once (statistical fits) */
  all(): Batch;
  /** image `i` as stored (uint8 HWC at the declared size), for augmentation on the host; only with image inputs */
  image(i: number): Uint8Array;
}

/** What `fit` is given besides the data. */
export interface FitContext {
  /** the run's training config (epochs, batch, optimizer, schedule, evaluation cadence, …) */
  train: TrainConfig;
  /** fresh generator from the run's seed (the model's initialisation used its own one from the same seed) */
  seed: number;
  /** run folder of this model (checkpoints/, metrics.jsonl, tb/); absent = keep nothing on disk */
  outDir?: string;
  /** continue from outDir/checkpoints/last.ckpt */
  resume?: boolean;
  /** label for progress output, e.g. "uniad/all" */
  label: string;
  /** evaluates the model on the test set as it is now (periodic evaluation during training) */
  evaluate?: (epoch: number) => Promise<Record<string, unknown>>;
  /** called after each epoch with its log record */
  onEpoch?: (record: EpochRecord) => void;
  log: (line: string) => void;
  /** stop after this many epochs in this call (resume tests); the schedule still follows train.epochs */
  stopAfterEpoch?: number;
}

/** What `fit` reports back (gradient methods: their training history; statistical ones: empty history). */
export interface FitReport {
  history: EpochRecord[];
  best: { epoch: number; value: number } | null;
  /** true when Ctrl-C stopped training (the last finished epoch is checkpointed) */
  interrupted: boolean;
  lastEpoch: number;
}

/** What every method returns at test time. At least one of the two. */
export interface MethodPrediction {
  /** [N, h, w] anomaly maps at the method's native resolution (higher = more anomalous) */
  maps?: Tensor3D;
  /** [N] image scores when the method defines its own (image-only methods, PatchCore's re-weighting) */
  scores?: Tensor1D;
}

/** A fitted method's state: the same format as a training checkpoint (tensors + JSON metadata). */
export type MethodState = Checkpoint;

export interface Method {
  fit(data: FitData, ctx: FitContext): Promise<FitReport>;
  /** eval mode; the returned tensors belong to the caller */
  predict(batch: Batch): MethodPrediction;
  state(): MethodState;
  loadState(state: MethodState, source: string): void;
  /**
   * For methods whose fitted state is more than the trained network (a density, memory banks or score statistics
   * computed after training): load the network of a training checkpoint (checkpoints/best.ckpt, last.ckpt) and
   * recompute those parts from `data`, the model's training data (fit has run on this instance). The engine calls it
   * when train.select=synthetic picks a checkpoint; without it, it loads the checkpoint with loadState.
   */
  loadTrainingCheckpoint?(checkpoint: Checkpoint, source: string, data: FitData): Promise<void>;
  /** learned weights or stored statistics (scalars) */
  parameterCount(): number;
  dispose(): void;
}

/** A gradient-trained network: what `fitGradient` needs of it. */
export interface Trainable {
  /** named trainable variables (stable names: checkpoint keys) */
  namedVariables(): Map<string, Variable>;
  /** non-trainable state saved with the weights (BatchNorm running statistics) */
  namedBuffers?(): Map<string, Variable>;
}

export const emptyReport = (): FitReport => ({ history: [], best: null, interrupted: false, lastEpoch: 0 });

/** state() of a set of named variables: tensors `model/<name>` (and `buffer/<name>`). */
export function variablesState(vars: Map<string, Variable>, buffers?: Map<string, Variable>, meta: Record<string, unknown> = {}): MethodState {
  const tensors: CheckpointTensor[] = [];
  for (const [name, v] of vars) tensors.push({ name: `model/${name}`, shape: v.shape, data: v.dataSync() as Float32Array });
  for (const [name, v] of buffers ?? new Map<string, Variable>()) tensors.push({ name: `buffer/${name}`, shape: v.shape, data: v.dataSync() as Float32Array });
  return { meta, tensors };
}

/** Assigns `model/<name>` (and `buffer/<name>`) tensors of a state or checkpoint; errors name the source. */
export function loadVariablesState(state: MethodState, source: string, vars: Map<string, Variable>, buffers?: Map<string, Variable>): void {
  const byName = new Map(state.tensors.map((t) => [t.name, t]));
  const put = (prefix: string, m: Map<string, Variable>) => {
    for (const [name, v] of m) {
      const t = byName.get(`${prefix}/${name}`);
      if (!t) throw new UserError(`${source}: has no tensor '${prefix}/${name}' (was it made by another method or config?)`);
      if (t.shape.join('x') !== v.shape.join('x')) throw new UserError(`${source}: '${name}' has shape [${t.shape}] there but [${v.shape}] in the model`);
      tf.tidy(() => v.assign(tf.tensor(t.data, v.shape)));
    }
  };
  put('model', vars);
  if (buffers) put('buffer', buffers);
}

/** A loss over batches, for `fitGradient`. */
export type BatchLoss = (batch: Batch, rng: Rng) => Scalar;
