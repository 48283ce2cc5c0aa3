// Random tensors from TensorFlow's stateless native kernels (Philox, seeded per call). tfjs's own randomUniform /
// randomNormal / dropout generate numbers in JavaScript, element by element: ~50 ms for an attention map of a
// batch of 8, which dominated a UniAD training step. Same seed → same numbers; falls back to tfjs on other backends.
import type { Tensor } from '@tensorflow/tfjs-node';
import { tf, engineInfo } from './engine';

type NativeBackend = {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number; TF_INT32: number };
  executeSingleOutput(name: string, attrs: { name: string; type: number; value: number }[], inputs: Tensor[]): Tensor;
};

function native(op: 'StatelessRandomUniform' | 'StatelessRandomNormal', shape: number[], seed: number): Tensor {
  const be = tf.backend() as unknown as NativeBackend;
  const b = be.binding;
  return tf.tidy(() => {
    const shapeT = tf.tensor1d(shape, 'int32');
    const seedT = tf.tensor1d([seed & 0x7fffffff, (seed * 2654435761) & 0x7fffffff], 'int32');
    return be.executeSingleOutput(op, [
      { name: 'dtype', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
      { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_INT32 },
      { name: 'Tseed', type: b.TF_ATTR_TYPE, value: b.TF_INT32 },
    ], [shapeT, seedT]);
  });
}

const isNative = () => engineInfo.backend === 'tensorflow' && tf.getBackend() === 'tensorflow';

/** U[0, 1) float32 tensor, deterministic in `seed`. */
export function statelessUniform(shape: number[], seed: number): Tensor {
  return isNative() ? native('StatelessRandomUniform', shape, seed) : tf.randomUniform(shape, 0, 1, 'float32', seed);
}

/** N(0, 1) float32 tensor, deterministic in `seed`. */
export function statelessNormal(shape: number[], seed: number): Tensor {
  return isNative() ? native('StatelessRandomNormal', shape, seed) : tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/** Inverted dropout with a native random mask: x · 1[u ≥ rate] / (1 − rate). */
export function nativeDropout(x: Tensor, rate: number, seed: number): Tensor {
  return tf.tidy(() => {
    const keep = statelessUniform(x.shape, seed).greaterEqual(rate);
    return x.mul(keep.cast('float32').mul(1 / (1 - rate)));
  });
}
