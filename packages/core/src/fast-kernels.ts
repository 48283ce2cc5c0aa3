// tfjs-node runs a reshape, a reduction, a transpose, a tile, a slice or a concat as one TensorFlow op whose shape /
// axes / permutation argument is an int32 tensor, and it makes that tensor anew on every call (a tfjs tensor through
// the engine, then a TensorFlow handle from its values) and deletes it afterwards; its Mean also casts float32 input
// to float32 first, one more kernel. A transformer training step calls these a few hundred times. The kernels here
// are the same TensorFlow ops with the same attributes, but their int32 arguments are native handles kept in a cache
// (made once per distinct value, outside the engine's bookkeeping, so `tf.memory()` is unaffected), and Mean of
// float32 runs without the cast. Results are bit-identical. Installed once by engine.ts on the native engine.
import type { KernelConfig, Tensor, TensorInfo } from '@tensorflow/tfjs-node';
import type { Tf } from './engine';

type Attr = { name: string; type: number; value: unknown };
interface Binding {
  TF_ATTR_TYPE: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_INT: number;
  TF_INT32: number;
  createTensor(shape: number[], dtype: number, values: Int32Array): number;
  deleteTensor(id: number): void;
  executeOp(name: string, attrs: Attr[], inputs: number[], outputs: number): unknown[];
}
interface Backend {
  binding: Binding;
  getDTypeInteger(dtype: string): number;
  getInputTensorIds(tensors: TensorInfo[]): number[];
  createOutputTensor(metadata: unknown): Tensor;
}

/** Distinct int32 arguments kept at most (a few elements each); past this, an argument is made and deleted per call. */
const MAX_CACHED = 4096;

/** The re-registered kernels' names. */
export const FAST_KERNELS = ['Reshape', 'Sum', 'Mean', 'Max', 'Min', 'Prod', 'Transpose', 'Tile', 'ExpandDims', 'Slice', 'Concat'] as const;

/** tfjs-node's own kernels of FAST_KERNELS, as found by the first install */
let tfjsNodeKernels: (KernelConfig | undefined)[] | null = null;

function register(tf: Tf, configs: (KernelConfig | undefined)[]): void {
  FAST_KERNELS.forEach((k, i) => {
    const c = configs[i];
    if (!c) return;
    tf.unregisterKernel(k, 'tensorflow');
    tf.registerKernel(c);
  });
}

/** Puts tfjs-node's own kernels back (the tests compare both); installFastKernels installs the fast ones again. */
export function restoreTfjsNodeKernels(tf: Tf): void {
  if (tfjsNodeKernels) register(tf, tfjsNodeKernels);
}

/** Replaces tfjs-node's kernels of FAST_KERNELS by ones that pass cached int32 handles. */
export function installFastKernels(tf: Tf): void {
  const be = tf.backend() as unknown as Backend;
  const b = be.binding;
  const cache = new Map<string, number>();
  /** a native int32 handle holding `values` (a scalar when `scalar`), and whether the caller must delete it */
  const int32 = (values: readonly number[], scalar = false): [number, boolean] => {
    const key = (scalar ? 's' : 'v') + values.join(',');
    const hit = cache.get(key);
    if (hit !== undefined) return [hit, false];
    const id = b.createTensor(scalar ? [] : [values.length], b.TF_INT32, Int32Array.from(values));
    if (cache.size >= MAX_CACHED) return [id, true];
    cache.set(key, id);
    return [id, false];
  };
  /** one op with tensor inputs, then int32 arguments */
  const run = (op: string, attrs: Attr[], tensors: TensorInfo[], args: [number, boolean][]): Tensor => {
    const ids = be.getInputTensorIds(tensors);
    for (const [id] of args) ids.push(id);
    try {
      return be.createOutputTensor(b.executeOp(op, attrs, ids, 1)[0]);
    } finally {
      for (const [id, temporary] of args) if (temporary) b.deleteTensor(id);
    }
  };
  const type = (name: string, dtype: string): Attr => ({ name, type: b.TF_ATTR_TYPE, value: be.getDTypeInteger(dtype) });
  const int32Type = (name: string): Attr => ({ name, type: b.TF_ATTR_TYPE, value: b.TF_INT32 });
  const reduction = (x: TensorInfo, keepDims: boolean): Attr[] => [{ name: 'keep_dims', type: b.TF_ATTR_BOOL, value: keepDims }, type('T', x.dtype), int32Type('Tidx')];
  const axes = (axis: number | number[], x: TensorInfo) => int32(tf.util.parseAxisParam(axis, x.shape));

  type Args = { inputs: Record<string, TensorInfo> & TensorInfo[]; attrs: Record<string, never> };
  const kernels: Record<(typeof FAST_KERNELS)[number], (a: Args) => Tensor> = {
    Reshape: ({ inputs: { x }, attrs: { shape } }) => run('Reshape', [type('T', x!.dtype), int32Type('Tshape')], [x!], [int32(shape)]),
    Sum: ({ inputs: { x }, attrs: { axis, keepDims } }) => run('Sum', reduction(x!, keepDims), [x!], [axes(axis, x!)]),
    Mean: ({ inputs: { x }, attrs: { axis, keepDims } }) => {
      // tfjs-node's Mean casts every input to float32; for float32 that is a copy
      const input = x!.dtype === 'float32' ? x! : tf.cast(x as never, 'float32');
      try {
        return run('Mean', reduction(input, keepDims), [input], [axes(axis, x!)]);
      } finally {
        if (input !== x) (input as Tensor).dispose();
      }
    },
    Max: ({ inputs: { x }, attrs: { reductionIndices, keepDims } }) => run('Max', reduction(x!, keepDims), [x!], [axes(reductionIndices, x!)]),
    Min: ({ inputs: { x }, attrs: { axis, keepDims } }) => run('Min', reduction(x!, keepDims), [x!], [axes(axis, x!)]),
    Prod: ({ inputs: { x }, attrs: { axis, keepDims } }) => run('Prod', reduction(x!, keepDims), [x!], [axes(axis, x!)]),
    Transpose: ({ inputs: { x }, attrs: { perm } }) => run('Transpose', [type('T', x!.dtype), int32Type('Tperm')], [x!], [int32(perm)]),
    Tile: ({ inputs: { x }, attrs: { reps } }) => run('Tile', [type('T', x!.dtype), int32Type('Tmultiples')], [x!], [int32(reps)]),
    ExpandDims: ({ inputs: { input }, attrs: { dim } }) => run('ExpandDims', [type('T', input!.dtype), int32Type('Tdim')], [input!], [int32([dim], true)]),
    Slice: ({ inputs: { x }, attrs: { begin, size } }) => {
      const [b0, s0] = tf.backend_util.slice_util.parseSliceParams(x as never, begin, size);
      return run('Slice', [type('T', x!.dtype), int32Type('Index')], [x!], [int32(b0), int32(s0)]);
    },
    Concat: ({ inputs, attrs: { axis } }) => {
      const tensors = Array.from(inputs as TensorInfo[]);
      const attrs: Attr[] = [{ name: 'N', type: b.TF_ATTR_INT, value: tensors.length }, int32Type('Tidx'), type('T', tensors[0]!.dtype)];
      return run('ConcatV2', attrs, tensors, [int32([axis], true)]);
    },
  };
  tfjsNodeKernels ??= FAST_KERNELS.map((k) => tf.getKernel(k, 'tensorflow'));
  register(tf, FAST_KERNELS.map((k) => ({ kernelName: k, backendName: 'tensorflow', kernelFunc: kernels[k] as never })));
}
