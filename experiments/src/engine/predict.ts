// Test-time inference for any registered method: features → maps at the evaluation resolution (+ own scores).
import type { Tensor, Tensor3D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, type AnomalyMap, type AnomalyModel } from '@unified-ad/core';
import { gaussianBlur } from '@unified-ad/eval';

export interface Predictions {
  /** one map per sample at the evaluation resolution */
  maps: AnomalyMap[];
  /** the method's own image scores, when it defines them */
  scores?: Float32Array;
  /** native map size before upsampling */
  nativeSize: [number, number];
}

/** Runs model.predict in batches; upsamples on the device (bilinear, align-corners) and blurs (σ > 0) in JS. */
export function predictAll(model: AnomalyModel, features: Tensor4D, opts: { resolution: number; blurSigma: number; batchSize?: number }): Predictions {
  const n = features.shape[0];
  const bs = opts.batchSize ?? 16;
  const r = opts.resolution;
  const maps: AnomalyMap[] = [];
  let scores: Float32Array | undefined;
  let nativeSize: [number, number] = [0, 0];
  for (let s = 0; s < n; s += bs) {
    // tidy returns tensors only: reading typed arrays out of a tidy walks every element (slow)
    const [upT, scT] = tf.tidy(() => {
      const batch = features.slice([s, 0, 0, 0], [Math.min(bs, n - s), -1, -1, -1]) as Tensor4D;
      const p = model.predict(batch);
      nativeSize = [p.maps.shape[1], p.maps.shape[2]];
      const m4 = (p.maps as Tensor3D).expandDims(-1) as Tensor4D;
      const u = nativeSize[0] === r && nativeSize[1] === r ? m4 : tf.image.resizeBilinear(m4, [r, r], true);
      return p.scores ? [u, p.scores] : [u];
    }) as Tensor[];
    const up = upT.dataSync() as Float32Array;
    const sc = scT ? (scT.dataSync() as Float32Array) : null;
    upT.dispose();
    scT?.dispose();
    const k = up.length / (r * r);
    for (let i = 0; i < k; i++) {
      let m: AnomalyMap = { data: up.subarray(i * r * r, (i + 1) * r * r), height: r, width: r };
      if (opts.blurSigma > 0) m = gaussianBlur(m, opts.blurSigma);
      maps.push(m);
    }
    if (sc) {
      scores ??= new Float32Array(n);
      scores.set(sc, s);
    }
  }
  return { maps, scores, nativeSize };
}
