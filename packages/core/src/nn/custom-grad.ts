// tf.customGrad for n-ary functions: `forward` gets the inputs and `save`, returns the value and its gradient function.
import type { Tensor } from '@tensorflow/tfjs-node';
import { tf } from '../engine';

export type Grad = (dy: Tensor, saved: Tensor[]) => Tensor[];
export type Custom = (...args: Tensor[]) => Tensor;

export function custom(forward: (inputs: Tensor[], save: (t: Tensor[]) => void) => { value: Tensor; gradFunc: Grad }): Custom {
  // tf.customGrad passes the inputs then `save`; its typings only describe fixed arities
  const f = tf.customGrad(((...args: unknown[]) => {
    const save = args.pop() as (t: Tensor[]) => void;
    return forward(args as Tensor[], save);
  }) as never);
  return f as unknown as Custom;
}
