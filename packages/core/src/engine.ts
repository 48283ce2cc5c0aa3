// Native TensorFlow engine bootstrap. Every package imports `tf` from here, never from a tfjs package
// directly, so that exactly one backend is loaded and a slow fallback is never silent.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installFastKernels } from './fast-kernels';

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
  /**
   * oneDNN's floating-point math mode for float32 work, fixed at start-up by UNIFIED_AD_FPMATH (see `fpmathFromEnv`):
   * 'fp32' (strict, the default) or 'bf16' (oneDNN's matmul and convolution primitives may round their float32 inputs
   * to bfloat16 inside the kernel — AMX / AVX512-BF16 where the CPU has them; storage and everything else stay float32).
   */
  fpmath: FpMath;
  /** why the preferred engine was not used, if it was not */
  fallbackReason?: string;
}

export type FpMath = 'fp32' | 'bf16';

/**
 * UNIFIED_AD_FPMATH: unset / 'fp32' (strict float32) or 'bf16'. TensorFlow reads its oneDNN math mode
 * (TF_SET_ONEDNN_FPMATH_MODE) once per process, so this is a start-up setting, not a switch; a bad value is a one-line
 * error naming the variable (printed, exit 2: it is read while modules load, before any command can catch it).
 */
export function fpmathFromEnv(env: NodeJS.ProcessEnv = process.env): FpMath | string {
  const v = env.UNIFIED_AD_FPMATH;
  if (v === undefined || v === '' || v === 'fp32') return 'fp32';
  if (v === 'bf16') return 'bf16';
  return `UNIFIED_AD_FPMATH must be fp32 or bf16, got '${v}'`;
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

/** absl's start-up notices that TF_CPP_MIN_LOG_LEVEL does not reach (TensorFlow ≥ 2.16 logs through absl). */
const NATIVE_NOISE = [/^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/, /^I\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\] /];

/** Drops absl's INFO lines and its "before InitializeLog" notice from text written while the binding loaded. */
export function filterNativeStartupLog(text: string): string {
  return text
    .split(/(?<=\n)/)
    .filter((l) => !NATIVE_NOISE.some((re) => re.test(l.replace(/\r?\n$/, ''))))
    .join('');
}

function fdFlags(fd: number): { flags: number; pos: number } | null {
  try {
    const t = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    const flags = /^flags:\s*([0-7]+)/m.exec(t);
    const pos = /^pos:\s*(\d+)/m.exec(t);
    return flags && pos ? { flags: parseInt(flags[1], 8), pos: Number(pos[1]) } : null;
  } catch {
    return null;
  }
}

/**
 * Runs `fn` (the native binding's load) with file descriptor 2 pointing at a capture file, then puts the
 * original stderr back and writes out what was captured minus absl's INFO lines. TensorFlow ≥ 2.16 logs
 * through absl before absl::InitializeLog, which ignores TF_CPP_MIN_LOG_LEVEL; Node has no dup2, so the
 * stderr target is reopened through /proc/self/fd (Linux). Only where that gives an equivalent stream: a
 * terminal, a pipe, or a regular file written at its end (then opened for appending, together with stdout
 * when that is the same file); anything else, other systems, vitest workers and UNIFIED_AD_TF_LOGS=1 load
 * without capture.
 */
