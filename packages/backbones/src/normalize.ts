import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, UserError } from '@unified-ad/core';
import type { InputNormalization } from './types';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** Maps RGB 0..255 images to a network's input range (see InputNormalization). */
export function normalizeInput(images: Tensor4D, mode: InputNormalization): Tensor4D {
  return tf.tidy(() => {
    const x = images.dtype === 'float32' ? images : tf.cast(images, 'float32');
    switch (mode) {
      case 'none':
        return x.clone();
      case 'unit':
        return tf.div(x, 255);
      case 'symmetric':
        return tf.sub(tf.div(x, 127.5), 1);
      case 'imagenet': {
        const mean = tf.tensor1d(IMAGENET_MEAN.map((m) => m * 255));
        const std = tf.tensor1d(IMAGENET_STD.map((s) => s * 255));
        return tf.div(tf.sub(x, mean), std);
      }
      default:
        throw new UserError(`normalize: unknown input normalisation "${String(mode)}" (none, unit, symmetric, imagenet)`);
    }
  });
}

/** Checks a batch is [N, H, W, 3]. */
export function checkImages(images: Tensor4D, what: string): void {
  if (images.rank !== 4 || images.shape[3] !== 3) throw new UserError(`${what}: images must be [N, H, W, 3] RGB 0..255, got shape [${images.shape.join(', ')}]`);
}
