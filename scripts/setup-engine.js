#!/usr/bin/env node
// Sets up the native TensorFlow engine behind @tensorflow/tfjs-node (and -gpu where CUDA is present).
//
// Order of attempts, first that yields a loadable binding wins:
//   1. the binding already loads                              -> nothing to do
//   2. a previously built engine in the cache folder          -> hard-link / copy it in
//   3. the package's stock install script (downloads libtensorflow 2.9.1; needs internet)
//   4. offline: libtensorflow from the `tensorflow-cpu` wheel (pip's index, local or PyPI),
//      then build the addon against it with node-gyp
// If all fail, it prints a loud warning: the framework then runs on the pure-JS CPU backend (~200x slower).
//
// Plain Node.js only (runs before anything is built). Env:
//   UNIFIED_AD_ENGINE_CACHE  cache folder (default ~/.cache/unified-ad/engine)
//   UNIFIED_AD_TF_WHEEL      tensorflow-cpu version for the wheel route (default 2.21.0)
//   UNIFIED_AD_SKIP_STOCK=1  skip the stock (downloading) install
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const cp = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const CACHE = process.env.UNIFIED_AD_ENGINE_CACHE || path.join(os.homedir(), '.cache', 'unified-ad', 'engine');
const TF_WHEEL = process.env.UNIFIED_AD_TF_WHEEL || '2.21.0';

function log(msg) { console.log(`[setup-engine] ${msg}`); }

function pkgDir(name) {
  try { return path.dirname(require.resolve(`${name}/package.json`, { paths: [ROOT] })); } catch { return null; }
}

function bindingLoads(name) {
  const r = cp.spawnSync(process.execPath, ['-e',
    `const tf=require(${JSON.stringify(name)}); if (tf.getBackend()!=='tensorflow') process.exit(3); console.log(tf.backend().binding.TF_Version)`],
    { cwd: ROOT, encoding: 'utf8', timeout: 120000 });
  return r.status === 0 ? (r.stdout.trim().split('\n').pop() || 'unknown') : null;
}

function hasCuda() {
  const r = cp.spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' });
  return r.status === 0 && /GPU/.test(r.stdout || '');
}

function cacheKey(name, dir) {
  const ver = require(path.join(dir, 'package.json')).version;
  return `${name.replace('/', '+')}-${ver}-napi${process.versions.napi}-${process.platform}-${process.arch}`;
}

function linkOrCopyTree(src, dst) {
  fs.mkdirSync(dst, { recursive: true });
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, e.name), d = path.join(dst, e.name);
    if (e.isDirectory()) linkOrCopyTree(s, d);
    else if (e.isSymbolicLink()) { try { fs.rmSync(d, { force: true }); } catch {} fs.symlinkSync(fs.readlinkSync(s), d); }
    else { try { fs.rmSync(d, { force: true }); fs.linkSync(s, d); } catch { fs.copyFileSync(s, d); } }
  }
}

function fromCache(name, dir) {
  const c = path.join(CACHE, cacheKey(name, dir));
  if (!fs.existsSync(path.join(c, 'complete'))) return false;
  log(`using cached engine ${c}`);
  for (const sub of ['deps', 'lib']) { fs.rmSync(path.join(dir, sub), { recursive: true, force: true }); linkOrCopyTree(path.join(c, sub), path.join(dir, sub)); }
  return true;
}

function toCache(name, dir) {
  const c = path.join(CACHE, cacheKey(name, dir));
  try {
    fs.rmSync(c, { recursive: true, force: true });
    for (const sub of ['deps', 'lib']) linkOrCopyTree(path.join(dir, sub), path.join(c, sub));
    fs.writeFileSync(path.join(c, 'complete'), new Date().toISOString());
    log(`cached engine in ${c}`);
  } catch (e) { log(`could not cache engine (${e.message}); continuing`); }
}

function nodeDir() {
  // node-gyp needs Node's headers; with no internet they must be local (<prefix>/include/node).
  for (const p of [process.env.npm_config_nodedir, path.resolve(path.dirname(process.execPath), '..'), '/usr', '/usr/local']) {
    if (p && fs.existsSync(path.join(p, 'include', 'node', 'node_api.h'))) return p;
  }
  return undefined;
}

