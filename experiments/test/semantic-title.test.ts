// The semantic table names the dataset it ran on (moved here from the engine's integrity tests: packages never
// import the application).
import { describe, it, expect } from 'vitest';
import { semanticTable } from '../src/experiments/semantic';

describe('semantic table title', () => {
  it('the semantic table names the dataset it ran on', () => {
    const cell = (type: string, root: string, v: string) =>
      ({ cell: { key: v, method: 'padim', setting: 'unified', group: 'all', seed: 0, variant: v, config: { data: { type, root } } }, result: { mean: { i_auroc: 90 } }, dir: '' }) as never;
    expect(semanticTable([cell('fashion-mnist', '/d/fashion', 'normal-01234')], 'smoke').title).toMatch(/^Semantic anomaly detection on Fashion-MNIST \(fashion\)/);
    expect(semanticTable([cell('cifar10', '/d/cifar-10-batches-bin', 'normal-01234')], 'smoke').title).toMatch(/on CIFAR-10 \(cifar-10-batches-bin\)/);
  });
});
