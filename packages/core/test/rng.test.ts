import { describe, it, expect } from 'vitest';
import { Rng, tf } from '../src';

describe('Rng', () => {
  it('same seed gives the same stream, different seeds differ', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xa = Array.from({ length: 100 }, () => a.nextUint32());
    const xb = Array.from({ length: 100 }, () => b.nextUint32());
    const xc = Array.from({ length: 100 }, () => c.nextUint32());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
  });

  it('state round-trips: restoring continues the identical stream', () => {
    const a = new Rng(7);
    for (let i = 0; i < 13; i++) a.normal();
    const st = a.getState();
    const next = Array.from({ length: 10 }, () => a.normal());
    const b = new Rng(0);
    b.setState(st);
    expect(Array.from({ length: 10 }, () => b.normal())).toEqual(next);
  });

  it('uniform is in [0,1) with mean ~0.5; normal has mean ~0 and std ~1', () => {
    const r = new Rng(1);
    const u = Array.from({ length: 20000 }, () => r.next());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(Math.abs(u.reduce((s, x) => s + x, 0) / u.length - 0.5)).toBeLessThan(0.01);
    const n = Array.from({ length: 20000 }, () => r.normal());
    const m = n.reduce((s, x) => s + x, 0) / n.length;
    const sd = Math.sqrt(n.reduce((s, x) => s + (x - m) ** 2, 0) / n.length);
    expect(Math.abs(m)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });

  it('permutation is a permutation and tensor draws are reproducible', () => {
    const p = new Rng(3).permutation(50);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const t1 = new Rng(5).normalTensor([4, 4]).arraySync();
    const t2 = new Rng(5).normalTensor([4, 4]).arraySync();
    const t3 = new Rng(6).normalTensor([4, 4]).arraySync();
    expect(t1).toEqual(t2);
    expect(t1).not.toEqual(t3);
    expect(tf.getBackend()).toBe('tensorflow');
  });
});

describe('Rng tensors', () => {
  it('scaled draws leave no intermediate tensors behind', () => {
    const r = new Rng(9);
    const before = tf.memory().numTensors;
    const a = r.normalTensor([3, 3], 2, 5), b = r.uniformTensor([3, 3], -1, 1);
    expect(tf.memory().numTensors).toBe(before + 2);
    const u = b.dataSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...u)).toBeLessThan(1);
    a.dispose(); b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
