import { spawnSync } from 'node:child_process';
import type { Tensor3D, Tensor4D, Scalar } from '@tensorflow/tfjs-node';
import { expect } from 'vitest';
import { tf, nn, Rng, type Reconstructor, type Prediction } from '../src';

/** A tiny token-wise MLP reconstructor with dropout, for trainer tests. */
export class TinyMlp extends nn.Module implements Reconstructor {
  kind = 'trainable' as const;
  l1: nn.Linear;
  l2: nn.Linear;
  constructor(c: number, hidden: number, rng: Rng, readonly drop = 0.1) {
    super();
    this.l1 = this.addChild('l1', new nn.Linear(c, hidden, rng));
    this.l2 = this.addChild('l2', new nn.Linear(hidden, c, rng));
  }
  forward(x: Tensor4D, rng: Rng | null): Tensor4D {
    return this.l2.apply(nn.dropout(this.l1.apply(x, 'relu'), this.drop, rng)) as Tensor4D;
  }
  loss(batch: Tensor4D, rng: Rng): Scalar {
    const noisy = batch.add(rng.normalTensor(batch.shape, 0, 0.1));
    return tf.losses.meanSquaredError(batch, this.forward(noisy as Tensor4D, rng)) as Scalar;
  }
  predict(batch: Tensor4D): Prediction {
    return tf.tidy(() => ({ maps: this.forward(batch, null).sub(batch).square().sum(-1).sqrt() as Tensor3D }));
  }
}

export function structuredFeatures(n: number, h: number, c: number, seed: number): Tensor4D {
  return tf.tidy(() => {
    const rng = new Rng(seed);
    const basis = rng.normalTensor([4, c]);
    const coef = rng.normalTensor([n * h * h, 4]);
    return tf.matMul(coef, basis).reshape([n, h, h, c]) as Tensor4D;
  });
}

/**
 * What `script` (CommonJS, run in a child Node with ts-node) prints last, with TF_NUM_INTRAOP_THREADS = `threads`:
 * the determinism tests print a hash of their results and compare thread counts.
 */
export function lastLineWithThreads(script: string, threads: string): string | undefined {
  const c = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, TF_NUM_INTRAOP_THREADS: threads, TF_CPP_MIN_LOG_LEVEL: '3' },
    timeout: 120_000,
  });
  expect(c.status, c.stderr).toBe(0);
  return c.stdout.trim().split('\n').pop();
}
