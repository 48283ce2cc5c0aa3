// FCDD's output transform and loss (liznerski/fcdd, models/fcdd_cnn_224.py and training/fcdd.py, objective 'hsc'):
// A = √(x² + 1) − 1 per output cell (pseudo-Huber); per image the mean of A; the hypersphere-classifier loss is
// that mean for normal images and −log(1 − exp(−mean A)) for anomalous ones, averaged over the batch.
import type { Scalar, Tensor, Tensor1D } from '@tensorflow/tfjs-node';
import { tf } from '@unified-ad/core';

/** The pseudo-Huber transform A = √(x² + 1) − 1, elementwise. */
export function pseudoHuber<T extends Tensor>(x: T): T {
  return tf.tidy(() => tf.sub(tf.sqrt(tf.add(tf.square(x), 1)), 1) as T);
}

/**
 * The HSC loss of per-image mean scores `meanA` [N] (≥ 0) with labels (0 normal, 1 anomalous):
 * mean over images of (normal: meanA, anomalous: −log(1 − exp(−meanA) + 1e-31)), as FCDD's loss.
 * 1 − exp(−m) is computed as −expm1(−m), which keeps small m accurate in float32.
 */
export function hscLoss(meanA: Tensor1D, labels: ArrayLike<number>): Scalar {
  return tf.tidy(() => {
    const y = tf.tensor1d(Float32Array.from(labels));
    const anom = tf.neg(tf.log(tf.add(tf.neg(tf.expm1(tf.neg(meanA))), 1e-31)));
    return tf.mean(tf.add(tf.mul(tf.sub(1, y), meanA), tf.mul(y, anom))) as Scalar;
  });
}
