// Calling TensorFlow kernels directly through tfjs-node's backend, for the few ops tfjs composes slowly or does not
// expose (fused linear pieces, oneDNN softmax, stateless random, uint8 masks). One place for the plumbing.
import type { Tensor } from '@tensorflow/tfjs-node';
import { tf, engineInfo } from './engine';

export type NativeAttr = { name: string; type: number; value: unknown };
type NativeBackend = {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_BOOL: number; TF_ATTR_STRING: number; TF_FLOAT: number; TF_INT32: number };
  executeSingleOutput(name: string, attrs: NativeAttr[], inputs: Tensor[]): Tensor;
};

/** TF_DataType of uint8 (tfjs-node's binding does not export it; tfjs labels such handles int32). */
export const TF_UINT8 = 4;

const backend = () => tf.backend() as unknown as NativeBackend;
/** tfjs-node's binding constants (TF_FLOAT, TF_INT32, ...). */
export const tfTypes = () => backend().binding;
export const typeAttr = (name: string, value: number): NativeAttr => ({ name, type: backend().binding.TF_ATTR_TYPE, value });
export const boolAttr = (name: string, value: boolean): NativeAttr => ({ name, type: backend().binding.TF_ATTR_BOOL, value });
export const stringAttr = (name: string, value: string): NativeAttr => ({ name, type: backend().binding.TF_ATTR_STRING, value });

/** Runs one TensorFlow kernel eagerly. */
export function runNative(op: string, attrs: NativeAttr[], inputs: Tensor[]): Tensor {
  return backend().executeSingleOutput(op, attrs, inputs);
}

/** True on the tfjs-node (TensorFlow) engine. */
export const isNativeEngine = (): boolean => engineInfo.backend === 'tensorflow' && tf.getBackend() === 'tensorflow';

/** True when the fused native kernels and byte dropout masks are used (native engine, UNIFIED_AD_GENERIC_OPS not 1). */
export const nativeKernels = (): boolean => isNativeEngine() && process.env.UNIFIED_AD_GENERIC_OPS !== '1';
