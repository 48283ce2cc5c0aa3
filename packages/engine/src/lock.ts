// One writer per run folder and per cache entry. The implementation is in @unified-ad/core (core/src/lock.ts)
// so that @unified-ad/datasets (synthetic data, caches), which the engine depends on, can use the same lock
// without a package cycle; the engine's API is this module.
export {
  LOCK_FILE,
  acquireLock,
  heldLocks,
  lockOwnerAlive,
  pidAlive,
  readLock,
  tryAcquireLock,
  waitForLock,
  withLock,
  type LockInfo,
  type LockOptions,
  type ReleaseLock,
  type WaitLockOptions,
} from '@unified-ad/core';
