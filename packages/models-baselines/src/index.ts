// Baseline methods for the UniAD comparisons. Importing this package registers, in core's model registry:
//   'mlp', 'cnn', 'transformer'  — feature reconstructors of UniAD's identical-shortcut analysis (trainable)
//   'padim', 'patchcore'         — statistical methods fitted on normal features
export * from './reconstructors/base';
export * from './reconstructors/mlp';
export * from './reconstructors/cnn';
export * from './reconstructors/transformer';
export * from './padim';
export * from './patchcore';
export { benchBaselines } from './bench';
