// Test-time inference for any registered method: its inputs → maps at the evaluation resolution (+ own scores).
import type { Tensor, Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, UserError, type AnomalyMap, type FitData, type Method } from '@unified-ad/core';
import { gaussianBlur, imageScoreFromMap, type ImageScoreMethod } from '@unified-ad/eval';

export interface Predictions {
  /** one map per sample at the evaluation resolution; null for an image-level-only method */
  maps: AnomalyMap[] | null;
  /** image scores: the method's own when it defines them, else (imageScoreMap 'raw' with a blur) from the maps before the blur */
  scores?: Float32Array;
  /** native map size before upsampling ([0, 0] without maps) */
  nativeSize: [number, number];
}

/**
 * Runs method.predict over `data` in batches; upsamples maps on the device (bilinear, align-corners) and blurs
 * (σ > 0) in JS. A method must return maps, scores or both, the same for every batch. With a blur and
 * `imageScoreMap: 'raw'`, a method without scores of its own gets them from its maps before the blur (`imageScore`).
 */
export interface PredictOptions {
  resolution: number;
  blurSigma: number;
  batchSize?: number;
  /** the rule for scores taken from the maps before the blur (needed with imageScoreMap 'raw') */
  imageScore?: ImageScoreMethod;
  imageScoreMap?: 'blurred' | 'raw';
}

export function predictAll(model: Method, data: FitData, opts: PredictOptions): Predictions {
  const rawScores = opts.blurSigma > 0 && opts.imageScoreMap === 'raw';
  if (rawScores && !opts.imageScore) throw new UserError("eval.imageScoreMap 'raw' needs eval.imageScore");
  const n = data.samples.length;
  const bs = opts.batchSize ?? 16;
  const r = opts.resolution;
  let maps: AnomalyMap[] | null = null;
  let scores: Float32Array | undefined;
  let nativeSize: [number, number] = [0, 0];
  let ownScores = false;
  for (let s = 0; s < n; s += bs) {
    const idx = Array.from({ length: Math.min(bs, n - s) }, (_, k) => s + k);
    // tidy returns tensors only: reading typed arrays out of a tidy walks every element (slow)
    const [upT, scT] = tf.tidy(() => {
      const p = model.predict(data.batch(idx));
      if (!p.maps && !p.scores) throw new UserError('predict() returned neither maps nor scores');
      let u: Tensor | null = null;
      if (p.maps) {
        nativeSize = [p.maps.shape[1], p.maps.shape[2]];
        const m4 = (p.maps as Tensor3D).expandDims(-1) as Tensor4D;
        u = nativeSize[0] === r && nativeSize[1] === r ? m4 : tf.image.resizeBilinear(m4, [r, r], true);
      }
      return [u ?? tf.zeros([0]), p.scores ?? tf.zeros([0])];
    }) as Tensor[];
    const hasMaps = upT.size > 0, hasScores = scT.size > 0;
    if (s > 0 && (hasMaps !== (maps !== null) || hasScores !== ownScores)) {
      tf.dispose([upT, scT]);
      throw new UserError('predict() returned maps / scores for some batches but not others');
    }
    if (hasMaps) {
      const up = upT.dataSync() as Float32Array;
      maps ??= [];
      const k = up.length / (r * r);
      const derive = rawScores && !hasScores;
      if (derive) scores ??= new Float32Array(n);
      for (let i = 0; i < k; i++) {
        let m: AnomalyMap = { data: up.subarray(i * r * r, (i + 1) * r * r), height: r, width: r };
        if (derive) scores![s + i] = imageScoreFromMap(m, opts.imageScore!);
        if (opts.blurSigma > 0) m = gaussianBlur(m, opts.blurSigma);
        maps.push(m);
      }
    }
    if (hasScores) {
      ownScores = true;
      scores ??= new Float32Array(n);
      scores.set(scT.dataSync() as Float32Array, s);
    }
    tf.dispose([upT, scT]);
  }
  return { maps, scores, nativeSize };
}
