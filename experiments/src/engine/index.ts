export * from './run-config';
export * from './predict';
export * from './testset';
export * from './run';
export * from './environment';
