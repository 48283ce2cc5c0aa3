// Host time of the synthetic-anomaly generators per image: `npx ts-node -T packages/models-selfsup/scripts/aug-time.ts <size>`.
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, Rng } from '@unified-ad/core';
import { draemTrainingBatch, cutPasteViews, fcddTrainingBatch } from '../src';
import { syntheticImages } from '../test/helpers';

const s = Number(process.argv[2] ?? 128), n = 16;
const x = tf.tensor4d(Float32Array.from(syntheticImages(n, s, 0, false)), [n, s, s, 3]) as Tensor4D;
const time = (what: string, f: () => void) => { const t0 = Date.now(); f(); console.log(what, ((Date.now() - t0) / n).toFixed(1), 'ms/image'); };
const rng = new Rng(0);
time('draem texture', () => { const t = draemTrainingBatch(x, rng, { source: 'texture', cleanProbability: 0.5, betaMax: 0.8 }); tf.dispose([t.augmented, t.mask, t.clean]); });
time('draem image', () => { const t = draemTrainingBatch(x, rng, { source: 'image', cleanProbability: 0.5, betaMax: 0.8 }); tf.dispose([t.augmented, t.mask, t.clean]); });
time('cutpaste 3way+jitter', () => { cutPasteViews(x, rng, { variant: '3way', jitter: 0.1 }); });
time('fcdd confetti', () => { fcddTrainingBatch(x, rng, 0.5).images.dispose(); });
