export * from './module';
export * from './layers';
export * from './attention';
