import { registerModel } from '@unified-ad/core';
import { UniADConfigSchema, type UniADConfig } from './config';
import { UniAD } from './model';

export * from './config';
export * from './model';
export * from './bench';

registerModel<UniADConfig>({
  name: 'uniad',
  description: 'UniAD: transformer feature reconstruction with layer-wise queries, neighbor-masked attention, feature jittering',
  kind: 'trainable',
  configSchema: UniADConfigSchema as never,
  defaultFeatures: { layers: [], size: 14 },
  create: (cfg, ctx) => new UniAD(cfg, ctx.inChannels, ctx.gridSize, ctx.rng),
});
