// `uniad info`: engine, versions, threads, registered methods and backbones, data/weights found, a quick GFLOP/s.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cacheDir, engineInfo, listModels, matmulGflops, repoRoot, sharedDir, sharedPath } from '@unified-ad/core';
import { listBackbones } from '@unified-ad/backbones';

function version(pkg: string): string {
  // package.json may be hidden by an "exports" map: find the package folder from its resolved entry point
  try {
    let dir = path.dirname(require.resolve(pkg));
    for (;;) {
      const f = path.join(dir, 'package.json');
      if (fs.existsSync(f)) {
        const pj = JSON.parse(fs.readFileSync(f, 'utf8')) as { name?: string; version?: string };
        if (pj.name === pkg && pj.version) return pj.version;
      }
      const up = path.dirname(dir);
      if (up === dir) return '-';
      dir = up;
    }
  } catch {
    return '-';
  }
}

export interface InfoReport {
  project: string;
  engine: typeof engineInfo;
  node: string;
  versions: Record<string, string>;
  cpus: number;
  cpu_model: string | undefined;
  threads: string;
  memory_gb: number;
  models: { name: string; family: string; inputs: string; paper: string; description: string }[];
  backbones: string[];
  shared: string | null;
  shared_data: string[];
  cache: string;
  matmul_gflops?: number;
}

export function collectInfo(bench: boolean): InfoReport {
  const root = repoRoot();
  const pj = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  const data = sharedPath('data');
  const r: InfoReport = {
    project: `${pj.name} ${pj.version}`,
    engine: engineInfo,
    node: process.version,
    versions: {
      '@tensorflow/tfjs-node': version('@tensorflow/tfjs-node'),
      '@tensorflow/tfjs': version('@tensorflow/tfjs'),
      sharp: version('sharp'),
      vega: version('vega'),
      zod: version('zod'),
    },
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    threads: process.env.TF_NUM_INTRAOP_THREADS ? `TF_NUM_INTRAOP_THREADS=${process.env.TF_NUM_INTRAOP_THREADS}` : `TensorFlow default (one per core: ${os.cpus().length})`,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    models: listModels().map((m) => ({ name: m.name, family: m.family ?? '', inputs: describeInputs(m), paper: m.paperName ?? '', description: m.description })),
    backbones: listBackbones(),
    shared: sharedDir(),
    shared_data: data ? fs.readdirSync(data).filter((d) => !d.startsWith('.')) : [],
    cache: cacheDir(),
  };
  if (bench) r.matmul_gflops = Math.round(matmulGflops(1024, 10) * 10) / 10;
  return r;
}

export function formatInfo(r: InfoReport): string {
  const e = r.engine;
  const lines = [
    `unified-ad      ${r.project}`,
    `engine          ${e.backend} (${e.package}${e.tfVersion ? `, TensorFlow ${e.tfVersion}` : ''}, tfjs ${e.tfjsVersion}${e.gpu ? ', GPU' : ''})`,
  ];
  if (e.fallbackReason) lines.push(`engine note     ${e.fallbackReason}`);
  if (e.fpmath === 'bf16') lines.push('math mode       bf16 (UNIFIED_AD_FPMATH: oneDNN matmuls and convolutions on bfloat16 kernels)');
  lines.push(
    `node            ${r.node}`,
    `versions        ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `cpu             ${r.cpus} × ${r.cpu_model ?? '?'}, ${r.memory_gb} GiB`,
    `threads         ${r.threads}`,
  );
  if (r.matmul_gflops !== undefined) lines.push(`matmul          ${r.matmul_gflops} GFLOP/s (float32 1024³)`);
  lines.push(`models          ${r.models.map((m) => `${m.name} (${[m.family, m.inputs].filter(Boolean).join(", ")})`).join("; ") || "(none)"}`);
  for (const m of r.models) lines.push(`  ${m.name.padEnd(13)} ${m.description}`);
  lines.push(
    `backbones       ${r.backbones.join(', ')}`,
    `shared          ${r.shared ?? 'not found (../shared or $UNIFIED_AD_SHARED): real-data experiments need --root'}${r.shared_data.length ? ` (data: ${r.shared_data.join(', ')})` : ''}`,
    `cache           ${r.cache}`,
  );
  return lines.join('\n');
}

/** "features 14×14", "images 256²", or both (with the method's default config). */
function describeInputs(m: ReturnType<typeof listModels>[number]): string {
  let inputs;
  try {
    inputs = typeof m.inputs === 'function' ? m.inputs(m.configSchema.parse({})) : m.inputs;
  } catch {
    return '?';
  }
  return [inputs.features ? `features ${inputs.features.size}×${inputs.features.size}` : '', inputs.images ? `images ${inputs.images.size}²` : ''].filter(Boolean).join(' + ');
}
