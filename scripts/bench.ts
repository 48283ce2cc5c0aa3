// `npm run bench`: prints ONE JSON line with the project's speed figures (progress notes go to stderr).
// (require, not import(): packages are TypeScript run through ts-node's CommonJS hook.)
// Each package contributes its keys; a part that cannot run here (e.g. no ../shared weights) is skipped with a note.
import { engineInfo, fusedOps, fusedOpsStatus, matmulGflops, nn } from '@unified-ad/core';

type Part = { name: string; run: () => Promise<Record<string, number | string>> };

const parts: Part[] = [
  { name: 'engine', run: async () => ({ engine: engineInfo.backend, tf_version: engineInfo.tfVersion ?? 'none', matmul_gflops: Math.round(matmulGflops(1024, 10) * 10) / 10, fused_kernels: fusedOps() ? 'on' : fusedOpsStatus(), bf16_gemm: nn.bf16GemmStatus() }) },
  { name: 'features', run: async () => (require('@unified-ad/datasets') as typeof import('@unified-ad/datasets')).benchFeatures() },
  { name: 'eval', run: async () => (require('@unified-ad/eval') as typeof import('@unified-ad/eval')).benchEval() },
  { name: 'uniad', run: async () => (require('@unified-ad/models-uniad') as typeof import('@unified-ad/models-uniad')).benchUniAD() },
  // the same UniAD step in PyTorch on this machine at the same time (skipped when python3 has no torch)
  { name: 'uniad-torch', run: async () => (require('@unified-ad/models-uniad') as typeof import('@unified-ad/models-uniad')).benchUniADTorch() },
  { name: 'baselines', run: async () => { const m = require('@unified-ad/models-baselines') as { benchBaselines?: () => Promise<Record<string, number>> }; return m.benchBaselines ? m.benchBaselines() : {}; } },
];

// method packages contribute their own part by exporting `benchMethods()` (found like every method package)
{
  const path = require('node:path') as typeof import('node:path');
  const { findMethodPackages } = require('@unified-ad/engine') as typeof import('@unified-ad/engine');
  for (const p of findMethodPackages(path.resolve(__dirname, '..'))) {
    const name = path.basename(p.dir).replace(/^models-/, '');
    if (parts.some((x) => x.name === name)) continue;
    parts.push({ name, run: async () => { const m = require(p.entry) as { benchMethods?: () => Promise<Record<string, number>> }; return m.benchMethods ? m.benchMethods() : {}; } });
  }
}

async function main() {
  const only = process.argv.slice(2);
  const out: Record<string, number | string> = {};
  for (const p of parts) {
    if (only.length && !only.includes(p.name)) continue;
    const t0 = Date.now();
    try {
      Object.assign(out, await p.run());
      process.stderr.write(`bench ${p.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (e) {
      process.stderr.write(`bench ${p.name}: skipped (${(e as Error).message.split('\n')[0]})\n`);
    }
  }
  // UniAD against PyTorch, measured in this same run (time ratios, < 1 = faster than PyTorch)
  Object.assign(out, (require('@unified-ad/models-uniad') as typeof import('@unified-ad/models-uniad')).uniadTorchRatios(out));
  process.stdout.write(JSON.stringify(out) + '\n');
}

main();
