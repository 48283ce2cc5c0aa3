// @unified-ad/models-distill: the student–teacher and patch-descriptor methods of the UniAD poster's Tables 1–2.
// Importing it registers `us` (Uninformed Students), `mkd` (Multiresolution Knowledge Distillation) and `psvdd`
// (Patch SVDD) in core's registry.
export * from './common';
export * from './us/us';
export * from './mkd/mkd';
export * from './psvdd/psvdd';
export { benchDistill, studentMacs, encoderDeepMacs } from './bench';
export { benchDistill as benchMethods } from './bench';
