// @unified-ad/datasets: datasets for unified multi-class anomaly detection.
export * from './checks';
export * from './image-io';
export * from './file-dataset';
export * from './mvtec';
export * from './magnetic-tile';
export * from './manifest';
export * from './semantic';
export * from './combine';
export * from './summary';
export * from './spec';
export * from './synthetic/classes';
export * from './synthetic/generate';
export * from './features';
