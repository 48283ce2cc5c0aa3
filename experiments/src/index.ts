// @unified-ad/experiments: the run engine, the `uniad` CLI, the paper's experiments as shardable grids, reports.
export * from '@unified-ad/engine';
export * from './config-files';
export * from './run-folder';
export * from './artifacts';
export * from './tables';
export * from './report';
export * from './grid/plan';
export * from './grid/shard';
export * from './grid/stats';
export * from './grid/runner';
export * from './experiments';
export { buildProgram, main } from './cli';
