// Native TensorFlow engine bootstrap. Every package imports `tf` from here, never from a tfjs package
// directly, so that exactly one backend is loaded and a slow fallback is never silent.
import { spawnSync } from 'node:child_process';

export type Tf = typeof import('@tensorflow/tfjs-node');

export interface EngineInfo {
  /** tfjs backend name: 'tensorflow' is the native engine */
  backend: string;
  /** npm package that provided it */
  package: string;
  /** TensorFlow C library version (native engine), or null */
  tfVersion: string | null;
  tfjsVersion: string;
  gpu: boolean;
  threads: number | null;
  /** why the preferred engine was not used, if it was not */
  fallbackReason?: string;
}

function cudaPresent(): boolean {
  if (process.env.UNIFIED_AD_ENGINE === 'cpu-native' || process.env.UNIFIED_AD_ENGINE === 'js') return false;
  try {
    const r = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000 });
    return r.status === 0 && /GPU/.test(r.stdout ?? '');
  } catch {
    return false;
  }
}

function load(): { tf: Tf; info: EngineInfo } {
  // TensorFlow's C++ logging of CPU features etc. is noise for users.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const errors: string[] = [];
  const candidates: string[] = [];
  if (process.env.UNIFIED_AD_ENGINE !== 'js') {
    if (cudaPresent()) candidates.push('@tensorflow/tfjs-node-gpu');
    candidates.push('@tensorflow/tfjs-node');
  }
  for (const pkg of candidates) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const tf = require(pkg) as Tf;
      if (tf.getBackend() !== 'tensorflow') throw new Error(`backend is ${tf.getBackend()}`);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const binding = (tf.backend() as any).binding;
      const info: EngineInfo = {
        backend: 'tensorflow',
        package: pkg,
        tfVersion: binding?.TF_Version ?? null,
        tfjsVersion: tf.version_core,
        gpu: pkg.endsWith('-gpu'),
        threads: null,
        fallbackReason: errors.length ? errors.join('; ') : undefined,
      };
      return { tf, info };
    } catch (e) {
      errors.push(`${pkg}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tf = require('@tensorflow/tfjs') as Tf;
  void tf.setBackend('cpu');
  const reason = errors.join('; ') || 'UNIFIED_AD_ENGINE=js';
  const bar = '!'.repeat(78);
  process.stderr.write(
    `${bar}\n! WARNING: native TensorFlow engine unavailable; running on the pure-JS 'cpu' backend (~200x slower).\n` +
      `! Reason: ${reason}\n! Fix: npm run setup:engine\n${bar}\n`,
  );
  return {
    tf,
    info: { backend: 'cpu', package: '@tensorflow/tfjs', tfVersion: null, tfjsVersion: tf.version_core, gpu: false, threads: null, fallbackReason: reason },
  };
}

const loaded = load();
/** The tfjs namespace backed by the best available engine. */
export const tf: Tf = loaded.tf;
export const engineInfo: EngineInfo = loaded.info;

/** Fails unless the native engine is active (for benchmarks and checks that must not run slowly). */
export function requireNativeEngine(): void {
  if (engineInfo.backend !== 'tensorflow') {
    throw new Error(`native TensorFlow engine required but backend is '${engineInfo.backend}' (${engineInfo.fallbackReason}); run: npm run setup:engine`);
  }
}

/** Measures float32 matMul throughput (GFLOP/s) for an n×n×n product. */
export function matmulGflops(n = 1024, reps = 10): number {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  // (never return a TypedArray from tf.tidy: tidy walks it element by element)
  const once = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  for (let i = 0; i < 2; i++) once();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) once();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  a.dispose();
  b.dispose();
  return (2 * n ** 3 * reps) / s / 1e9;
}
