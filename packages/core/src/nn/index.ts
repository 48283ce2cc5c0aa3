// Neural-network blocks: modules own named variables (their names are checkpoint keys).
export { Module, xavierUniform } from './module';
export { Linear, LayerNorm, layerNorm, dropout, residualNorm, mseLoss, l2Norm, type Biased } from './layers';
export { MultiHeadAttention, FeedForward } from './attention';
export { linear, softmax, bf16ProductsStatus, setMatmulPrecision, matmulPrecision, setFusedMatMul, setInferenceLayerNorm, type MatmulPrecision } from './kernels';
export { GridPositionEmbedding, TransformerEncoderLayer } from './transformer';
export { bf16GemmStatus } from './bf16-matmul';
// conv.ts's Conv2d (torch semantics; its 4-argument form is the older layers.ts layer) is the one exported
export {
  Conv2d,
  ConvTranspose2d,
  BatchNorm2d,
  maxPool2d,
  avgPool2d,
  upsampleBilinear,
  leakyRelu,
  kaimingUniform,
  type Pair,
  type Activation,
  type Conv2dOptions,
  type ConvTranspose2dOptions,
  type BatchNorm2dOptions,
} from './conv';
