// Sharding a grid of independent runs: shard i of n (0-based) takes the cells whose index ≡ i (mod n), so
// every shard gets a similar mix of methods. Slurm: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT;
// Kubernetes indexed Jobs: --shard $JOB_COMPLETION_INDEX/<completions>.
import { UserError } from '@unified-ad/core';

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(s: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  if (!m) throw new UserError(`--shard '${s}': expected i/n with 0 <= i < n, e.g. 0/4`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index >= count) throw new UserError(`--shard '${s}': expected i/n with 0 <= i < n (i is 0-based)`);
  return { index, count };
}

export function inShard<T>(items: T[], shard: Shard | null): T[] {
  if (!shard) return items;
  return items.filter((_, i) => i % shard.count === shard.index);
}
