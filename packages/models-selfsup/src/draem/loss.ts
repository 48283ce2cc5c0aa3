// DRAEM's losses (VitjanZ/DRAEM loss.py): L2 and 1 − SSIM (11×11 Gaussian window, σ = 1.5) on the reconstruction,
// focal loss (γ = 2, smoothing 1e-5) on the softmax of the discriminative logits.
import type { Scalar, Tensor4D } from '@tensorflow/tfjs-node';
import { tf } from '@unified-ad/core';

/** The normalised 1-D Gaussian of DRAEM's create_window (σ = 1.5), as a plain array. */
export function gaussian1d(size: number, sigma = 1.5): number[] {
  const g = Array.from({ length: size }, (_, x) => Math.exp(-((x - Math.floor(size / 2)) ** 2) / (2 * sigma * sigma)));
  const s = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / s);
}

/**
 * Mean SSIM of two [N, H, W, C] images (DRAEM's ssim(): per-channel Gaussian window of `window` taps, zero padding
 * ⌊window/2⌋, C1 = (0.01 L)², C2 = (0.03 L)², the mean of the SSIM map). `range` is L (DRAEM infers 1 for images in [0, 1]).
 */
export function ssim(a: Tensor4D, b: Tensor4D, window = 11, range = 1): Scalar {
  return tf.tidy(() => {
    const [, h, w, c] = a.shape;
    const k = Math.min(window, h, w);
    const g = gaussian1d(k);
    const k2 = new Float32Array(k * k * c);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let ch = 0; ch < c; ch++) k2[(i * k + j) * c + ch] = g[i]! * g[j]!;
    const filter = tf.tensor4d(k2, [k, k, c, 1]);
    const p = window >> 1;
    const blur = (x: Tensor4D) => tf.depthwiseConv2d(tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]), filter, 1, 'valid');
    const mu1 = blur(a), mu2 = blur(b);
    const mu1sq = mu1.square(), mu2sq = mu2.square(), mu12 = mu1.mul(mu2);
    const s1 = blur(a.square() as Tensor4D).sub(mu1sq);
    const s2 = blur(b.square() as Tensor4D).sub(mu2sq);
    const s12 = blur(a.mul(b) as Tensor4D).sub(mu12);
    const C1 = (0.01 * range) ** 2, C2 = (0.03 * range) ** 2;
    const v1 = s12.mul(2).add(C2), v2 = s1.add(s2).add(C2);
    const map = mu12.mul(2).add(C1).mul(v1).div(mu1sq.add(mu2sq).add(C1).mul(v2));
    return map.mean() as Scalar;
  });
}

/** DRAEM's SSIM loss: 1 − SSIM. */
export const ssimLoss = (a: Tensor4D, b: Tensor4D, window = 11): Scalar => tf.tidy(() => tf.sub(1, ssim(a, b, window)) as Scalar);

/**
 * DRAEM's FocalLoss(apply_nonlin=None, alpha=None, gamma=2, smooth=1e-5) on softmax probabilities `probs`
 * [N, H, W, 2] (channel 1 = anomaly) against a 0/1 mask [N, H, W, 1]: one-hot targets clamped to
 * [smooth, 1 − smooth], pt = Σ target·p + smooth, loss = mean(−(1 − pt)^γ log pt).
 */
export function focalLoss(probs: Tensor4D, mask: Tensor4D, gamma = 2, smooth = 1e-5): Scalar {
  return tf.tidy(() => {
    const target = tf.clipByValue(tf.concat([tf.sub(1, mask), mask], -1), smooth, 1 - smooth);
    const pt = tf.sum(tf.mul(target, probs), -1).add(smooth);
    return tf.mean(tf.mul(tf.pow(tf.sub(1, pt), gamma), tf.log(pt)).neg()) as Scalar;
  });
}
