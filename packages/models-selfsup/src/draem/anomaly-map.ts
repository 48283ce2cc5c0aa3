// DRAEM's test-time outputs (VitjanZ/DRAEM test_DRAEM.py): the pixel map is the softmax anomaly channel of the
// discriminative network; the image score is the maximum of that map average-pooled over 21×21 (stride 1,
// zero padding 10, count_include_pad as torch).
import type { Tensor1D, Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, nn } from '@unified-ad/core';

/** logits [N, S, S, 2] → map [N, S, S] (softmax probability of the anomaly class). */
export function anomalyMap(logits: Tensor4D): Tensor3D {
  return tf.tidy(() => tf.softmax(logits, -1).slice([0, 0, 0, 1], [-1, -1, -1, 1]).squeeze([3]) as Tensor3D);
}

/** map [N, S, S] → [N]: max of the `window`×`window` average-pooled map. */
export function imageScore(map: Tensor3D, window = 21): Tensor1D {
  return tf.tidy(() => {
    const x = map.expandDims(-1) as Tensor4D;
    const k = Math.min(window, map.shape[1], map.shape[2]);
    const pooled = nn.avgPool2d(x, k, 1, k >> 1);
    return pooled.max([1, 2, 3]) as Tensor1D;
  });
}
