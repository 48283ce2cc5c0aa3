// `uniad features --config x.yaml`: extracts the run's backbone features of every train and test image into the
// on-disk cache, so that later runs (and other methods with the same feature spec) do no backbone work.
import { UserError } from '@unified-ad/core';
import { extractFeatures } from '@unified-ad/datasets';
import { loadRunData, resolveFeatureSpec, type RunConfig } from '@unified-ad/engine';

export interface FeaturesReport {
  spec: { backbone: string; layers: string[]; size: number; inputSize: number };
  images: number;
  shape: number[];
  cacheHits: number;
  computed: number;
  seconds: number;
}

export async function precomputeFeatures(cfg: RunConfig): Promise<FeaturesReport> {
  const t0 = Date.now();
  const { dataset, trainSamples, testSamples } = await loadRunData(cfg);
  const spec = await resolveFeatureSpec(cfg);
  if (!spec) throw new UserError(`features: method '${cfg.model.name}' reads images, not backbone features: nothing to precompute`);
  const samples = [...trainSamples, ...testSamples];
  const r = await extractFeatures(dataset, samples, spec, { batchSize: cfg.features.batchSize, backboneOptions: { path: cfg.backbone.path, sha256: cfg.backbone.sha256 } });
  const shape = r.features.shape;
  r.features.dispose();
  return { spec, images: samples.length, shape, cacheHits: r.stats.hits, computed: r.stats.backboneImages, seconds: (Date.now() - t0) / 1000 };
}
