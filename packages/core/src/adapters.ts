// Two ready-made Method implementations for the common shapes of a method, so that such a method is only its
// network or its statistics:
//  - featureReconstructorMethod: a network trained by fitGradient on backbone features (UniAD, MLP, CNN,
//    Transformer); the state is its weights (and buffers).
//  - statisticalMethod: statistics fitted once on all training features (PaDiM, PatchCore); the state is
//    what the model's state() returns.
import type { Tensor4D } from '@tensorflow/tfjs-node';
import type { Batch, FitContext, FitData, FitReport, Method, MethodPrediction, MethodState } from './method';
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

/** A feature reconstructor as a Method: fit = the gradient loop on its loss; predict = its maps. */
export class FeatureReconstructorMethod<R extends Reconstructor = Reconstructor> implements Method {
  constructor(
    readonly name: string,
    /** the wrapped network */
    readonly net: R,
  ) {}

  private buffers() {
    return (this.net as { namedBuffers?: () => Map<string, import('@tensorflow/tfjs-node').Variable> }).namedBuffers?.();
  }

  async fit(data: FitData, ctx: FitContext): Promise<FitReport> {
    const r = await fitGradient({
      net: { namedVariables: () => this.net.namedVariables(), namedBuffers: () => this.buffers() ?? new Map() },
      loss: (b, rng) => this.net.loss(needFeatures(b, this.name), rng),
      data,
      ctx,
    });
    return fitReport(r);
  }

  predict(batch: Batch): MethodPrediction {
    return this.net.predict(needFeatures(batch, this.name));
  }

  state(): MethodState {
    return variablesState(this.net.namedVariables(), this.buffers(), { method: this.name });
  }

  loadState(state: MethodState, source: string): void {
    loadVariablesState(state, source, this.net.namedVariables(), this.buffers());
  }

  parameterCount(): number {
    return this.net.parameterCount();
  }

  dispose(): void {
    this.net.dispose();
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
