// Fault injection for run integrity (issue 15): locks (stale, live, killed owners, two writers in child
// processes), the synthetic-data race (three generators on a fresh cache), fingerprints (what differs is
// named), and malformed files a user can hand in (results.json, plan.json, checkpoints, manifests, configs,
// weights, fingerprint.json): each is one line naming the file, and the CLI prints no stack trace.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { filterNativeStartupLog, formatProgressInfo, loadCheckpoint, readJsonFile, saveCheckpoint, UserError } from '@unified-ad/core';
import {
  acquireLock,
  dataListing,
  diffFingerprints,
  fingerprintVerdict,
  assertSameRun,
  readFingerprint,
  readLock,
  runFingerprint,
  tryAcquireLock,
  withLock,
  writeFingerprint,
  FINGERPRINT_FILE,
  type CodeVersion,
} from '../src';

const REPO = path.resolve(__dirname, '..', '..', '..');
const CHILD = path.join(__dirname, 'fixtures', 'integrity-child.ts');
const TS_CHILD = path.join(__dirname, 'fixtures', 'ts-child.js');
const UNIADJS = path.join(REPO, 'experiments', 'bin', 'uniad.js');

let tmp = '';
let cache = '';
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uad-integrity-'));
  cache = path.join(tmp, 'cache');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** env of a child that behaves like a user's shell: no vitest markers, quiet progress, the test's cache */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, UNIFIED_AD_CACHE: cache, UNIFIED_AD_QUIET: '1', UNIFIED_AD_OFFLINE: '1', ...extra };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'NODE_OPTIONS') delete env[k];
  return env;
}

let childSeq = 0;

/**
 * A child writing stdout and stderr to files (as with `> out 2> err`): a regular file, unlike the socket
 * pairs of Node's stdio 'pipe', is a stream the engine can keep TensorFlow's start-up lines out of.
 */
function spawnToFiles(args: string[], cwd: string, env: NodeJS.ProcessEnv): { proc: ChildProcess; out: () => string; err: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const base = path.join(tmp, 'io', `child-${++childSeq}`);
  fs.mkdirSync(path.dirname(base), { recursive: true });
  const fo = fs.openSync(`${base}.out`, 'w');
  const fe = fs.openSync(`${base}.err`, 'w');
  const proc = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', fo, fe] });
  fs.closeSync(fo);
  fs.closeSync(fe);
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return { proc, out: () => read(`${base}.out`), err: () => read(`${base}.err`), exited };
}

function startChild(...args: string[]) {
  return spawnToFiles([TS_CHILD, CHILD, ...args], REPO, childEnv());
}

