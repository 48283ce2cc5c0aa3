// FitData over tensors held in memory: backbone features as one [N, H, W, C] tensor, images as one uint8 store
// (N × S × S × 3 bytes: a full MVTec AD training set at 256² is 0.7 GB, a quarter of its float32 size).
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf } from './engine';
import type { Batch, FitData } from './method';
import type { Sample } from './types';
import { UserError } from './errors';

/** Decoded images of a set of samples, uint8 HWC (RGB), all at one size. */
export interface ImageStore {
  size: number;
  /** N·size·size·3 bytes, row-major per image */
  data: Uint8Array;
}

export const imageBytes = (size: number) => size * size * 3;

/** Float pixels (0..255, as Dataset.loadImage gives them) rounded and clamped into a store's uint8 bytes. */
export function quantizeInto(px: ArrayLike<number>, dst: Uint8Array): void {
  for (let j = 0; j < dst.length; j++) dst[j] = Math.max(0, Math.min(255, Math.round(px[j]!)));
}

/** One image of a store, as stored (uint8 HWC; a view, not a copy). */
export function storeImage(store: ImageStore, i: number): Uint8Array {
  const b = imageBytes(store.size);
  return store.data.subarray(i * b, (i + 1) * b);
}

/** Images `idx` of a store as a [k, S, S, 3] float32 tensor (values 0..255). */
export function storeBatch(store: ImageStore, idx: number[]): Tensor4D {
  const b = imageBytes(store.size);
  const out = new Float32Array(idx.length * b);
  idx.forEach((i, k) => out.set(store.data.subarray(i * b, (i + 1) * b), k * b)); // uint8 → float32, exact
  return tf.tensor4d(out, [idx.length, store.size, store.size, 3]);
}

/**
 * FitData of `samples` with their features (rows aligned) and/or images. batch() returns new tensors (create them
 * inside tf.tidy); all() returns the features tensor itself (owned by the caller of tensorFitData: do not dispose)
 * and, with images, a new tensor of every image.
 */
export function tensorFitData(samples: readonly Sample[], inputs: { features?: Tensor4D; images?: ImageStore }): FitData {
  const n = samples.length;
  if (inputs.features && inputs.features.shape[0] !== n) throw new Error(`tensorFitData: ${inputs.features.shape[0]} feature rows for ${n} samples`);
  if (inputs.images && inputs.images.data.length !== n * imageBytes(inputs.images.size)) throw new Error(`tensorFitData: image store does not hold ${n} images`);
  const all = Array.from({ length: n }, (_, i) => i);
  return {
    samples,
    batch(idx: number[]): Batch {
      const b: Batch = { samples: idx.map((i) => samples[i]!) };
      if (inputs.features) b.features = tf.gather(inputs.features, tf.tensor1d(idx, 'int32')) as Tensor4D;
      if (inputs.images) b.images = storeBatch(inputs.images, idx);
      return b;
    },
    all(): Batch {
      const b: Batch = { samples: [...samples] };
      if (inputs.features) b.features = inputs.features;
      if (inputs.images) b.images = storeBatch(inputs.images, all);
      return b;
    },
    image(i: number): Uint8Array {
      if (!inputs.images) throw new UserError('this method declared no image inputs: FitData.image() is not available');
      return storeImage(inputs.images, i);
    },
  };
}
