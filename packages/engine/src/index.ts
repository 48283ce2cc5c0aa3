// @unified-ad/engine: the run engine. Run integrity: fingerprints (what determines a run's numbers) and locks
// (one writer per run folder / cache entry).
export {
  FINGERPRINT_FILE,
  FINGERPRINT_VERSION,
  assertSameRun,
  canonicalJson,
  canonicalize,
  codeVersion,
  dataListing,
  diffConfigs,
  diffFingerprints,
  fileContentId,
  fingerprintVerdict,
  readFingerprint,
  runFingerprint,
  writeFingerprint,
  type CodeVersion,
  type ConfigChange,
  type DataListing,
  type DataListingEntry,
  type Fingerprint,
  type FingerprintInput,
  type FingerprintParts,
  type FingerprintVerdict,
  type ListedSample,
} from './fingerprint';
// locks: implemented in core (datasets, which the engine depends on, uses them too), part of the engine's API
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
// the run pipeline
export { RunConfigSchema, EvalConfigSchema, ImageScoreSchema, type RunConfig, type EvalConfig } from './run-config';
export { runExperiment, loadRunData, InterruptedError, STATE_FILE, type RunResult, type RunOptions, type GroupResult } from './run';
export { predictAll, type Predictions } from './predict';
export { TestSet } from './testset';
export { KEPT_MAPS_DIR, MapKeeper, pickKeptMapSamples, readKeptMaps, type KeptMaps, type KeptMapSample } from './kept-maps';
export { describeEnvironment } from './environment';
export { resolveInputs, resolveFeatureSpec, loadInputs, loadImageStore, selectRows, disposeInputs, methodBackbone, runBackboneOptions, type InputSet } from './inputs';
export { restoreRun, readRunConfig, checkpointFile, type RestoredRun, type RestoredGroup, type CheckpointChoice } from './restore';
export { mergeConfigs, absolutizeDataPaths, expandVars, toRunConfig, withMethodDefaults, checkModelConfig } from './config';
export { findMethodPackages, loadMethodPackages, loadMethodPackagesSync, type MethodPackage } from './discover';
export { heldOutRows, makeSyntheticValidation, syntheticScores, rectMask, type SyntheticValidation } from './monitor';
export { fingerprintOf } from './run';
