export * from './cache';
export * from './extract';
export * from './bench';
export { encodeFloat16, decodeFloat16, toFloat16, fromFloat16 } from './float16';
