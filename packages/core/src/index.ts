// @unified-ad/core: what every method shares. Frozen backbones and the MFCN neck are in @unified-ad/backbones.
// the native engine
export { tf, engineInfo, requireNativeEngine, matmulGflops, filterNativeStartupLog, fpmathFromEnv, type Tf, type EngineInfo, type FpMath } from './engine';
// seeded randomness (xoshiro128** + TensorFlow's stateless Philox kernels)
export { Rng, type RngState } from './rng';
export { effectiveDropoutRate, keepMask } from './native-random';
export { fusedOps, fusedOpsStatus, setFusedOps, FUSED_ADDON } from './fused-ops';
// data types
export type {
  Split,
  Sample,
  AnomalyMap,
  FeatureMap,
  FeatureSpec,
  FeatureSet,
  Prediction,
  Reconstructor,
  StatisticalModel,
  AnomalyModel,
  ModelContext,
  FrozenBackbone,
  Dataset,
} from './types';
// the method contract, its registry and adapters
export { registerModel, getModelEntry, listModels, parseModelConfig, methodInputs, createModel, type ModelEntry } from './registry';
export {
  emptyReport,
  variablesState,
  loadVariablesState,
  type MethodInputs,
  type Batch,
  type FitData,
  type FitContext,
  type FitReport,
  type MethodPrediction,
  type MethodState,
  type Method,
  type Trainable,
  type BatchLoss,
} from './method';
export {
  needFeatures,
  needImages,
  NetworkMethod,
  FeatureReconstructorMethod,
  StatisticalMethod,
  type NetworkLike,
  type RestorableStatisticalModel,
} from './adapters';
export { tensorFitData, quantizeInto, storeBatch, type ImageStore } from './fit-data';
// errors, files, progress
export { UserError, userErrorFrom } from './errors';
export { repoRoot, sharedDir, sharedPath, cacheDir, writeFileAtomic } from './paths';
export { progress, formatProgressInfo, type Progress } from './progress';
export {
  LOCK_FILE,
  acquireLock,
  tryAcquireLock,
  waitForLock,
  withLock,
  readLock,
  heldLocks,
  pidAlive,
  lockOwnerAlive,
  type LockInfo,
  type LockOptions,
  type WaitLockOptions,
  type ReleaseLock,
} from './lock';
// configs
export { readYaml, readJsonFile, parseJsonlLines, loadConfig, validateConfig, applyOverrides, deepMerge, formatZodError, type JsonlLine } from './config';
// training: checkpoints, logs, optimisers, the gradient loop
export { saveCheckpoint, loadCheckpoint, type Checkpoint, type CheckpointTensor } from './checkpoint';
export { TensorBoardWriter, readTensorBoardScalars } from './tensorboard';
export {
  Adam,
  AdamW,
  Sgd,
  lrAt,
  createOptimizer,
  OptimizerConfigSchema,
  ScheduleConfigSchema,
  type Optimizer,
  type OptimizerState,
  type OptimizerConfig,
  type ScheduleConfig,
  type AdamConfig,
  type AdamWConfig,
  type SgdConfig,
} from './optim';
export {
  TrainConfigSchema,
  train,
  fitGradient,
  fitReport,
  makeGradientStep,
  benchReconstructor,
  optimizerFromConfig,
  type TrainConfig,
  type TrainOptions,
  type TrainResult,
  type EpochRecord,
  type EvalResult,
  type GradientFitOptions,
  type LoopOptimizer,
} from './trainer';
// the method packages' bench parts (`benchMethods()` of `npm run bench`)
export { benchFitData, timeTrainStep, timePredict, convMacs, trainGflops } from './bench';
// neural-network blocks (nn/index.ts lists them)
export * as nn from './nn';
