export * from './engine';
export * from './rng';
export * from './types';
export * from './registry';
export * from './errors';
export * from './paths';
export * from './progress';
