export * from './module';
export * from './layers';
export * from './attention';
export * from './kernels';
export * from './transformer';