function runInstallJs(dir, extraEnv, timeoutMs) {
  const env = { ...process.env, ...extraEnv };
  const nd = nodeDir();
  if (nd) env.npm_config_nodedir = nd;
  // node-pre-gyp and node-gyp come from the workspace's node_modules/.bin
  env.PATH = [path.join(ROOT, 'node_modules', '.bin'), env.PATH].join(path.delimiter);
  const r = cp.spawnSync(process.execPath, ['scripts/install.js'], { cwd: dir, env, encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) log(`install.js failed (${r.status ?? r.signal}): ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  return r.status === 0;
}

function findPython() {
  for (const p of ['python3', 'python']) {
    const r = cp.spawnSync(p, ['-m', 'pip', '--version'], { encoding: 'utf8' });
    if (r.status === 0) return p;
  }
  return null;
}

function wheelRoute(dir) {
  const py = findPython();
  if (!py) { log('wheel route: no python with pip found'); return false; }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uad-tfwheel-'));
  try {
    log(`wheel route: pip download tensorflow-cpu==${TF_WHEEL} --no-deps`);
    let r = cp.spawnSync(py, ['-m', 'pip', 'download', `tensorflow-cpu==${TF_WHEEL}`, '--no-deps', '-d', tmp],
      { encoding: 'utf8', timeout: 15 * 60 * 1000 });
    if (r.status !== 0) { log(`pip download failed: ${(r.stderr || '').trim().split('\n').slice(-2).join(' | ')}`); return false; }
    const whl = fs.readdirSync(tmp).find((f) => f.endsWith('.whl'));
    if (!whl) { log('pip download produced no wheel'); return false; }
    const deps = path.join(dir, 'deps');
    fs.rmSync(deps, { recursive: true, force: true });
    fs.mkdirSync(path.join(deps, 'lib'), { recursive: true });
    const extract = `
import sys, zipfile, os, shutil
whl, deps = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(whl)
for n in z.namelist():
    if n in ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'):
        dst = os.path.join(deps, 'lib', os.path.basename(n))
    elif n.startswith('tensorflow/include/') and not n.endswith('/'):
        dst = os.path.join(deps, 'include', n[len('tensorflow/include/'):])
    else:
        continue
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with z.open(n) as src, open(dst, 'wb') as out:
        shutil.copyfileobj(src, out, 1 << 22)
`;
    log('wheel route: extracting libtensorflow_cc, libtensorflow_framework and headers');
    r = cp.spawnSync(py, ['-c', extract, path.join(tmp, whl), deps], { encoding: 'utf8' });
    if (r.status !== 0) { log(`extract failed: ${r.stderr}`); return false; }
    const lib = path.join(deps, 'lib');
    for (const [alias, target] of [
      ['libtensorflow.so', 'libtensorflow_cc.so.2'], ['libtensorflow.so.2', 'libtensorflow_cc.so.2'], ['libtensorflow.so.2.9.1', 'libtensorflow_cc.so.2'],
      ['libtensorflow_framework.so', 'libtensorflow_framework.so.2'], ['libtensorflow_framework.so.2.9.1', 'libtensorflow_framework.so.2'],
    ]) fs.symlinkSync(target, path.join(lib, alias));
    log('wheel route: building the addon with node-gyp (about a minute)');
    return runInstallJs(dir, {}, 20 * 60 * 1000);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function setup(name) {
  const dir = pkgDir(name);
  if (!dir) { log(`${name} is not installed; skipping`); return null; }
  let v = bindingLoads(name);
  if (v) { log(`${name}: native binding loads (TensorFlow ${v})`); return v; }
  if (fromCache(name, dir) && (v = bindingLoads(name))) { log(`${name}: ready from cache (TensorFlow ${v})`); return v; }
  if (process.env.UNIFIED_AD_SKIP_STOCK !== '1') {
    log(`${name}: trying the stock install (downloads libtensorflow; needs internet)`);
    if (runInstallJs(dir, {}, 10 * 60 * 1000) && (v = bindingLoads(name))) { toCache(name, dir); return v; }
  }
  if (name.endsWith('-gpu')) return null; // the CPU wheel cannot give a GPU engine
  if (wheelRoute(dir) && (v = bindingLoads(name))) { toCache(name, dir); log(`${name}: built offline (TensorFlow ${v})`); return v; }
  return null;
}

function main() {
  const started = Date.now();
  let ok = null;
  if (hasCuda()) {
    log('CUDA GPU detected: setting up @tensorflow/tfjs-node-gpu');
    ok = setup('@tensorflow/tfjs-node-gpu');
    if (!ok) log('GPU engine unavailable; falling back to the CPU engine');
  }
  const cpu = setup('@tensorflow/tfjs-node');
  ok = ok || cpu;
  if (!ok) {
    const bar = '!'.repeat(78);
    console.error(`${bar}\n! WARNING: no native TensorFlow engine could be set up.\n! unified-ad will run on the pure-JS 'cpu' backend, about 200x slower.\n! Fix: give this machine internet (stock install) or pip access to tensorflow-cpu==${TF_WHEEL},\n! then run: npm run setup:engine\n${bar}`);
    process.exitCode = 0; // not fatal: the framework still runs, loudly, on the slow backend
  } else {
    log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

main();
