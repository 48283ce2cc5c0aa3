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
// Whichever route gave the binding, it is then patched to set list(string) op attributes (the stock binding
// reads single strings only; fused kernels such as _FusedMatMul take fused_ops as a list) and the addon is
// rebuilt from source against the same libtensorflow (~30 s); a binding without the patch still works, with
// the unfused kernels (core native-op.ts `listAttrs()`).
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

// One fused product that needs a list(string) attribute; prints 'lists' when the binding can set one.
const LIST_PROBE = `
const be = tf.backend(), B = be.binding;
try {
  const one = tf.ones([1, 1]);
  const y = be.executeSingleOutput('_FusedMatMul', [
    { name: 'transpose_a', type: B.TF_ATTR_BOOL, value: false }, { name: 'transpose_b', type: B.TF_ATTR_BOOL, value: false },
    { name: 'num_args', type: B.TF_ATTR_INT, value: 1 }, { name: 'fused_ops', type: B.TF_ATTR_STRING, value: ['BiasAdd'] },
    { name: 'epsilon', type: B.TF_ATTR_FLOAT, value: 1e-4 }, { name: 'leakyrelu_alpha', type: B.TF_ATTR_FLOAT, value: 0.2 },
    { name: 'T', type: B.TF_ATTR_TYPE, value: B.TF_FLOAT }], [one, one, tf.ones([1])]);
  if (y.dataSync()[0] === 2) console.log('lists');
} catch (e) {}`;

