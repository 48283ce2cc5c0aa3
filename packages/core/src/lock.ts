// One writer per folder: a lock file `<dir>/.lock` holding {pid, host, started, what}. It is created
// atomically (written to a temporary file, then hard-linked into place, which fails when the lock exists),
// so a reader never sees a half-written lock. A lock whose owner is gone (a pid not alive on this host, or
// a reused pid whose start time differs) is stale and is taken over with a note; a live owner gives a
// one-line UserError. Locks are released by the returned function, on process 'exit' and on
// SIGINT / SIGTERM / SIGHUP when nothing else handles the signal (a process that handles a signal itself,
// e.g. to checkpoint before exiting, keeps its lock until it exits).
//
// This lives in core (the lowest layer) so that datasets (synthetic data, caches) and the run engine share
// one implementation; @unified-ad/engine re-exports it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from './errors';

export const LOCK_FILE = '.lock';

/** What a lock file holds. */
export interface LockInfo {
  pid: number;
  host: string;
  /** ISO time the lock was taken */
  started: string;
  /** what the owner is doing ("train", "synthetic data", ...) */
  what: string;
  /** Linux: the owner's start time in clock ticks since boot (/proc/<pid>/stat field 22), to detect pid reuse */
  procStart?: number;
  /** random token: tells our lock from a later owner's */
  token: string;
}

export interface LockOptions {
  /** lock file (default <dir>/.lock) */
  file?: string;
  /** where the "took over a stale lock" note goes (default stderr, silent under vitest / UNIFIED_AD_QUIET=1) */
  note?: (line: string) => void;
}

export interface WaitLockOptions extends LockOptions {
  /** give up after this many milliseconds (default 10 minutes) */
  timeoutMs?: number;
  /** poll interval (default 100 ms) */
  pollMs?: number;
  /** called once when the lock is busy and we start waiting */
  onWait?: (owner: LockInfo, file: string) => void;
}

/** Returned by acquireLock: releases the lock (idempotent). */
export type ReleaseLock = () => void;

const defaultNote = (line: string) => {
  if (process.env.VITEST === undefined && process.env.UNIFIED_AD_QUIET !== '1') process.stderr.write(`note: ${line}\n`);
};

/** Start time of a process (Linux /proc), or null when unknown. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(rest[19]); // field 22 overall = index 19 after the first two fields
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** Whether a pid is alive on this host (EPERM: alive, owned by another user). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the owner recorded in a lock is still running (other hosts: assumed alive, we cannot tell). */
export function lockOwnerAlive(info: LockInfo): boolean {
  if (info.host !== os.hostname()) return true;
  if (info.pid === process.pid) return held.has(info.token);
  if (!pidAlive(info.pid)) return false;
  if (info.procStart !== undefined) {
    const now = processStartTime(info.pid);
    if (now !== null && now !== info.procStart) return false; // the pid was reused by another process
  }
  return true;
}

function parseLock(text: string): LockInfo | null {
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v?.pid !== 'number' || typeof v.host !== 'string' || typeof v.started !== 'string') return null;
    return { what: '', token: '', ...v } as LockInfo;
  } catch {
    return null;
  }
}

/** Reads a lock file: null when absent; { info: null } when it is not a valid lock (corrupted). */
export function readLock(file: string): { raw: string; info: LockInfo | null } | null {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return { raw, info: parseLock(raw) };
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** tokens of the locks this process holds → their release functions */
const held = new Map<string, { file: string; release: ReleaseLock }>();
let hooksInstalled = false;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function releaseAll(): void {
  for (const { release } of [...held.values()]) release();
}

function onSignal(sig: NodeJS.Signals): void {
  // someone else handles this signal (a graceful stop): keep the lock until the process exits
  if (process.listenerCount(sig) > 1) return;
  releaseAll();
  uninstallHooks();
  process.kill(process.pid, sig); // default action: terminate with the signal
}
const signalHandlers = new Map<NodeJS.Signals, () => void>(SIGNALS.map((s) => [s, () => onSignal(s)]));

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', releaseAll);
  for (const [s, h] of signalHandlers) process.on(s, h);
}

function uninstallHooks(): void {
  if (!hooksInstalled) return;
  hooksInstalled = false;
  process.removeListener('exit', releaseAll);
  for (const [s, h] of signalHandlers) process.removeListener(s, h);
}

function busyMessage(dir: string, file: string, owner: LockInfo): string {
  const where = owner.host !== os.hostname() ? ` on host ${owner.host}` : '';
  const doing = owner.what ? ` (${owner.what}, started ${owner.started})` : ` (started ${owner.started})`;
  return `${dir} is in use by pid ${owner.pid}${where}${doing}; wait for it or remove ${file} if that process is gone`;
}

