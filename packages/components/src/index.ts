// Shared components of anomaly-detection methods: Gaussians (PaDiM's per-position, CutPaste's Ledoit-Wolf
// density), exact kNN, the k-center-greedy coreset, and deterministic augmentation primitives (DRAEM,
// CutPaste, FCDD). Importing this package registers nothing.
export { choleskyInPlace, invertLowerTriangular, PositionGaussians, ledoitWolf, GaussianDensity } from './gaussian';
export type { GaussianFitOptions, LedoitWolfResult, GaussianDensityOptions } from './gaussian';
export { rowNormsSquared, nearestNeighbors, nearestDistance } from './knn';
export type { Neighbors } from './knn';
export { kCenterGreedy, greedyCoreset } from './coreset';
export type { KCenterResult, KCenterOptions, CoresetOptions } from './coreset';

export { checkImage, cloneImage, emptyImage, rotateImage, rotatePlanes, rotateExpand, resizeImage } from './augment/image';
export type { ImageHWC, Augmented, RotateOptions } from './augment/image';
export { adjustBrightness, adjustContrast, adjustSaturation, adjustHue, colorJitter, rgbToHsv, hsvToRgb } from './augment/color';
export type { ColorJitterOptions, ColorJitterParams } from './augment/color';
export { perlinNoise, fractalNoise, perlinMask } from './augment/perlin';
export type { PerlinMask, PerlinMaskOptions } from './augment/perlin';
export { DRAEM_OPS, applyDraemOps, draemRandomOps, proceduralTexture, draemAugment } from './augment/draem';
export type { DraemOp, DraemOptions, DraemResult, ProceduralTextureOptions } from './augment/draem';
export { cutPasteNormal, cutPasteScar, cutPaste3Way } from './augment/cutpaste';
export type { CutPasteBox, CutPasteResult, CutPasteNormalOptions, CutPasteScarOptions, PatchJitter } from './augment/cutpaste';
export { confettiNoise, smoothNoise, fcddConfetti } from './augment/confetti';
export type { ConfettiOptions, FcddConfettiOptions, FcddConfettiResult } from './augment/confetti';