/** { version, lists } when the binding loads on the native backend, else null. */
function bindingCheck(name) {
  const r = cp.spawnSync(process.execPath, ['-e',
    `const tf=require(${JSON.stringify(name)}); if (tf.getBackend()!=='tensorflow') process.exit(3); console.log(tf.backend().binding.TF_Version); ${LIST_PROBE}`],
    { cwd: ROOT, encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) return null;
  const lines = r.stdout.trim().split('\n');
  return { version: lines[0] || 'unknown', lists: lines.includes('lists') };
}

const PATCH_MARK = 'unified-ad patch: list(string) attributes';
/** Lets AssignOpAttr (binding/tfjs_backend.cc) set list(string) attributes from a JS array; idempotent. */
function patchBindingSource(dir) {
  const f = path.join(dir, 'binding', 'tfjs_backend.cc');
  let src = fs.readFileSync(f, 'utf8');
  if (src.includes(PATCH_MARK)) return true;
  const anchor = '    case TF_ATTR_STRING: {\n';
  if (!src.includes(anchor)) { log(`cannot patch ${f}: no 'case TF_ATTR_STRING' found`); return false; }
  src = src.replace(anchor, `${anchor}      // ${PATCH_MARK}: a JS array sets list(string) (e.g. fused_ops)
      if (IsArray(env, nstatus, &js_value)) {
        uint32_t length;
        nstatus = napi_get_array_length(env, js_value, &length);
        ENSURE_NAPI_OK(env, nstatus);
        std::vector<std::string> strs(length);
        std::vector<const void *> ptrs(length);
        std::vector<size_t> lens(length);
        for (uint32_t i = 0; i < length; ++i) {
          napi_value element;
          nstatus = napi_get_element(env, js_value, i, &element);
          ENSURE_NAPI_OK(env, nstatus);
          nstatus = GetStringParam(env, element, strs[i]);
          ENSURE_NAPI_OK(env, nstatus);
          ptrs[i] = strs[i].data();
          lens[i] = strs[i].size();
        }
        TFE_OpSetAttrStringList(tfe_op, attr_name, ptrs.data(), lens.data(), static_cast<int>(length));
        break;
      }
`);
  src = src.replace('#include <string>\n', '#include <string>\n#include <vector>\n');
  fs.writeFileSync(f, src);
  return true;
}

/** Patches the binding source and rebuilds the addon from it, against the libtensorflow already in deps/. */
function rebuildPatched(name, dir) {
  if (!patchBindingSource(dir)) return false;
  log(`${name}: rebuilding the addon with list(string) attributes (node-gyp, about 30 s)`);
  const env = buildEnv();
  // write the new addon beside the old one's inode (a running process may have the old one mapped)
  const mod = path.join(dir, 'lib');
  for (const f of walk(mod)) if (f.endsWith('.node')) fs.renameSync(f, `${f}.old`);
  const r = cp.spawnSync('node-pre-gyp', ['install', '--build-from-source'], { cwd: dir, env, encoding: 'utf8', timeout: 20 * 60 * 1000 });
  if (r.status !== 0) {
    log(`rebuild failed (${r.status ?? r.signal}): ${(r.stdout + r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
    for (const f of walk(mod)) if (f.endsWith('.node.old')) fs.renameSync(f, f.slice(0, -4));
    return false;
  }
  for (const f of walk(mod)) if (f.endsWith('.node.old')) fs.rmSync(f, { force: true });
  return true;
}

function walk(d) {
  if (!fs.existsSync(d)) return [];
  return fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
}

function hasCuda() {
  const r = cp.spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8' });
  return r.status === 0 && /GPU/.test(r.stdout || '');
}

function cacheKey(name, dir) {
  const ver = require(path.join(dir, 'package.json')).version;
  // '-lists': built with the list(string) patch (caches from before it are not reused)
  return `${name.replace('/', '+')}-${ver}-napi${process.versions.napi}-${process.platform}-${process.arch}-lists`;
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

/** The environment of an addon build: Node's local headers, node-pre-gyp and node-gyp from the workspace's node_modules/.bin. */
function buildEnv(extraEnv = {}) {
  const env = { ...process.env, ...extraEnv };
  const nd = nodeDir();
  if (nd) env.npm_config_nodedir = nd;
  env.PATH = [path.join(ROOT, 'node_modules', '.bin'), env.PATH].join(path.delimiter);
  return env;
}

function runInstallJs(dir, extraEnv, timeoutMs) {
  const env = buildEnv(extraEnv);
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

/**
 * `c`: the check of a binding that loads. Unpatched: patch and rebuild the addon (kept only if it still loads).
 * Caches the result unless it came from the cache unchanged; returns the TensorFlow version, or null.
 */
function withLists(name, dir, c, how) {
  let changed = how !== 'ready' && how !== 'cache';
  if (!c.lists && rebuildPatched(name, dir)) {
    const p = bindingCheck(name);
    if (!p) { log(`${name}: the rebuilt addon does not load`); return null; }
    c = p;
    changed = true;
  }
  if (changed) toCache(name, dir);
  const where = how === 'ready' ? 'native binding loads' : how === 'cache' ? 'ready from cache' : `built (${how})`;
  log(`${name}: ${where} (TensorFlow ${c.version}; list attributes ${c.lists ? 'yes' : 'NO, so the fused kernels are off'})`);
  return c.version;
}

function setup(name) {
  const dir = pkgDir(name);
  if (!dir) { log(`${name} is not installed; skipping`); return null; }
  let c = bindingCheck(name);
  if (c && c.lists) return withLists(name, dir, c, 'ready');
  if (fromCache(name, dir) && (c = bindingCheck(name))) return withLists(name, dir, c, 'cache');
  if (c) return withLists(name, dir, c, 'ready'); // loads, unpatched: patch and rebuild in place
  patchBindingSource(dir); // the routes below build from source where they build
  if (process.env.UNIFIED_AD_SKIP_STOCK !== '1') {
    log(`${name}: trying the stock install (downloads libtensorflow; needs internet)`);
    if (runInstallJs(dir, {}, 10 * 60 * 1000) && (c = bindingCheck(name))) return withLists(name, dir, c, 'stock');
  }
  if (name.endsWith('-gpu')) return null; // the CPU wheel cannot give a GPU engine
  if (wheelRoute(dir) && (c = bindingCheck(name))) return withLists(name, dir, c, 'offline, from the tensorflow-cpu wheel');
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
