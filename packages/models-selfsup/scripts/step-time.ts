// Measured training-step and prediction times of a method config on this machine (synthetic images; the cost
// does not depend on the content): `npx ts-node -T packages/models-selfsup/scripts/step-time.ts <method> '<model json>' <batch> [steps]`.
// A config with encoder 'backbone' runs the ImageNet MobileNetV2 of $UNIFIED_AD_MOBILENET_V2 / ../shared (or the embedded one).
import { tf, Rng, createModel, parseModelConfig, getModelEntry, TrainConfigSchema } from '@unified-ad/core';
import { createBackbone } from '@unified-ad/backbones';
import '../src';
import { trainData } from '../test/helpers';

async function main() {
  const [name, cfgJson, batchArg, stepsArg] = process.argv.slice(2);
  const cfg = parseModelConfig(name!, JSON.parse(cfgJson ?? '{}')) as { size: number };
  const batch = Number(batchArg ?? 8), steps = Number(stepsArg ?? 4);
  const backbone = (cfg as { encoder?: string }).encoder === 'backbone' ? await createBackbone({ id: process.env.BACKBONE ?? 'mobilenet_v2' }) : undefined;
  const m = createModel(name!, cfg, { inChannels: 0, gridSize: 0, imageSize: cfg.size, rng: new Rng(0), ...(backbone ? { backbone } : {}) });
  const data = trainData(batch * steps, cfg.size);
  const train = TrainConfigSchema.parse({ ...(getModelEntry(name!).defaults?.train ?? {}), schedule: null, epochs: 2, batchSize: batch, evalEvery: 0 });
  const r = await m.fit(data, { train, seed: 0, label: name!, log: () => {} });
  const stepMs = (r.history[1]!.time_s * 1000) / steps; // the second epoch: warm
  const t0 = Date.now();
  const p = tf.tidy(() => { const o = m.predict(data.batch(Array.from({ length: Math.min(8, batch) }, (_, i) => i))); return o.scores ?? o.maps!; });
  p.dataSync(); p.dispose();
  const predMs = (Date.now() - t0) / Math.min(8, batch);
  console.log(JSON.stringify({ name, cfg, batch, params: m.parameterCount(), train_step_ms: Math.round(stepMs), predict_ms_per_image: Math.round(predMs) }));
  m.dispose();
  backbone?.dispose();
}
main();
