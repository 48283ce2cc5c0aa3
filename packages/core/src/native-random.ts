// Random tensors from TensorFlow's stateless native kernels (Philox, seeded per call). tfjs's own randomUniform /
// randomNormal / dropout generate numbers in JavaScript, element by element: ~50 ms for an attention map of a
// batch of 8, which dominated a UniAD training step. Same seed → same numbers; falls back to tfjs on other backends.
import type { Tensor } from '@tensorflow/tfjs-node';
import { tf } from './engine';
import { fusedDropout, fusedOps } from './fused-ops';
import { TF_UINT8, castNative, isNativeEngine, nativeKernels, runNative, tfTypes, typeAttr } from './native-op';

function native(op: 'StatelessRandomUniform' | 'StatelessRandomNormal' | 'StatelessRandomUniformFullInt', shape: number[], seed: number): Tensor {
  const b = tfTypes();
  return tf.tidy(() => {
    const shapeT = tf.tensor1d(shape, 'int32');
    const seedT = tf.tensor1d([seed & 0x7fffffff, (seed * 2654435761) & 0x7fffffff], 'int32');
    return runNative(op, [typeAttr('dtype', op === 'StatelessRandomUniformFullInt' ? b.TF_INT32 : b.TF_FLOAT), typeAttr('T', b.TF_INT32), typeAttr('Tseed', b.TF_INT32)], [shapeT, seedT]);
  });
}

/** U[0, 1) float32 tensor, deterministic in `seed`. */
export function statelessUniform(shape: number[], seed: number): Tensor {
  return isNativeEngine() ? native('StatelessRandomUniform', shape, seed) : tf.randomUniform(shape, 0, 1, 'float32', seed);
}

/** N(0, 1) float32 tensor, deterministic in `seed`. */
export function statelessNormal(shape: number[], seed: number): Tensor {
  return isNativeEngine() ? native('StatelessRandomNormal', shape, seed) : tf.randomNormal(shape, 0, 1, 'float32', seed);
}

/**
 * The dropout rate actually applied: on the native engine a drop is decided by one random byte per element, so the
 * rate is rounded to a multiple of 1/256 (0.1 → 26/256 = 0.1016). Four times fewer random numbers than a float
 * per element: TensorFlow's Philox kernel, not the arithmetic, was the cost of dropout in a UniAD step.
 */
export function effectiveDropoutRate(rate: number): number {
  return nativeKernels() ? Math.round(rate * 256) / 256 : rate;
}

const byteThresholds = new Map<number, Tensor>();
/** Bernoulli keep mask (bool, P(keep) = 1 − effectiveDropoutRate(rate)), deterministic in `seed`. */
export function keepMask(shape: number[], rate: number, seed: number): Tensor {
  if (!nativeKernels()) return tf.tidy(() => statelessUniform(shape, seed).greaterEqual(rate));
  const t = Math.round(rate * 256);
  let thr = byteThresholds.get(t);
  if (!thr) {
    thr = tf.keep(castNative(tf.scalar(t, 'int32'), tfTypes().TF_INT32, TF_UINT8));
    byteThresholds.set(t, thr);
  }
  const threshold = thr;
  return tf.tidy(() => {
    const n = shape.reduce((a, b) => a * b, 1);
    const words = native('StatelessRandomUniformFullInt', [Math.ceil(n / 4)], seed);
    // uint8 handles pass only through native ops with explicit attributes (tfjs labels them int32)
    const bytes = runNative('Bitcast', [typeAttr('T', tfTypes().TF_INT32), typeAttr('type', TF_UINT8)], [words]);
    let keep = runNative('GreaterEqual', [typeAttr('T', TF_UINT8)], [bytes, threshold]).reshape([-1]);
    if (keep.shape[0] !== n) keep = keep.slice(0, n);
    return keep.reshape(shape);
  });
}

/** Inverted dropout: x · 1[keep] / (1 − rate), rate as effectiveDropoutRate. */
export function nativeDropout(x: Tensor, rate: number, seed: number): Tensor {
  if (fusedOps()) return fusedDropout(x, rate, seed); // decisions hashed in the kernel (fused-ops.ts), not Philox bytes
  return tf.tidy(() => x.mul(keepMask(x.shape, rate, seed).cast('float32')).mul(1 / (1 - effectiveDropoutRate(rate))));
}
