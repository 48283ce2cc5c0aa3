// @unified-ad/eval: exact anomaly-detection metrics, result tables and figures.
export * from './radix';
export * from './counts';
export * from './ranking';
export * from './components';
export * from './pixels';
export * from './metrics';
export * from './aupro';
export * from './postprocess';
export * from './evaluate';
export * from './shortcut';
export { benchEval, syntheticPixels, type SyntheticPixels } from './bench';
export * from './reference/uniad-poster';
export * from './tables';
export * from './plots/colormap';
export * from './plots/curves';
export * from './plots/grid';
