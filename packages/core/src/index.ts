export * from './engine';
export * from './rng';
export * from './types';
export * from './registry';
