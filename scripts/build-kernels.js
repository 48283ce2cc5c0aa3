#!/usr/bin/env node
// Compiles unified-ad's fused CPU kernels (packages/core/native/uad_kernels.cc) into a Node addon linked against the
// libtensorflow of @tensorflow/tfjs-node (its deps/lib and deps/include, as the engine set-up left them), so the ops
// it registers land in the same TensorFlow as the engine's. Run by `npm run setup` after the engine; alone:
// `npm run setup:kernels`. Rebuilds only when the source, flags or libtensorflow changed (a stamp beside the addon).
// Without a C++ compiler, Node's headers or the engine's headers it says so and exits 0: the framework then runs
// every op as its TensorFlow composition (core fused-ops.ts), correct and slower.
//
// Env: CXX (default g++), UNIFIED_AD_KERNEL_FLAGS (replaces -march=native, e.g. for a build shared between CPUs).
'use strict';
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const crypto = require('crypto');

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'packages', 'core', 'native', 'uad_kernels.cc');
const OUT_DIR = path.join(ROOT, 'packages', 'core', 'native', 'build');
const OUT = path.join(OUT_DIR, 'uad_kernels.node');
const STAMP = `${OUT}.stamp`;

function log(msg) { console.log(`[build-kernels] ${msg}`); }

function nodeInclude() {
  for (const p of [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..'), '/usr', '/usr/local']) {
    if (p && fs.existsSync(path.join(p, 'include', 'node', 'node_api.h'))) return path.join(p, 'include', 'node');
  }
  return null;
}

function main() {
  let tfjs;
  try { tfjs = path.dirname(require.resolve('@tensorflow/tfjs-node/package.json', { paths: [ROOT] })); } catch { tfjs = null; }
  const inc = tfjs && path.join(tfjs, 'deps', 'include');
  const libDir = tfjs && path.join(tfjs, 'deps', 'lib');
  const framework = libDir && path.join(libDir, 'libtensorflow_framework.so.2');
  const nodeInc = nodeInclude();
  const missing = [
    !tfjs && '@tensorflow/tfjs-node',
    inc && !fs.existsSync(path.join(inc, 'tensorflow', 'c', 'kernels.h')) && `${inc}/tensorflow/c/kernels.h`,
    framework && !fs.existsSync(framework) && framework,
    !nodeInc && "Node's headers (include/node/node_api.h)",
  ].filter(Boolean);
  if (missing.length) {
    log(`skipped: ${missing.join(', ')} not found; the fused kernels stay off (TensorFlow compositions instead)`);
    return;
  }
  const cxx = process.env.CXX || 'g++';
  const arch = (process.env.UNIFIED_AD_KERNEL_FLAGS || '-march=native').split(/\s+/).filter(Boolean);
  const lib = fs.realpathSync(libDir);
  const args = ['-O3', ...arch, '-fopenmp-simd', '-fno-math-errno', '-ffp-contract=off', '-std=c++17', '-shared', '-fPIC', '-fvisibility=hidden',
    `-I${nodeInc}`, `-I${inc}`, SRC, `-L${lib}`, '-l:libtensorflow_framework.so.2', `-Wl,-rpath,${lib}`];
  const st = fs.statSync(fs.realpathSync(framework));
  // -march=native: the CPU's model and flags are part of what was built (a checkout moved to another CPU rebuilds)
  const cpu = (() => { try { return fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => /^(model name|flags)\s*:/.test(l)).slice(0, 2).join('\n'); } catch { return ''; } })();
  const key = crypto.createHash('sha256').update(fs.readFileSync(SRC)).update(JSON.stringify([cxx, args, st.size, st.mtimeMs, cpu])).digest('hex');
  if (fs.existsSync(OUT) && fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === key) {
    log('up to date');
    return;
  }
  fs.mkdirSync(OUT_DIR, { recursive: true });
  // write beside, then rename: a running process may have the old addon mapped
  const tmp = `${OUT}.${process.pid}.tmp`;
  const started = Date.now();
  const r = cp.spawnSync(cxx, [...args, '-o', tmp], { encoding: 'utf8', timeout: 5 * 60 * 1000 });
  if (r.status !== 0) {
    fs.rmSync(tmp, { force: true });
    const why = r.error ? r.error.message : (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ');
    log(`compile failed (${why}); the fused kernels stay off (TensorFlow compositions instead)`);
    return;
  }
  fs.renameSync(tmp, OUT);
  fs.writeFileSync(STAMP, key);
  log(`built ${path.relative(ROOT, OUT)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main();
