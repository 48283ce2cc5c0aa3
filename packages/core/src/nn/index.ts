export * from './module';
export * from './layers';
export * from './attention';
export * from './kernels';
export * from './transformer';
export * from './conv';
// conv.ts's Conv2d (torch semantics; its 4-argument form is the older layers.ts layer) is the one exported
export { Conv2d } from './conv';
