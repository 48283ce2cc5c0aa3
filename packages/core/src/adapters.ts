// Two ready-made Method implementations for the common shapes of a method, so that such a method is only its
// network or its statistics:
//  - featureReconstructorMethod: a network trained by fitGradient on backbone features (UniAD, MLP, CNN,
//    Transformer); the state is its weights (and buffers).
//  - statisticalMethod: statistics fitted once on all training features (PaDiM, PatchCore); the state is
//    what the model's state() returns.
import type { Tensor4D } from '@tensorflow/tfjs-node';
import type { Batch, FitContext, FitData, FitReport, Method, MethodPrediction, MethodState, Trainable } from './method';
import { emptyReport, loadVariablesState, variablesState } from './method';
import type { Reconstructor, StatisticalModel } from './types';
import type { Rng } from './rng';
import type { CheckpointTensor } from './checkpoint';
import { fitGradient, fitReport } from './trainer';
import { UserError } from './errors';

/** The features of a batch, or a one-line error naming the method. */
export function needFeatures(batch: Batch, method: string): Tensor4D {
  if (!batch.features) throw new UserError(`${method}: this method reads backbone features, but the batch has none`);
  return batch.features;
}

/** The images of a batch, or a one-line error naming the method. */
export function needImages(batch: Batch, method: string): Tensor4D {
  if (!batch.images) throw new UserError(`${method}: this method reads images, but the batch has none`);
  return batch.images;
}

/** A network whose state is its weights (and buffers): an nn.Module, a Reconstructor. */
export interface NetworkLike extends Trainable {
  parameterCount(): number;
  dispose(): void;
}

/**
 * A Method built around one network whose fitted state is its weights and buffers: state(), loadState(),
 * parameterCount() and dispose() come from `net`; a subclass writes fit and predict (and may add metadata to the
 * state with stateMeta()). Methods that keep more than the network (a density, a memory bank) implement Method.
 */
export abstract class NetworkMethod<N extends NetworkLike = NetworkLike> implements Method {
  abstract readonly net: N;
  abstract fit(data: FitData, ctx: FitContext): Promise<FitReport>;
  abstract predict(batch: Batch): MethodPrediction;

  /** metadata saved beside the weights (default: none) */
  protected stateMeta(): Record<string, unknown> {
    return {};
  }

  state(): MethodState {
    return variablesState(this.net.namedVariables(), this.net.namedBuffers?.(), this.stateMeta());
  }

  loadState(state: MethodState, source: string): void {
    loadVariablesState(state, source, this.net.namedVariables(), this.net.namedBuffers?.());
  }

  parameterCount(): number {
    return this.net.parameterCount();
  }

  dispose(): void {
    this.net.dispose();
  }
}

/** A feature reconstructor as a Method: fit = the gradient loop on its loss; predict = its maps. */
export class FeatureReconstructorMethod<R extends Reconstructor & Partial<Pick<Trainable, 'namedBuffers'>> = Reconstructor> extends NetworkMethod<R> {
  constructor(
    readonly name: string,
    /** the wrapped network */
    readonly net: R,
  ) {
    super();
  }

  async fit(data: FitData, ctx: FitContext): Promise<FitReport> {
    const r = await fitGradient({ net: this.net, loss: (b, rng) => this.net.loss(needFeatures(b, this.name), rng), data, ctx });
    return fitReport(r);
  }

  predict(batch: Batch): MethodPrediction {
    return this.net.predict(needFeatures(batch, this.name));
  }

  protected override stateMeta(): Record<string, unknown> {
    return { method: this.name };
  }
}

type StatValue = Float32Array | number[] | number | string;
/** A statistical model that can also restore its state(). */
export type RestorableStatisticalModel = StatisticalModel & { loadState(s: Record<string, StatValue>): void };

/** A statistical model as a Method: fit = its statistics on all training features (with the creation rng). */
export class StatisticalMethod<M extends RestorableStatisticalModel = RestorableStatisticalModel> implements Method {
  constructor(
    readonly name: string,
    /** the wrapped model */
    readonly model: M,
    /** the generator the model was created with (PaDiM's channel choice, PatchCore's projection draw from it) */
    private readonly rng: Rng,
  ) {}

  async fit(data: FitData): Promise<FitReport> {
    const all = data.all();
    await this.model.fit({ samples: all.samples, features: needFeatures(all, this.name) }, this.rng);
    return emptyReport();
  }

  predict(batch: Batch): MethodPrediction {
    return this.model.predict(needFeatures(batch, this.name));
  }

  state(): MethodState {
    const s = this.model.state();
    const meta: Record<string, unknown> = { method: this.name };
    const tensors: CheckpointTensor[] = [];
    for (const [k, v] of Object.entries(s)) {
      if (v instanceof Float32Array) tensors.push({ name: `state/${k}`, shape: [v.length], data: v });
      else meta[k] = v;
    }
    return { meta: { ...meta, fields: Object.keys(s) }, tensors };
  }

  loadState(state: MethodState, source: string): void {
    const fields = state.meta.fields;
    if (!Array.isArray(fields)) throw new UserError(`${source}: not a saved state of a statistical method (no 'fields')`);
    const byName = new Map(state.tensors.map((t) => [t.name, t.data]));
    const s: Record<string, StatValue> = {};
    for (const k of fields as string[]) {
      const t = byName.get(`state/${k}`);
      if (t) s[k] = t;
      else if (k in state.meta) s[k] = state.meta[k] as StatValue;
      else throw new UserError(`${source}: saved state lacks '${k}'`);
    }
    this.model.loadState(s);
  }

  parameterCount(): number {
    return this.model.parameterCount();
  }

  dispose(): void {
    this.model.dispose();
  }
}
