// @unified-ad/models-selfsup: the self-supervised methods of the poster's Tables 1–2 that train on images with
// synthetic anomalies — DRAEM, CutPaste, FCDD. Importing this package registers 'draem', 'cutpaste' and 'fcdd'.
export * from './draem';
export * from './cutpaste';
export * from './fcdd';
export { checkedImages, hostImages, stackImages, stackMasks, imagenetNormalize, ConvBnAct } from './common';
export { benchSelfsup, SELFSUP_CPU_PROFILES, draemMacs, draemUNetMacs, cutPasteMacs, fcddMacs, type BenchProfile, type SelfsupMethod } from './bench';
// `npm run bench` (scripts/bench.ts) runs the `benchMethods()` of every method package as its part 'selfsup'
export { benchSelfsup as benchMethods } from './bench';
