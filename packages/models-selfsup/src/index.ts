// @unified-ad/models-selfsup: the self-supervised methods of the poster's Tables 1–2 that train on images with
// synthetic anomalies — DRAEM, CutPaste, FCDD. Importing this package registers 'draem', 'cutpaste' and 'fcdd'.
export * from './draem';
export * from './cutpaste';
export * from './fcdd';
export { checkedImages, hostImages, stackImages, stackMasks, imagenetNormalize, ConvBnAct } from './common';
