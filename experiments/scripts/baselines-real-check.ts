// Real-data check of PaDiM and PatchCore against ../shared/README.md's reference figures
// (MobileNetV2, 224 input, maps upsampled + σ = 4 blur, image score = map max).
// Usage: npx ts-node -T experiments/scripts/baselines-real-check.ts padim|patchcore bottle|tile|both separate|unified
// (PatchCore: REWEIGHT=0 scores images by the map maximum, as the reference figures do.)
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng, sharedDir, createModel, tensorFitData, TrainConfigSchema } from '@unified-ad/core';
import { loadDataset, extractFeatures } from '@unified-ad/datasets';
import { TestSet, predictAll } from '@unified-ad/engine';
import '../src/models';

async function main() {
  const method = process.argv[2] ?? 'padim';
  const which = process.argv[3] ?? 'bottle';
  const setting = process.argv[4] ?? 'separate';
  const shared = sharedDir();
  if (!shared) throw new Error('../shared not found');
  const bottle = { type: 'mvtec', root: `${shared}/data/mvtec-ad`, categories: ['bottle'] };
  const tile = { type: 'magnetic-tile', root: `${shared}/data/magnetic-tile` };
  const spec = which === 'bottle' ? bottle : which === 'tile' ? tile : { type: 'combined', name: 'bottle+magnetic-tile', parts: [bottle, tile] };
  const dataset = await loadDataset(spec);
  const layers = method === 'padim' ? ['expanded_conv_3/add', 'expanded_conv_6/add', 'expanded_conv_13/add'] : ['expanded_conv_6/add', 'expanded_conv_13/add'];
  const fspec = { backbone: 'mobilenet_v2', layers, size: 28, inputSize: 224 };
  const trainS = dataset.samples.filter((s) => s.split === 'train');
  const testS = dataset.samples.filter((s) => s.split === 'test');
  let t = Date.now();
  const ftr = await extractFeatures(dataset, trainS, fspec, { batchSize: 16 });
  const fte = await extractFeatures(dataset, testS, fspec, { batchSize: 16 });
  console.error(`features ${((Date.now() - t) / 1000).toFixed(1)} s: train [${ftr.features.shape}] test [${fte.features.shape}]`);
  const groups = setting === 'unified' ? [dataset.classes] : dataset.classes.map((c) => [c]);
  const evalCfg = { resolution: 224, blurSigma: 4, imageScore: { kind: 'max' as const }, flipAurocBelowHalf: false };
  for (const g of groups) {
    const keep = new Set(g);
    const tri = trainS.flatMap((s, i) => (keep.has(s.className) ? [i] : []));
    const tei = testS.flatMap((s, i) => (keep.has(s.className) ? [i] : []));
    const xtr = tf.gather(ftr.features, tri) as Tensor4D;
    const xte = tf.gather(fte.features, tei) as Tensor4D;
    const cfg = method === 'patchcore' ? { reweight: process.env.REWEIGHT !== '0' } : {};
    const model = createModel(method, cfg, { inChannels: xtr.shape[3], gridSize: 28, rng: new Rng(0) });
    t = Date.now();
    await model.fit(tensorFitData(tri.map((i) => trainS[i]), { features: xtr }), { train: TrainConfigSchema.parse({}), seed: 0, label: method, log: () => {} });
    const fitS = (Date.now() - t) / 1000;
    t = Date.now();
    const pred = predictAll(model, tensorFitData(tei.map((i) => testS[i]), { features: xte }), { resolution: 224, blurSigma: 4 });
    const predS = (Date.now() - t) / 1000;
    const test = await TestSet.load(dataset, tei.map((i) => testS[i]), 224);
    const ev = test.evaluate(pred, evalCfg as never, ['i_auroc', 'p_auroc']);
    for (const c of g) {
      const m = ev.per_class[c];
      console.log(`${method} ${setting} ${c}: I-AUROC ${(100 * (m.i_auroc ?? NaN)).toFixed(2)}  P-AUROC ${(100 * (m.p_auroc ?? NaN)).toFixed(2)}  (fit ${fitS.toFixed(1)} s on ${tri.length} images, predict+upsample+blur ${predS.toFixed(1)} s on ${tei.length}, stored values ${model.parameterCount()})`);
    }
    model.dispose();
    tf.dispose([xtr, xte]);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