function withNativeStderrFiltered<T>(fn: () => T): T {
  if (process.platform !== 'linux' || process.env.UNIFIED_AD_TF_LOGS === '1' || process.env.VITEST !== undefined) return fn();
  const C = fs.constants;
  let reopenFlags: number;
  let alsoStdout = false;
  try {
    const st = fs.fstatSync(2);
    fs.fstatSync(0);
    fs.fstatSync(1);
    if (st.isCharacterDevice()) reopenFlags = C.O_WRONLY | C.O_NOCTTY;
    else if (st.isFIFO()) {
      // a FIFO without a reader would block the open: probe non-blocking first
      fs.closeSync(fs.openSync('/proc/self/fd/2', C.O_WRONLY | C.O_NONBLOCK));
      reopenFlags = C.O_WRONLY;
    } else if (st.isFile()) {
      const f2 = fdFlags(2);
      if (!f2) return fn();
      if (!(f2.flags & C.O_APPEND) && f2.pos !== st.size) return fn(); // writing inside the file: keep it as is
      const st1 = fs.fstatSync(1);
      if (st1.isFile() && st1.ino === st.ino && st1.dev === st.dev) {
        const f1 = fdFlags(1);
        if (!f1) return fn();
        if (!(f1.flags & C.O_APPEND)) {
          if (f1.pos !== st.size) return fn();
          alsoStdout = true; // `> log 2>&1`: both append from now on, so their order is kept
        }
      }
      reopenFlags = C.O_WRONLY | C.O_APPEND;
    } else return fn();
  } catch {
    return fn();
  }
  const capture = path.join(os.tmpdir(), `unified-ad-tf-load-${process.pid}-${Date.now().toString(36)}.log`);
  let keep = -1;
  try {
    keep = fs.openSync('/proc/self/fd/2', reopenFlags);
    fs.closeSync(2);
    const got = fs.openSync(capture, 'w');
    if (got !== 2) {
      // fd 2 was taken meanwhile: undo
      fs.closeSync(got);
      fs.openSync(`/proc/self/fd/${keep}`, reopenFlags);
      fs.closeSync(keep);
      fs.rmSync(capture, { force: true });
      return fn();
    }
  } catch {
    if (keep >= 0) fs.closeSync(keep);
    return fn();
  }
  try {
    return fn();
  } finally {
    fs.closeSync(2);
    fs.openSync(`/proc/self/fd/${keep}`, reopenFlags); // the lowest free descriptor: 2 again
    fs.closeSync(keep);
    if (alsoStdout) {
      const k1 = fs.openSync('/proc/self/fd/1', reopenFlags);
      fs.closeSync(1);
      fs.openSync(`/proc/self/fd/${k1}`, reopenFlags);
      fs.closeSync(k1);
    }
    let text = '';
    try {
      text = fs.readFileSync(capture, 'utf8');
    } catch {
      /* nothing captured */
    }
    fs.rmSync(capture, { force: true });
    const rest = filterNativeStartupLog(text);
    if (rest) fs.writeSync(2, rest);
  }
}

function load(): { tf: Tf; info: EngineInfo } {
  // TensorFlow's C++ logging of CPU features etc. is noise for users (TF ≥ 2.16 also needs the capture below).
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const fpmath = fpmathFromEnv();
  if (fpmath !== 'fp32' && fpmath !== 'bf16') {
    process.stderr.write(`error: ${fpmath}\n`);
    process.exit(2);
  }
  // TensorFlow's own switch, read when its first oneDNN primitive is made. A TF_SET_ONEDNN_FPMATH_MODE set by hand is
  // cleared in float32, so engineInfo.fpmath (and the cache keys and fingerprints built on it) says what really ran.
  if (fpmath === 'bf16') process.env.TF_SET_ONEDNN_FPMATH_MODE = 'BF16';
  else delete process.env.TF_SET_ONEDNN_FPMATH_MODE;
  const errors: string[] = [];
  const candidates: string[] = [];
  if (process.env.UNIFIED_AD_ENGINE !== 'js') {
    if (cudaPresent()) candidates.push('@tensorflow/tfjs-node-gpu');
    candidates.push('@tensorflow/tfjs-node');
  }
  for (const pkg of candidates) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const tf = withNativeStderrFiltered(() => {
        const t = require(pkg) as Tf;
        t.getBackend(); // the backend (and TensorFlow's context) starts here: inside the capture
        return t;
      });
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
        fpmath,
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
    info: { backend: 'cpu', package: '@tensorflow/tfjs', tfVersion: null, tfjsVersion: tf.version_core, gpu: false, threads: null, fpmath: 'fp32', fallbackReason: reason },
  };
}

const loaded = load();
/** The tfjs namespace backed by the best available engine. */
export const tf: Tf = loaded.tf;
export const engineInfo: EngineInfo = loaded.info;
// shape-like kernels with cached int32 arguments (fast-kernels.ts; bit-identical); UNIFIED_AD_GENERIC_OPS=1 keeps tfjs-node's
if (engineInfo.backend === 'tensorflow' && process.env.UNIFIED_AD_GENERIC_OPS !== '1') installFastKernels(tf);

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
