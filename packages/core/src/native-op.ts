// Calling TensorFlow kernels directly through tfjs-node's backend, for the few ops tfjs composes slowly or does not
// expose (fused linear pieces, oneDNN softmax, stateless random, uint8 masks). One place for the plumbing.
import type { Tensor } from '@tensorflow/tfjs-node';
import { tf, engineInfo } from './engine';

export type NativeAttr = { name: string; type: number; value: unknown };
type NativeBackend = {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_BOOL: number; TF_ATTR_STRING: number; TF_ATTR_INT: number; TF_ATTR_FLOAT: number; TF_FLOAT: number; TF_INT32: number };
  executeSingleOutput(name: string, attrs: NativeAttr[], inputs: Tensor[]): Tensor;
};

/** TF_DataType of uint8 (tfjs-node's binding does not export it; tfjs labels such handles int32). */
export const TF_UINT8 = 4;
/** TF_DataType of bfloat16: tfjs has no such dtype; handles of it are labelled int32 (see `castNative`) and may only
 * be passed to native ops with explicit type attributes, never read. */
export const TF_BFLOAT16 = 14;

const backend = () => tf.backend() as unknown as NativeBackend;
/** tfjs-node's binding constants (TF_FLOAT, TF_INT32, ...). */
export const tfTypes = () => backend().binding;
export const typeAttr = (name: string, value: number): NativeAttr => ({ name, type: backend().binding.TF_ATTR_TYPE, value });
export const boolAttr = (name: string, value: boolean): NativeAttr => ({ name, type: backend().binding.TF_ATTR_BOOL, value });
export const stringAttr = (name: string, value: string): NativeAttr => ({ name, type: backend().binding.TF_ATTR_STRING, value });

/** A list(string) attribute (e.g. `fused_ops`): needs the binding patch that `npm run setup` applies (see `listAttrs`). */
export const stringListAttr = (name: string, value: string[]): NativeAttr => ({ name, type: backend().binding.TF_ATTR_STRING, value });

/**
 * A capability of this TensorFlow build, probed on first use and remembered: `check` runs a tiny kernel (inside
 * tf.tidy) and returns true, or returns false / throws when the kernel or attribute is missing.
 */
export function probeOnce(check: () => boolean): () => boolean {
  let ok: boolean | null = null;
  return () => {
    if (ok === null) {
      try {
        ok = tf.tidy(check);
      } catch {
        ok = false;
      }
    }
    return ok;
  };
}

/**
 * True when this binding can set list(string) attributes, i.e. it was built with unified-ad's patch
 * (`patchBindingSource` in scripts/setup-engine.js, applied by `npm run setup`). The stock tfjs-node binding reads only
 * single strings and fails on a list; then the fused kernels that need one (`_FusedMatMul`) are not used.
 * Checked once, with a 1×1 fused product.
 */
export const listAttrs = probeOnce(() => {
  if (!isNativeEngine()) return false;
  const one = tf.ones([1, 1]);
  return runNative('_FusedMatMul', [...fusedMatMulAttrs(['BiasAdd']), typeAttr('T', tfTypes().TF_FLOAT)], [one, one, tf.ones([1])]).dataSync()[0] === 2;
});

/** The attributes of TensorFlow's `_FusedMatMul` but T (x·W then `ops`, e.g. ['BiasAdd', 'Relu']; no transposes). */
export function fusedMatMulAttrs(ops: string[]): NativeAttr[] {
  const b = backend().binding;
  return [
    boolAttr('transpose_a', false),
    boolAttr('transpose_b', false),
    { name: 'num_args', type: b.TF_ATTR_INT, value: 1 },
    stringListAttr('fused_ops', ops),
    { name: 'epsilon', type: b.TF_ATTR_FLOAT, value: 1e-4 },
    { name: 'leakyrelu_alpha', type: b.TF_ATTR_FLOAT, value: 0.2 },
  ];
}

/** Runs one TensorFlow kernel eagerly. */
export function runNative(op: string, attrs: NativeAttr[], inputs: Tensor[]): Tensor {
  return backend().executeSingleOutput(op, attrs, inputs);
}

let bf16Handles = false;
/** tfjs-node rejects outputs of a dtype it lacks; label bfloat16 outputs like uint8 ones (int32), once. */
function allowBf16Handles(): void {
  if (bf16Handles) return;
  const proto = Object.getPrototypeOf(backend()) as { createOutputTensor: (md: { dtype: number }) => Tensor };
  const create = proto.createOutputTensor;
  proto.createOutputTensor = function (this: NativeBackend, md: { dtype: number }) {
    return create.call(this, md.dtype === TF_BFLOAT16 ? { ...md, dtype: TF_UINT8 } : md);
  };
  bf16Handles = true;
}

/** TF Cast between two TF_DataTypes (e.g. float32 → bfloat16 and back). */
export function castNative(x: Tensor, src: number, dst: number): Tensor {
  if (dst === TF_BFLOAT16) allowBf16Handles();
  return runNative('Cast', [typeAttr('SrcT', src), typeAttr('DstT', dst), boolAttr('Truncate', false)], [x]);
}

/** True on the tfjs-node (TensorFlow) engine. */
export const isNativeEngine = (): boolean => engineInfo.backend === 'tensorflow' && tf.getBackend() === 'tensorflow';

/** True when the fused native kernels and byte dropout masks are used (native engine, UNIFIED_AD_GENERIC_OPS not 1). */
export const nativeKernels = (): boolean => isNativeEngine() && process.env.UNIFIED_AD_GENERIC_OPS !== '1';
