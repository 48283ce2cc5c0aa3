import { registerModel, FeatureReconstructorMethod } from '@unified-ad/core';
import { UniADConfigSchema, type UniADConfig } from './config';
import { UniAD } from './model';

export * from './config';
export * from './model';
export * from './bench';

registerModel<UniADConfig>({
  name: 'uniad',
  description: 'UniAD: transformer feature reconstruction with layer-wise queries, neighbor-masked attention, feature jittering',
  family: 'reconstruction',
  paperName: 'UniAD',
  configSchema: UniADConfigSchema as never,
  // MFCN neck: the backbone's default stages resized to 14×14 and concatenated
  inputs: { features: { layers: [], size: 14 } },
  // the official code: max of the 16×16 average-pooled map (at 224²), no blur
  defaults: { eval: { imageScore: { kind: 'avgpool-max', window: 16 }, blurSigma: 0 } },
  smoke: { model: { hiddenDim: 32, heads: 2, encoderLayers: 1, decoderLayers: 2, ffnDim: 64, dropout: 0, neighborMask: { size: 3 } } },
  create: (cfg, ctx) => new FeatureReconstructorMethod('uniad', new UniAD(cfg, ctx.inChannels, ctx.gridSize, ctx.rng)),
});
