export * from './adamw';
