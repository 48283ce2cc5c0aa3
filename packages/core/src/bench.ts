// Timing helpers of the method packages' `benchMethods()` parts of `npm run bench`: random inputs as FitData, the
// median time of one optimizer step of a method's loss, the time of a predict call, and the multiply-adds of a
// convolution (for a step's achieved GFLOP/s). All on the native engine: the figures mean nothing on pure JS.
import type { Scalar, Tensor4D, Variable } from '@tensorflow/tfjs-node';
import { tf, requireNativeEngine } from './engine';
import { Rng } from './rng';
import { tensorFitData } from './fit-data';
import { TrainConfigSchema, makeGradientStep, optimizerFromConfig, type TrainConfig } from './trainer';
import type { Batch, FitData, Method } from './method';
import type { Sample } from './types';

const benchSample = (i: number): Sample => ({ id: `s${i}`, className: 'x', split: 'train', label: 0, defectType: 'good', imagePath: `#${i}` });

/**
 * n random training samples: uniform 0..255 images of side `size` and, with `features: [grid, channels]`, standard
 * normal feature maps [n, grid, grid, channels] (returned too: the caller disposes them).
 */
export function benchFitData(n: number, size: number, opts: { features?: [number, number]; seed?: number } = {}): { data: FitData; features?: Tensor4D } {
  const rng = new Rng(opts.seed ?? 0);
  const img = new Uint8Array(n * size * size * 3);
  for (let i = 0; i < img.length; i++) img[i] = Math.floor(rng.uniform() * 256);
  const features = opts.features ? (rng.normalTensor([n, opts.features[0], opts.features[0], opts.features[1]]) as Tensor4D) : undefined;
  return { data: tensorFitData(Array.from({ length: n }, (_, i) => benchSample(i)), { features, images: { size, data: img } }), features };
}

/**
 * Median ms of one optimizer step (loss, gradients, update) on the first `batch` rows of `data`, over `steps` steps
 * after one warm-up step. The optimizer is the train config's (default: Adam lr 1e-4, no clipping).
 */
export function timeTrainStep(
  vars: Map<string, Variable>,
  loss: (b: Batch, r: Rng) => Scalar,
  data: FitData,
  batch: number,
  opts: { steps?: number; train?: TrainConfig } = {},
): number {
  requireNativeEngine();
  const steps = opts.steps ?? 3;
  const cfg = opts.train ?? TrainConfigSchema.parse({ lr: 1e-4, optimizer: { name: 'adam' }, clipNorm: null });
  const opt = optimizerFromConfig(cfg, vars);
  const step = makeGradientStep(vars, loss, opt, cfg.clipNorm);
  const idx = Array.from({ length: batch }, (_, i) => i);
  const rng = new Rng(1);
  const ts: number[] = [];
  try {
    for (let k = 0; k <= steps; k++) {
      const t0 = process.hrtime.bigint();
      const [l, g] = tf.tidy(() => step(data.batch(idx), rng));
      l.dataSync();
      tf.dispose([l, g]);
      if (k) ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    opt.dispose();
  }
  return ts.sort((a, b) => a - b)[ts.length >> 1]!;
}

/** ms of `m.predict` on the first n rows of `data` (maps and scores read back): the median of `reps` after `warmup` calls. */
export function timePredict(m: Method, data: FitData, n: number, opts: { reps?: number; warmup?: number } = {}): number {
  requireNativeEngine();
  const idx = Array.from({ length: n }, (_, i) => i);
  const once = () => {
    const t0 = process.hrtime.bigint();
    const p = tf.tidy(() => {
      const r = m.predict(data.batch(idx));
      return [r.maps ?? tf.zeros([1]), r.scores ?? tf.zeros([1])];
    });
    p[0]!.dataSync();
    p[1]!.dataSync();
    tf.dispose(p);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  for (let i = 0; i < (opts.warmup ?? 0); i++) once();
  const ts = Array.from({ length: opts.reps ?? 1 }, once);
  return ts.sort((a, b) => a - b)[ts.length >> 1]!;
}

/** Multiply-adds of a k×k convolution inC → outC producing an h×w map (one image). */
export const convMacs = (h: number, w: number, k: number, inC: number, outC: number): number => h * w * k * k * inC * outC;

/**
 * GFLOP/s of a training step of `forwardMacs` multiply-adds (the whole batch) that took `ms`: 2 FLOPs per
 * multiply-add, forward + backward counted as 3 × forward (the input and the weight gradients each cost about one forward).
 */
export const trainGflops = (forwardMacs: number, ms: number): number => (3 * 2 * forwardMacs) / (ms * 1e6);
