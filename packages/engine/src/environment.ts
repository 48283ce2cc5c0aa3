import { execSync } from 'node:child_process';
import * as os from 'node:os';
import { engineInfo, fusedOps, fusedOpsStatus, nn, repoRoot } from '@unified-ad/core';

/** What a run folder records about where it ran. */
export function describeEnvironment(seed: number): Record<string, unknown> {
  let commit: string | null = null;
  let dirty = false;
  try {
    commit = execSync('git rev-parse HEAD', { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    dirty = execSync('git status --porcelain', { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().length > 0;
  } catch {
    /* not a git checkout */
  }
  return {
    seed,
    git_commit: commit,
    git_dirty: dirty,
    engine: engineInfo,
    // unified-ad's fused CPU kernels (core fused-ops.ts): 'on', or why they were off
    fused_kernels: fusedOps() ? 'on' : fusedOpsStatus(),
    // unified-ad's bfloat16 products (core nn/bf16-matmul.ts), used when the run asks for bf16 products
    bf16_gemm: nn.bf16ProductsStatus(),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    started: new Date().toISOString(),
  };
}
