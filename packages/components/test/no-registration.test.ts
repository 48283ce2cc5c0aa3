import { describe, it, expect } from 'vitest';
import { listModels } from '@unified-ad/core';

describe('@unified-ad/components', () => {
  it('registers nothing when imported', async () => {
    const before = listModels().map((e) => e.name);
    const mod = await import('../src/index.js');
    expect(typeof mod.draemAugment).toBe('function');
    expect(listModels().map((e) => e.name)).toEqual(before);
  });
});