/**
 * Tries to take the lock once. Returns the release function, or the live owner when the lock is busy.
 * A stale lock (dead owner, or a corrupted lock file) is taken over with a note.
 */
export function tryAcquireLock(dir: string, what: string, opts: LockOptions = {}): { release: ReleaseLock } | { owner: LockInfo; file: string } {
  const file = path.resolve(opts.file ?? path.join(dir, LOCK_FILE));
  const note = opts.note ?? defaultNote;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const token = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  const info: LockInfo = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), what, token };
  const ps = processStartTime(process.pid);
  if (ps !== null) info.procStart = ps;
  const tmp = `${file}.${token}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(info) + '\n');
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        fs.linkSync(tmp, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const cur = readLock(file);
        if (!cur) continue; // released meanwhile: try again
        if (cur.info && lockOwnerAlive(cur.info)) return { owner: cur.info, file };
        // stale: one process at a time takes it over (a second lock guards the check-and-remove)
        const guard = `${file}.takeover`;
        try {
          fs.linkSync(tmp, guard);
        } catch (g) {
          if ((g as NodeJS.ErrnoException).code !== 'EEXIST') throw g;
          // another process is taking it over; a guard older than 10 s was left by a dead one
          try {
            if (Date.now() - fs.statSync(guard).mtimeMs > 10_000) fs.rmSync(guard, { force: true });
          } catch {
            /* gone meanwhile */
          }
          sleepSync(5 + Math.random() * 20);
          continue;
        }
        try {
          const again = readLock(file);
          if (again && again.raw === cur.raw) {
            fs.rmSync(file, { force: true });
            note(
              cur.info
                ? `took over the stale lock ${file} of pid ${cur.info.pid} (${cur.info.what || 'unknown'}, started ${cur.info.started}; that process is gone)`
                : `replaced the unreadable lock file ${file}`,
            );
          }
        } finally {
          fs.rmSync(guard, { force: true });
        }
        continue;
      }
      // ours
      let released = false;
      const release: ReleaseLock = () => {
        if (released) return;
        released = true;
        held.delete(token);
        try {
          const cur = readLock(file);
          if (cur?.info?.token === token) fs.rmSync(file, { force: true });
        } catch {
          /* the folder may be gone */
        }
        if (held.size === 0) uninstallHooks();
      };
      held.set(token, { file, release });
      installHooks();
      return { release };
    }
    throw new UserError(`could not take the lock ${file} (it keeps changing hands); try again`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Takes `<dir>/.lock` for `what` and returns its release function. A live owner is a one-line UserError:
 * "<dir> is in use by pid N (…, started …); wait for it or remove <dir>/.lock if that process is gone".
 */
export function acquireLock(dir: string, what: string, opts: LockOptions = {}): ReleaseLock {
  const r = tryAcquireLock(dir, what, opts);
  if ('release' in r) return r.release;
  throw new UserError(busyMessage(path.resolve(dir), r.file, r.owner));
}

/** Like acquireLock, but waits (polling) while a live owner holds the lock; UserError after timeoutMs. */
export async function waitForLock(dir: string, what: string, opts: WaitLockOptions = {}): Promise<ReleaseLock> {
  const timeout = opts.timeoutMs ?? 600_000;
  const poll = opts.pollMs ?? 100;
  const t0 = Date.now();
  let told = false;
  for (;;) {
    const r = tryAcquireLock(dir, what, opts);
    if ('release' in r) return r.release;
    if (Date.now() - t0 >= timeout) throw new UserError(`${busyMessage(path.resolve(dir), r.file, r.owner)} (waited ${Math.round((Date.now() - t0) / 1000)} s)`);
    if (!told) {
      told = true;
      opts.onWait?.(r.owner, r.file);
    }
    await new Promise((res) => setTimeout(res, poll * (0.5 + Math.random())));
  }
}

/**
 * Runs `fn` holding the lock of `dir` (released afterwards, also when fn throws). `wait: true` (or a
 * timeout in ms) waits for a live owner instead of failing: right for cache entries, where the other
 * process is making the same thing.
 */
export async function withLock<T>(dir: string, what: string, fn: () => Promise<T> | T, opts: LockOptions & { wait?: boolean | number; onWait?: WaitLockOptions['onWait'] } = {}): Promise<T> {
  const release = opts.wait
    ? await waitForLock(dir, what, { ...opts, timeoutMs: typeof opts.wait === 'number' ? opts.wait : undefined })
    : acquireLock(dir, what, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Locks this process holds (lock file paths), for tests and diagnostics. */
export function heldLocks(): string[] {
  return [...held.values()].map((h) => h.file);
}
