// FCDD's receptive-field upsampling (liznerski/fcdd ReceptiveNet.receptive_upsample): every output cell spreads
// its value over the input pixels with a Gaussian (σ = 12 px on MVTec AD) centred on the centre of its receptive
// field — a transposed convolution with a Gaussian kernel and the network's stride.
import type { Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf } from '@unified-ad/core';

/**
 * The Gaussian kernel [k, k] (sum 1) of side k = the smallest stride + 2m ≥ receptiveField, so that the kernel
 * centre falls on the cell's receptive-field centre (stride·i + (stride − 1)/2); m is the crop on each side.
 */
export function receptiveKernel(stride: number, receptiveField: number, sigma: number): { kernel: Float32Array; size: number; crop: number } {
  const m = Math.max(0, Math.ceil((receptiveField - stride) / 2));
  const size = stride + 2 * m;
  const c = (size - 1) / 2;
  const kernel = new Float32Array(size * size);
  let sum = 0;
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) sum += kernel[i * size + j] = Math.exp(-((i - c) ** 2 + (j - c) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return { kernel, size, crop: m };
}

/** A [N, h, w, 1] → [N, h·stride, w·stride] by the receptive-field Gaussian upsampling. */
export function receptiveUpsample(a: Tensor4D, stride: number, receptiveField: number, sigma: number): Tensor3D {
  return tf.tidy(() => {
    const [n, h, w] = a.shape;
    const { kernel, size, crop } = receptiveKernel(stride, receptiveField, sigma);
    const full = [(h - 1) * stride + size, (w - 1) * stride + size];
    const y = tf.conv2dTranspose(a, tf.tensor4d(kernel, [size, size, 1, 1]), [n, full[0]!, full[1]!, 1], stride, 'valid');
    return y.slice([0, crop, crop, 0], [n, h * stride, w * stride, 1]).squeeze([3]) as Tensor3D;
  });
}
