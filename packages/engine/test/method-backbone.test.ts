// A method that runs the frozen backbone itself (inputs.backbone: FCDD on a MobileNetV2 prefix): the engine
// builds the run's backbone once, passes it to the model, puts its weights in the fingerprint, and gives it to the
// restored models too, so that a finished run predicts again without refitting. Embedded MobileNetV2: offline.
import { describe, it, expect, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { backboneWeightsHash } from '@unified-ad/backbones';
import { tf, tensorFitData } from '@unified-ad/core';
import { disposeInputs, loadInputs, loadRunData, predictAll, resolveInputs, restoreRun, runExperiment, toRunConfig, type Predictions } from '../src';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uniad-method-backbone-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('inputs.backbone', () => {
  it('FCDD on the embedded MobileNetV2 prefix: trains, fingerprints the weights, restores and predicts the same scores', async () => {
    const cfg = toRunConfig({
      name: 'fcdd-bb', seed: 0, setting: 'unified',
      data: { type: 'synthetic', classes: ['fabric', 'disk'], trainPerClass: 4, testGoodPerClass: 2, testDefectPerClass: 2, size: 64, seed: 0 },
      backbone: { id: 'mobilenet_v2_embedded' },
      model: { name: 'fcdd', config: { encoder: 'backbone', size: 64, width: 2, gaussStd: 4 } },
      train: { epochs: 1, batchSize: 4, lr: 0.01, evalEvery: 0 },
      eval: { resolution: 32, metrics: ['i_auroc', 'p_auroc'], pictureSamples: 0 },
    }, 'test');
    expect(resolveInputs(cfg)).toEqual({ images: { size: 64 }, backbone: true });
    const out = path.join(tmp, 'run');
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    let final: Predictions | null = null;
    let ids: string[] = [];
    const r = await runExperiment(cfg, { outDir: out, log: (l) => lines.push(l), onPredictions: (_g, test, pred) => { final = pred; ids = test.samples.map((s) => s.id); } });
    expect(tf.memory().numTensors).toBe(before);
    expect(lines[0]).toContain('its own passes of mobilenet_v2_embedded');
    expect(r.groups[0]!.history).toHaveLength(1);
    const fp = JSON.parse(fs.readFileSync(path.join(out, 'fingerprint.json'), 'utf8'));
    expect(fp.parts.weights).toBe(await backboneWeightsHash({ id: 'mobilenet_v2_embedded' }));
    // restored from state.ckpt (the trained layers only) with the backbone, the model predicts the run's scores
    const want = final as unknown as Predictions;
    const restored = await restoreRun(out);
    try {
      const { testSamples, dataset } = await loadRunData(restored.cfg);
      expect(testSamples.map((s) => s.id)).toEqual(ids);
      const inputs = await loadInputs(restored.cfg, dataset, testSamples, null);
      const pred = predictAll(restored.groups[0]!.model, tensorFitData(testSamples, inputs), restored.cfg.eval);
      disposeInputs(inputs);
      expect(Array.from(pred.scores!)).toEqual(Array.from(want.scores!));
      expect(Array.from(pred.maps![0]!.data)).toEqual(Array.from(want.maps![0]!.data));
    } finally {
      restored.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 180_000);
});