async function until(cond: () => boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A pid that was alive a moment ago and is not now. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const lockFile = (dir: string) => path.join(dir, '.lock');

describe('locks', () => {
  it('a stale lock (dead pid on this host) is taken over with a note; a corrupted lock file too', () => {
    const dir = path.join(tmp, 'stale');
    fs.mkdirSync(dir, { recursive: true });
    const pid = deadPid();
    fs.writeFileSync(lockFile(dir), JSON.stringify({ pid, host: os.hostname(), started: '2020-01-01T00:00:00.000Z', what: 'train' }));
    const notes: string[] = [];
    const release = acquireLock(dir, 'test', { note: (l) => notes.push(l) });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`stale lock ${lockFile(dir)} of pid ${pid}`);
    expect(readLock(lockFile(dir))?.info?.pid).toBe(process.pid);
    release();
    expect(fs.existsSync(lockFile(dir))).toBe(false);
    release(); // idempotent
    fs.writeFileSync(lockFile(dir), '{"pid": 12'); // a lock cut short
    notes.length = 0;
    acquireLock(dir, 'test', { note: (l) => notes.push(l) })();
    expect(notes[0]).toMatch(/replaced the unreadable lock file/);
  });

  it('a reused pid (alive, but another start time) is stale; our own pid without our token is stale', async () => {
    const dir = path.join(tmp, 'reused');
    const other = startChild('hold', path.join(tmp, 'reused-other'));
    await until(() => other.out().includes('locked'));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(lockFile(dir), JSON.stringify({ pid: other.proc.pid, host: os.hostname(), started: 'x', what: 'old', procStart: 1, token: 't' }));
    const notes: string[] = [];
    acquireLock(dir, 'test', { note: (l) => notes.push(l) })();
    expect(notes).toHaveLength(1);
    fs.writeFileSync(lockFile(dir), JSON.stringify({ pid: process.pid, host: os.hostname(), started: 'x', what: 'old', token: 'not-ours' }));
    acquireLock(dir, 'test', { note: (l) => notes.push(l) })();
    expect(notes).toHaveLength(2);
    other.proc.kill('SIGTERM');
    await other.exited;
  });

  it('a live owner: one-line UserError naming the folder, pid, start time and the lock file; released on SIGTERM', async () => {
    const dir = path.join(tmp, 'live');
    const child = startChild('hold', dir);
    await until(() => child.out().includes('locked'));
    const info = readLock(lockFile(dir))!.info!;
    expect(info.pid).toBe(child.proc.pid);
    let err: unknown;
    try {
      acquireLock(dir, 'second');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    expect(msg).toBe(`${dir} is in use by pid ${child.proc.pid} (test holder, started ${info.started}); wait for it or remove ${lockFile(dir)} if that process is gone`);
    // nothing of ours was left behind by the failed attempt
    expect(fs.readdirSync(dir)).toEqual(['.lock']);
    child.proc.kill('SIGTERM');
    const ex = await child.exited;
    expect(ex.signal).toBe('SIGTERM'); // the default action still happens after the release
    expect(fs.existsSync(lockFile(dir))).toBe(false);
  });

  it('kill -9 leaves the lock behind; the next writer takes it over', async () => {
    const dir = path.join(tmp, 'killed');
    const child = startChild('hold', dir);
    await until(() => child.out().includes('locked'));
    child.proc.kill('SIGKILL');
    await child.exited;
    expect(readLock(lockFile(dir))?.info?.pid).toBe(child.proc.pid);
    const notes: string[] = [];
    const release = acquireLock(dir, 'after kill', { note: (l) => notes.push(l) });
    expect(notes[0]).toContain(`of pid ${child.proc.pid}`);
    release();
  });

  it('a process that handles SIGTERM itself keeps its lock until it exits, and releases it then', async () => {
    const dir = path.join(tmp, 'graceful');
    const child = startChild('graceful', dir);
    await until(() => child.out().includes('locked'));
    child.proc.kill('SIGTERM');
    const ex = await child.exited;
    expect(ex.code).toBe(130);
    expect(child.out()).toContain('still-locked');
    expect(fs.existsSync(lockFile(dir))).toBe(false);
  });

  it('two writers on one folder (child processes): without waiting, the second gets one line and writes nothing', async () => {
    const dir = path.join(tmp, 'two');
    const file = path.join(dir, 'metrics.jsonl');
    const go = path.join(tmp, 'two-go');
    fs.mkdirSync(dir, { recursive: true });
    // the first writes its lines, then keeps the lock until `go` exists
    const a = startChild('append', dir, file, '30', 'nowait', go);
    await until(() => a.out().includes('locked'));
    const b = startChild('append', dir, file, '30', 'nowait');
    const eb = await b.exited;
    fs.writeFileSync(go, '');
    const ea = await a.exited;
    expect(ea.code, a.err()).toBe(0);
    expect(eb.code, b.err()).toBe(1);
    const errLines = b.err().trim().split('\n');
    expect(errLines).toHaveLength(1);
    expect(errLines[0]).toMatch(new RegExp(`^error: ${dir} is in use by pid ${a.proc.pid} \\(test writer, started .*\\); wait for it or remove ${lockFile(dir)} if that process is gone$`));
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(30);
    expect(new Set(lines.map((l) => l.split(' ')[0]))).toEqual(new Set([String(a.proc.pid)]));
  });

  it('two writers that wait: both finish, one after the other (no interleaved lines)', async () => {
    const dir = path.join(tmp, 'two-wait');
    const file = path.join(dir, 'out.txt');
    fs.mkdirSync(dir, { recursive: true });
    const [a, b] = [startChild('append', dir, file, '25', 'wait'), startChild('append', dir, file, '25', 'wait')];
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    expect([ea.code, eb.code]).toEqual([0, 0]);
    const owners = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]);
    expect(owners).toHaveLength(50);
    // one block per writer
    const switches = owners.filter((o, i) => i > 0 && o !== owners[i - 1]).length;
    expect(switches).toBe(1);
    expect(fs.existsSync(lockFile(dir))).toBe(false);
  });

  it('withLock releases when the body throws; a nested lock on the same folder is refused', async () => {
    const dir = path.join(tmp, 'with');
    await expect(withLock(dir, 'outer', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(fs.existsSync(lockFile(dir))).toBe(false);
    await withLock(dir, 'outer', () => {
      const r = tryAcquireLock(dir, 'inner');
      expect('owner' in r && r.owner.pid).toBe(process.pid);
    });
  });
});

describe('synthetic data race', () => {
  it('three processes on a fresh cache all succeed; exactly one generates, none sees a half-written folder', async () => {
    const root = path.join(tmp, 'synth', 'set');
    const kids = [0, 1, 2].map(() => startChild('synthetic', root));
    const ex = await Promise.all(kids.map((k) => k.exited));
    for (const [i, k] of kids.entries()) expect({ code: ex[i].code, err: k.err() }).toEqual({ code: 0, err: '' });
    const outs = kids.map((k) => JSON.parse(k.out().trim().split('\n').pop()!) as { generated: boolean; read: number });
    expect(outs.filter((o) => o.generated)).toHaveLength(1);
    for (const o of outs) expect(o.read).toBe(2 * (6 + 3 + 3));
    // no temp folders or lock left beside the set
    expect(fs.readdirSync(path.dirname(root))).toEqual(['set']);
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------------------

const code = (id: string): CodeVersion => ({ kind: 'git', commit: id.padEnd(40, '0'), dirty: false, id });
const cfg = () => ({ name: 'r', seed: 1, data: { type: 'synthetic', classes: ['fabric', 'disk'] }, train: { epochs: 3, lr: 0.001 }, features: { layers: ['a', 'b'] } });
const listing = { count: 10, sha256: 'a'.repeat(64) };

describe('fingerprints', () => {
  it('canonical: key order does not matter; the diff names the dotted keys, data, weights and code', () => {
    const a = runFingerprint({ config: cfg(), dataListing: listing, weightsSha256: 'w1', codeVersion: code('c1') });
    const reordered = { features: { layers: ['a', 'b'] }, train: { lr: 0.001, epochs: 3 }, data: { classes: ['fabric', 'disk'], type: 'synthetic' }, seed: 1, name: 'r' };
    expect(runFingerprint({ config: reordered, dataListing: listing, weightsSha256: 'w1', codeVersion: code('c1') }).hash).toBe(a.hash);
    const c2 = cfg();
    c2.train.lr = 0.01;
    c2.data.classes = ['fabric'];
    (c2 as Record<string, unknown>).extra = true;
    const b = runFingerprint({ config: c2, dataListing: { count: 9, sha256: 'b'.repeat(64) }, weightsSha256: 'w2', codeVersion: code('c2') });
    expect(diffFingerprints(a, b)).toEqual(['data.classes', 'extra', 'train.lr', 'data', 'weights', 'code']);
    const v = fingerprintVerdict(a, b);
    expect(v.same).toBe(false);
    expect(v.blocking).toEqual(['data.classes', 'extra', 'train.lr', 'data', 'weights']);
    expect(v.summary).toContain('train.lr (0.001 → 0.01)');
    expect(v.summary).toContain('extra ((absent) → true)');
  });

  it('oneDNN math mode bf16 (UNIFIED_AD_FPMATH) is part of the hash and named in the diff; float32 adds nothing', () => {
    const a = runFingerprint({ config: cfg(), dataListing: listing, weightsSha256: 'w', codeVersion: code('c1') });
    const a32 = runFingerprint({ config: cfg(), dataListing: listing, weightsSha256: 'w', codeVersion: code('c1'), fpmath: 'fp32' });
    expect(a32.hash).toBe(a.hash); // this process is float32: the default
    const b = runFingerprint({ config: cfg(), dataListing: listing, weightsSha256: 'w', codeVersion: code('c1'), fpmath: 'bf16' });
    expect(b.hash).not.toBe(a.hash);
    const v = fingerprintVerdict(a, b);
    expect(v.same).toBe(false);
    expect(v.summary).toBe('env.UNIFIED_AD_FPMATH ((absent) → "bf16")');
  });

  it('policy: a code change alone is a warning, not a refusal; it is not part of the hash', () => {
    const a = runFingerprint({ config: cfg(), dataListing: listing, weightsSha256: 'w', codeVersion: code('c1') });
    const b = runFingerprint({ config: cfg(), dataListing: listing, weightsSha256: 'w', codeVersion: code('c2') });
    expect(b.hash).toBe(a.hash);
    expect(diffFingerprints(a, b)).toEqual(['code']);
    const v = fingerprintVerdict(a, b);
    expect(v.same).toBe(true);
    expect(v.warnings[0]).toMatch(/the code changed since this run was made \(c1 → c2\)/);
  });

  it('assertSameRun: refuses with one line naming the keys; a folder without a fingerprint is refused unless told', () => {
    const dir = path.join(tmp, 'fp-run');
    const a = runFingerprint({ config: cfg(), dataListing: listing, weightsSha256: 'w', codeVersion: code('c1') });
    expect(() => assertSameRun(dir, a)).toThrow(/has no fingerprint\.json/);
    expect(assertSameRun(dir, a, { missing: 'warn' })[0]).toMatch(/cannot be checked/);
    writeFingerprint(dir, a);
    expect(readFingerprint(dir)).toMatchObject({ hash: a.hash });
    expect(assertSameRun(dir, a)).toEqual([]);
    const c2 = cfg();
    c2.train.lr = 0.01;
    const b = runFingerprint({ config: c2, dataListing: listing, weightsSha256: 'w', codeVersion: code('c1') });
    let msg = '';
    try {
      assertSameRun(dir, b);
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      msg = (e as Error).message;
    }
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toContain(`${dir} was made with other inputs; differs: train.lr (0.001 → 0.01)`);
  });

  it('data listing: content, not mtime; a changed byte, a changed label or a new mask changes it', async () => {
    const d = path.join(tmp, 'listing');
    fs.mkdirSync(d, { recursive: true });
    const img = (n: string, body: string) => {
      fs.writeFileSync(path.join(d, n), body);
      return path.join(d, n);
    };
    const s = [
      { id: 'b', className: 'c', split: 'test', label: 1, imagePath: img('b.png', 'bbb'), maskPath: img('b_mask.png', 'm') },
      { id: 'a', className: 'c', split: 'train', label: 0, imagePath: img('a.png', 'aaa') },
    ];
    const l1 = dataListing(s);
    expect(l1.entries.map((e) => e.id)).toEqual(['a', 'b']); // sorted
    expect(dataListing([...s].reverse()).sha256).toBe(l1.sha256);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(s[1].imagePath, later, later);
    expect(dataListing(s).sha256).toBe(l1.sha256); // touched, same bytes
    fs.writeFileSync(s[1].imagePath, 'aab');
    fs.utimesSync(s[1].imagePath, new Date(Date.now() + 9000), new Date(Date.now() + 9000));
    const l2 = dataListing(s);
    expect(l2.sha256).not.toBe(l1.sha256);
    expect(dataListing([{ ...s[0], label: 0 }, s[1]]).sha256).not.toBe(l2.sha256);
    expect(dataListing([{ ...s[0], maskPath: undefined }, s[1]]).sha256).not.toBe(l2.sha256);
    // array-backed samples ("file#index"): the file is hashed once, the index recorded
    const bin = img('batch.bin', 'xyz');
    const arr = dataListing([{ id: '0', imagePath: `${bin}#0` }, { id: '1', imagePath: `${bin}#1` }]);
    expect(arr.entries.map((e) => e.image.fragment)).toEqual(['0', '1']);
    expect(() => dataListing([{ id: 'x', imagePath: path.join(d, 'gone.png') }])).toThrow(/data listing: file not found: .*gone\.png/);
  });

  it('fingerprint.json: truncated, wrong shape or edited → one line naming the file', () => {
    const dir = path.join(tmp, 'fp-bad');
    const fp = runFingerprint({ config: cfg(), dataListing: listing, weightsSha256: 'w', codeVersion: code('c1') });
    writeFingerprint(dir, fp);
    const file = path.join(dir, FINGERPRINT_FILE);
    const good = fs.readFileSync(file, 'utf8');
    const cases: [string, RegExp][] = [
      [good.slice(0, 50), /not valid JSON \(truncated or edited\?\)/],
      ['', /not valid JSON/],
      [JSON.stringify({ ...fp, parts: { ...fp.parts, data: 'x' } }), /key 'parts\.data'/],
      [JSON.stringify({ ...fp, hash: 'zz' }), /key 'hash'/],
      [good.replace('"lr": 0.001', '"lr": 0.1'), /hash does not match its parts/],
      [JSON.stringify({ ...fp, version: 99 }), /fingerprint version 99/],
    ];
    for (const [text, re] of cases) {
      fs.writeFileSync(file, text);
      let err: Error | null = null;
      try {
        readFingerprint(dir);
      } catch (e) {
        err = e as Error;
      }
      expect(err, text.slice(0, 30)).toBeInstanceOf(UserError);
      expect(err!.message.startsWith(`${file}: `)).toBe(true);
      expect(err!.message).toMatch(re);
      expect(err!.message).not.toContain('\n');
    }
  });
});

describe('malformed files, in-process readers', () => {
  it('checkpoints: truncated anywhere, flipped byte, bad header → one line naming the file', () => {
    const file = path.join(tmp, 'ck', 'last.ckpt');
    saveCheckpoint(file, { meta: { epoch: 3 }, tensors: [{ name: 'w', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }] });
    const good = fs.readFileSync(file);
    expect(loadCheckpoint(file).meta).toEqual({ epoch: 3 });
    const hlen = good.readUInt32LE(8);
    const variants: Buffer[] = [];
    for (const n of [0, 3, 11, 12, 20, 12 + hlen - 1, 12 + hlen, good.length - 1]) variants.push(good.subarray(0, n));
    const flipped = Buffer.from(good);
    flipped[good.length - 2] ^= 0xff;
    variants.push(flipped);
    const badHeader = Buffer.from(good);
    badHeader.write('X', 12, 'ascii'); // header JSON broken
    variants.push(badHeader);
    for (const v of variants) {
      fs.writeFileSync(file, v);
      let err: Error | null = null;
      try {
        loadCheckpoint(file);
      } catch (e) {
        err = e as Error;
      }
      expect(err, `length ${v.length}`).toBeInstanceOf(UserError);
      expect(err!.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (checkpoint is truncated or corrupted|not a unified-ad checkpoint)`));
      expect(err!.message).not.toContain('\n');
    }
  });

  it('readJsonFile: empty, truncated, wrong shape → one line with the file and key', () => {
    const f = path.join(tmp, 'x.json');
    const schema = z.object({ a: z.number() });
    fs.writeFileSync(f, '');
    expect(() => readJsonFile(f, schema)).toThrow(`${f}: not valid JSON, truncated or damaged? (the file is empty)`);
    fs.writeFileSync(f, '{"a": 1');
    expect(() => readJsonFile(f, schema)).toThrow(/not valid JSON, truncated or damaged\?/);
    fs.writeFileSync(f, '{"a": "1"}');
    expect(() => readJsonFile(f, schema, 'fix it')).toThrow(new RegExp(`^${f}: key 'a': .*; fix it$`));
    expect(() => readJsonFile(path.join(tmp, 'none.json'))).toThrow(/file not found: .*none\.json/);
  });
});

describe('what a user sees', () => {
  it('progress counts are integers; fractional values keep 4 decimals', () => {
    expect(formatProgressInfo({ hits: 0, computed: 224, loss: 0.51234567, lr: 0.0001 })).toBe('hits=0 computed=224 loss=0.5123 lr=1.000e-4');
  });

  it("absl's start-up lines are dropped from the captured load output, warnings and errors kept", () => {
    const text =
      'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n' +
      'I0000 00:00:1796121086.040227   11341 port.cc:153] oneDNN custom operations are on. You may see …\n' +
      'W0000 00:00:1796121086.040227   11341 cpu_feature_guard.cc:12] a real warning\n' +
      'E0000 00:00:1796121086.1   11341 x.cc:1] an error\n';
    expect(filterNativeStartupLog(text)).toBe('W0000 00:00:1796121086.040227   11341 cpu_feature_guard.cc:12] a real warning\nE0000 00:00:1796121086.1   11341 x.cc:1] an error\n');
  });

});

// ---------------------------------------------------------------------------------------------------------
// The CLI as a user runs it: one "error: …" line naming the file, exit code 1, no stack, no TensorFlow noise.

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
  const c = spawnToFiles([UNIADJS, ...args], tmp, childEnv(extraEnv));
  const { code } = await c.exited;
  return { code, stdout: c.out(), stderr: c.err() };
}

/** The CLI failed with one error line containing every part; no stack trace, no TensorFlow start-up lines. */
function expectOneLine(r: CliResult, ...parts: string[]): string {
  expect(r.stderr, r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/absl::InitializeLog|oneDNN custom operations/);
  expect(r.code, r.stderr).toBe(1);
  const errs = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  expect(errs, r.stderr).toHaveLength(1);
  for (const p of parts) expect(errs[0]).toContain(p);
  return errs[0];
}

describe('the CLI on malformed files (child processes)', () => {
  let run = '';
  const copyRun = (name: string) => {
    const d = path.join(tmp, name);
    fs.cpSync(run, d, { recursive: true });
    return d;
  };

  beforeAll(async () => {
    run = path.join(tmp, 'run');
    const r = await cli(['train', '--config', 'mlp-smoke', '--out', run, 'train.epochs=1', 'data.trainPerClass=3', 'data.testGoodPerClass=2', 'data.testDefectPerClass=2']);
    expect(r.code, r.stderr).toBe(0);
    // the start-up lines of TensorFlow are gone from a real command's output
    expect(r.stderr).not.toMatch(/absl::InitializeLog|oneDNN custom operations/);
    expect(fs.existsSync(path.join(run, 'results.json'))).toBe(true);
  }, 400_000);

  it('results.json truncated / empty / wrongly shaped: uniad report', async () => {
    const a = copyRun('res-trunc');
    const b = copyRun('res-shape');
    const c = copyRun('res-empty');
    const good = fs.readFileSync(path.join(run, 'results.json'), 'utf8');
    fs.writeFileSync(path.join(a, 'results.json'), good.slice(0, Math.floor(good.length / 2)));
    fs.writeFileSync(path.join(b, 'results.json'), JSON.stringify({ ...JSON.parse(good), parameters_total: 'many', models: undefined }));
    fs.writeFileSync(path.join(c, 'results.json'), '');
    const [ra, rb, rc] = await Promise.all([cli(['report', a]), cli(['report', b]), cli(['report', c])]);
    expectOneLine(ra, path.join(a, 'results.json'), 'not valid JSON, truncated or damaged?');
    expectOneLine(rb, path.join(b, 'results.json'), "key 'parameters_total'");
    expectOneLine(rc, path.join(c, 'results.json'), 'the file is empty');
  }, 400_000);

  it('checkpoint truncated / byte-flipped: uniad eval names the file', async () => {
    const a = copyRun('ck-trunc');
    const b = copyRun('ck-flip');
    const ck = (d: string) => path.join(d, 'checkpoints', 'last.ckpt');
    const good = fs.readFileSync(ck(run));
    fs.writeFileSync(ck(a), good.subarray(0, Math.floor(good.length * 0.6)));
    const flipped = Buffer.from(good);
    flipped[good.length - 5] ^= 0xff;
    fs.writeFileSync(ck(b), flipped);
    const [ra, rb] = await Promise.all([cli(['eval', a, '--checkpoint', 'last']), cli(['eval', b, '--checkpoint', 'last'])]);
    expectOneLine(ra, ck(a), 'checkpoint is truncated or corrupted');
    expectOneLine(rb, ck(b), 'checksum mismatch');
  }, 400_000);

  it('plan.json truncated / wrongly shaped, and config.yaml broken: uniad report', async () => {
    const e1 = path.join(tmp, 'exp-trunc');
    const e2 = path.join(tmp, 'exp-shape');
    fs.mkdirSync(e1);
    fs.mkdirSync(e2);
    const plan = { experiment: 'fig3', options: { budget: 'smoke', seeds: 1 }, cells: [{ key: 'k', hash: 'h' }], shard: null, created: 'now' };
    fs.writeFileSync(path.join(e1, 'plan.json'), JSON.stringify(plan).slice(0, 40));
    fs.writeFileSync(path.join(e2, 'plan.json'), JSON.stringify({ ...plan, cells: 'all' }));
    const r3 = copyRun('cfg-broken');
    fs.writeFileSync(path.join(r3, 'config.yaml'), 'name: [unclosed\n  seed: 1\n');
    const [a, b, c] = await Promise.all([cli(['report', e1]), cli(['report', e2]), cli(['eval', r3])]);
    expectOneLine(a, path.join(e1, 'plan.json'), 'not valid JSON');
    expectOneLine(b, path.join(e2, 'plan.json'), "key 'cells'");
    expectOneLine(c, path.join('cfg-broken', 'config.yaml'), 'YAML'); // (the path as given, relative to the cwd)
  }, 400_000);

  it('a manifest without a split column, a config with bad YAML, a wrong key, a damaged known weights file', async () => {
    const m = path.join(tmp, 'm.csv');
    fs.writeFileSync(m, 'image,class,label\na.png,w,0\n');
    const bad = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(bad, 'extends: mlp-smoke\ntrain: {epochs: 1\n');
    const w = path.join(tmp, 'weights', 'tf2_mobilenet_v2_1.0_224_ptq.tflite');
    fs.mkdirSync(path.dirname(w), { recursive: true });
    fs.writeFileSync(w, Buffer.alloc(4096, 7));
    const [rm, rb, rk, rw] = await Promise.all([
      cli(['train', '--config', 'mlp-smoke', '--out', path.join(tmp, 'mrun'), `data={type: manifest, path: ${m}}`]),
      cli(['train', '--config', bad, '--out', path.join(tmp, 'brun')]),
      cli(['train', '--config', 'mlp-smoke', '--out', path.join(tmp, 'krun'), 'train.epochz=3']),
      cli(['features', '--config', 'mlp-smoke', 'backbone.id=mobilenet_v2'], { UNIFIED_AD_MOBILENET_V2: w }),
    ]);
    expectOneLine(rm, `${m} line 1`, "no 'split' column");
    expectOneLine(rb, bad, 'invalid YAML');
    expectOneLine(rk, "'train.epochz'");
    expectOneLine(rw, w, 'sha256 mismatch: expected 5d3137241276e79c86d14a74fe43581398ae0e815191d3dba45495b810840e8c, found ', 'backbone.sha256: null');
  }, 400_000);
});

// ---------------------------------------------------------------------------------------------------------
// Ctrl-C as a terminal sends it: a real SIGINT to a training child.

describe('SIGINT to a training child', () => {
  it('stops within one step with the last finished epoch checkpointed, exit 130, one line; a second Ctrl-C exits at once', async () => {
    const dir = path.join(tmp, 'sigint');
    const args = ['train', '--config', 'mlp-smoke', '--out', dir, 'train.epochs=5000', 'train.evalEvery=0', 'data.trainPerClass=3', 'data.testGoodPerClass=2', 'data.testDefectPerClass=2'];
    const lines = () => (fs.existsSync(path.join(dir, 'metrics.jsonl')) ? fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').filter(Boolean).length : 0);
    const a = spawnToFiles([UNIADJS, ...args], tmp, childEnv());
    await until(() => lines() >= 3, 300_000);
    const t0 = Date.now();
    a.proc.kill('SIGINT');
    const ea = await a.exited;
    expect(Date.now() - t0).toBeLessThan(10_000); // an epoch of this run is a few ms: "within one step", not at the end of 5000 epochs
    expect(ea.code, a.err()).toBe(130);
    expect(a.err()).not.toMatch(/^\s+at /m);
    const msg = a.err().split('\n').filter((l) => l.startsWith('interrupted: '));
    expect(msg, a.err()).toHaveLength(1);
    const n = lines();
    expect(msg[0]).toContain(`interrupted at epoch ${n}; resume with --resume`);
    expect(loadCheckpoint(path.join(dir, 'checkpoints', 'last.ckpt')).meta.epoch).toBe(n);
    expect(fs.existsSync(path.join(dir, 'results.json'))).toBe(false);

    // --resume continues from that epoch; two Ctrl-C in a row quit at once, still 130, the checkpoint intact
    const b = spawnToFiles([UNIADJS, ...args, '--resume'], tmp, childEnv());
    await until(() => lines() >= n + 2, 300_000);
    b.proc.kill('SIGINT');
    b.proc.kill('SIGINT');
    const eb = await b.exited;
    expect(eb.code, b.err()).toBe(130);
    const m = loadCheckpoint(path.join(dir, 'checkpoints', 'last.ckpt')).meta.epoch as number;
    expect(m).toBeGreaterThanOrEqual(n + 2);
    expect(lines()).toBeGreaterThanOrEqual(m);
  }, 600_000);
});

// ---------------------------------------------------------------------------------------------------------
// Issue 15's first two findings, as a user meets them: a changed config never yields old results.

describe('a changed config never yields old results (CLI, child processes)', () => {
  const small = ['data.trainPerClass=3', 'data.testGoodPerClass=2', 'data.testDefectPerClass=2', 'classes=[fabric]'];
  const readJson = (...p: string[]) => JSON.parse(fs.readFileSync(path.join(...p), 'utf8'));

  it('experiment grid: --set train.lr=… on a finished grid re-runs the cell (no "done in 0.0 s" with old numbers)', async () => {
    const out = path.join(tmp, 'grid');
    const sets = (lr: string) => ['--set', 'train.epochs=2', '--set', `train.lr=${lr}`, ...small.flatMap((s) => ['--set', s])];
    const a = await cli(['experiment', 'run', 'fig3', '--budget', 'smoke', '--methods', 'mlp', '--out', out, ...sets('0.001')]);
    expect(a.code, a.stderr).toBe(0);
    const cellDir = path.join(out, 'cells', fs.readdirSync(path.join(out, 'cells'))[0]);
    const first = readJson(cellDir, 'results.json').per_class;
    const again = await cli(['experiment', 'run', 'fig3', '--budget', 'smoke', '--methods', 'mlp', '--out', out, ...sets('0.001')]);
    expect(again.stderr).toContain('reused 1 finished run(s) with unchanged configs');
    const b = await cli(['experiment', 'run', 'fig3', '--budget', 'smoke', '--methods', 'mlp', '--out', out, ...sets('0.05')]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/\[1\/1\] /); // ran, not reused
    expect(b.stderr).not.toContain('reused');
    const cfg = fs.readFileSync(path.join(cellDir, 'config.yaml'), 'utf8');
    expect(cfg).toMatch(/lr: 0\.05/);
    expect(readJson(cellDir, 'results.json').per_class).not.toEqual(first); // the new config's numbers, not the old cell's
  }, 600_000);

  it('train --resume: another lr is refused naming the key (config.yaml untouched); a missing folder is an error; --checkpoint best without best.ckpt', async () => {
    const run = path.join(tmp, 'resume-lr');
    const base = ['train', '--config', 'mlp-smoke', '--out', run, 'train.epochs=2', 'train.evalEvery=0', ...small];
    const a = await cli(base);
    expect(a.code, a.stderr).toBe(0);
    const cfgBefore = fs.readFileSync(path.join(run, 'config.yaml'), 'utf8');
    const b = await cli([...base, 'train.lr=0.05', '--resume']);
    expectOneLine(b, run, 'was made with other inputs', 'train.lr');
    expect(fs.readFileSync(path.join(run, 'config.yaml'), 'utf8')).toBe(cfgBefore);
    const c = await cli(['train', '--config', 'mlp-smoke', '--out', path.join(tmp, 'no-such-run'), '--resume', ...small]);
    expectOneLine(c, '--resume:', 'holds no run to continue');
    expect(fs.existsSync(path.join(tmp, 'no-such-run', 'results.json'))).toBe(false);
    const d = await cli(['eval', run, '--checkpoint', 'best']);
    expectOneLine(d, 'best.ckpt', 'use --checkpoint last');
    expect(fs.existsSync(path.join(run, 'eval-best.json'))).toBe(false);
  }, 600_000);
});
