// UniAD's neck (MFCN, "multi-scale feature concat network", models/necks/mfcn.py of the official
// code): every chosen backbone map is resized to the output grid with nn.UpsamplingBilinear2d — bilinear
// with align_corners=True, used for shrinking (scale < 1) as well as enlarging, with no anti-aliasing —
// and the maps are concatenated along channels (UniAD §3.1: "feature alignment").
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, UserError } from '@unified-ad/core';

/**
 * Resizes each [N, h, w, c] map to [N, size, size, c] (bilinear, align corners) and concatenates them
 * on channels: [N, size, size, Σc]. Maps already at size×size pass through unchanged.
 */
export function mfcnNeck(maps: Tensor4D[], size: number): Tensor4D {
  if (!Number.isInteger(size) || size < 1) throw new UserError(`neck: grid size must be a positive integer, got ${size}`);
  if (maps.length === 0) throw new UserError('neck: no feature maps given');
  const n = maps[0].shape[0];
  for (const m of maps) if (m.rank !== 4 || m.shape[0] !== n) throw new UserError(`neck: maps must be [N, h, w, c] with one N, got [${m.shape.join(', ')}]`);
  return tf.tidy(() => {
    const resized = maps.map((m) => (m.shape[1] === size && m.shape[2] === size ? m : tf.image.resizeBilinear(m, [size, size], true)));
    return resized.length === 1 ? resized[0].clone() : tf.concat(resized, 3);
  });
}

/** Channels after the neck: the sum of the maps' channels. */
export function neckChannels(channels: number[]): number {
  return channels.reduce((a, b) => a + b, 0);
}
