// A user's own tfjs model as a backbone (LayersModel saved to a temp dir; a hand-written GraphModel),
// and the embedded nsfwjs MobileNetV2.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LayersModel, Tensor4D } from '@tensorflow/tfjs-node';
import { sharedPath, tf, UserError } from '@unified-ad/core';
import {
  backboneWeightsHash,
  createBackbone,
  EMBEDDED_DEFAULT_LAYERS,
  embeddedWeightsHash,
  extractAligned,
  listBackbones,
  listTfjsModelLayers,
  normalizeInput,
  readBmp,
  LayersBackbone as LayersBackboneCtor,
  type LayersBackbone,
} from '../src';

let tmp = '';
let model: LayersModel;
beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uad-tfjs-bb-'));
  const input = tf.input({ shape: [16, 16, 3] });
  const c1 = tf.layers.conv2d({ name: 'stage1', filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', seed: 1 } as never).apply(input);
  const c2 = tf.layers.conv2d({ name: 'stage2', filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(c1);
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(c2);
  const out = tf.layers.dense({ name: 'head', units: 3 }).apply(pooled);
  model = tf.model({ inputs: input, outputs: out as never });
  await model.save(`file://${path.join(tmp, 'layers')}`);
  writeGraphModel(path.join(tmp, 'graph'));
});
afterAll(() => {
  model?.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A GraphModel (model.json + weights.bin, tfjs graph-model format): x → Conv2D(3×3, stride 2, SAME) → Relu. */
const gw = Float32Array.from({ length: 3 * 3 * 3 * 2 }, (_, i) => Math.sin(i) * 0.1);
function writeGraphModel(dir: string) {
  fs.mkdirSync(dir, { recursive: true });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const json = {
    format: 'graph-model',
    generatedBy: 'hand',
    convertedBy: 'hand',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '8' }, { size: '8' }, { size: '3' }] } } } },
        { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '3' }, { size: '3' }, { size: '3' }, { size: '2' }] } } } } },
        {
          name: 'block/conv',
          op: 'Conv2D',
          input: ['x', 'w'],
          attr: { T: { type: 'DT_FLOAT' }, strides: { list: { i: ['1', '2', '2', '1'] } }, padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') }, dilations: { list: { i: ['1', '1', '1', '1'] } } },
        },
        { name: 'block/relu', op: 'Relu', input: ['block/conv'], attr: { T: { type: 'DT_FLOAT' } } },
      ],
      library: {},
      versions: { producer: 1 },
    },
    weightsManifest: [{ paths: ['weights.bin'], weights: [{ name: 'w', shape: [3, 3, 3, 2], dtype: 'float32' }] }],
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(gw.buffer));
}

describe("tfjs backbone (a user's own model)", () => {
  it('the registry knows the three ids', () => {
    expect(listBackbones()).toEqual(expect.arrayContaining(['mobilenet_v2', 'mobilenet_v2_embedded', 'tfjs']));
  });

  it('LayersModel folder: named outputs with strides and channels, values as the model computes them', async () => {
    const dir = path.join(tmp, 'layers');
    expect(listTfjsModelLayers(dir)).toEqual({ kind: 'layers', names: expect.arrayContaining(['stage1', 'stage2', 'head']) });
    const b = await createBackbone({ id: 'tfjs', path: dir, layers: ['stage1', 'stage2'], normalize: 'unit' });
    expect(b.inputSize).toBe(16);
    expect(b.layerInfo()).toEqual([
      { name: 'stage1', stride: 2, channels: 4 },
      { name: 'stage2', stride: 4, channels: 8 },
    ]);
    expect(b.weightsHash).toBe(await backboneWeightsHash({ id: 'tfjs', path: path.join(dir, 'model.json') }));
    const x = tf.randomUniform([2, 16, 16, 3], 0, 255, 'float32', 3) as Tensor4D;
    expect((b as LayersBackbone).pathFor(['stage1', 'stage2'])).toBe('session');
    const [f1, f2] = b.extract(x, ['stage1', 'stage2']);
    expect(f1.shape).toEqual([2, 8, 8, 4]);
    expect(f2.shape).toEqual([2, 4, 4, 8]);
    // the same numbers as the original model on x/255
    const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer('stage2').output as never });
    const want = sub.predict(tf.div(x, 255)) as Tensor4D;
    expect(tf.max(tf.abs(tf.sub(f2, want))).dataSync()[0]).toBeLessThan(1e-5);
    const aligned = extractAligned(b, x, ['stage1', 'stage2'], 4);
    expect(aligned.shape).toEqual([2, 4, 4, 12]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(b.extract(x, ['stage2']));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, f1, f2, want, aligned]);
    b.dispose();
  });

  it('Keras → float graph compiler: padding, conv, BN (with non-trivial statistics), ReLU6, depthwise, add — eager and session match tfjs', async () => {
    const input = tf.input({ shape: [12, 12, 3] });
    const pad = tf.layers.zeroPadding2d({ name: 'pad', padding: [[0, 1], [0, 1]] }).apply(input);
    const conv = tf.layers.conv2d({ name: 'conv', filters: 6, kernelSize: 3, strides: 2, padding: 'valid', useBias: false }).apply(pad);
    const bn = tf.layers.batchNormalization({ name: 'bn', epsilon: 1e-3 }).apply(conv);
    const relu = tf.layers.reLU({ name: 'relu', maxValue: 6 }).apply(bn);
    const dw = tf.layers.depthwiseConv2d({ name: 'dw', kernelSize: 3, padding: 'same', depthMultiplier: 1, useBias: true }).apply(relu);
    const bn2 = tf.layers.batchNormalization({ name: 'bn2' }).apply(dw);
    const add = tf.layers.add({ name: 'add' }).apply([relu, bn2] as never);
    const m = tf.model({ inputs: input, outputs: add as never });
    // give the BN layers non-trivial statistics
    for (const name of ['bn', 'bn2']) {
      const l = m.getLayer(name);
      l.setWeights(l.getWeights().map((w, i) => tf.add(tf.mul(tf.randomUniform(w.shape, 0.5, 1.5, 'float32', 40 + i), i === 3 ? 1 : 0.8), i === 1 ? -0.2 : 0)));
    }
    const x = tf.randomUniform([2, 12, 12, 3], 0, 255, 'float32', 8) as Tensor4D;
    const layers = ['pad', 'relu', 'add'];
    const dir = fs.mkdtempSync(path.join(tmp, 'g-'));
    const ref = new LayersBackboneCtor({ id: 'tfjs', model: m, weightsHash: 'h', inputSize: 12, defaultLayers: layers, normalization: 'unit', fast: false });
    const want = ref.extract(x, layers);
    for (const executor of ['eager', 'session'] as const) {
      const b = new LayersBackboneCtor({ id: 'tfjs', model: m, weightsHash: 'h', inputSize: 12, defaultLayers: layers, normalization: 'unit', fast: { executor, sessionDir: dir } });
      expect(b.pathFor(layers)).toBe(executor);
      expect(b.pathFor(['bn'])).toBe('layers');
      const got = b.extract(x, layers);
      for (let i = 0; i < layers.length; i++) expect(tf.max(tf.abs(tf.sub(got[i], want[i]))).dataSync()[0]).toBeLessThan(1e-4);
      tf.dispose(got);
    }
    tf.dispose([x, ...want]);
    m.dispose();
  });

  it('GraphModel folder: node names as layers', async () => {
    const dir = path.join(tmp, 'graph');
    expect(listTfjsModelLayers(dir)).toEqual({ kind: 'graph', names: ['x', 'block/conv', 'block/relu'] });
    const b = await createBackbone({ id: 'tfjs', path: dir, layers: ['block/relu'], inputSize: 8, normalize: 'symmetric' });
    expect(b.layerInfo()).toEqual([{ name: 'block/relu', stride: 2, channels: 2 }]);
    const x = tf.randomUniform([1, 8, 8, 3], 0, 255, 'float32', 4) as Tensor4D;
    const [y] = b.extract(x, ['block/relu']);
    const want = tf.relu(tf.conv2d(normalizeInput(x, 'symmetric'), tf.tensor4d(gw, [3, 3, 3, 2]), 2, 'same'));
    expect(y.shape).toEqual([1, 4, 4, 2]);
    expect(tf.max(tf.abs(tf.sub(y, want))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, y, want]);
    b.dispose();
  });

  it('configuration mistakes are one-line UserErrors', async () => {
    await expect(createBackbone({ id: 'tfjs', layers: ['a'] })).rejects.toThrow(/'path'/);
    await expect(createBackbone({ id: 'tfjs', path: path.join(tmp, 'layers') })).rejects.toThrow(/'layers'/);
    await expect(createBackbone({ id: 'tfjs', path: path.join(tmp, 'nowhere'), layers: ['a'] })).rejects.toThrow(/nowhere.*not found/);
    await expect(createBackbone({ id: 'tfjs', path: path.join(tmp, 'layers'), layers: ['stage9'] })).rejects.toThrow(/no layer named "stage9"/);
    await expect(createBackbone({ id: 'resnet_999' })).rejects.toThrow(/unknown id "resnet_999"/);
    await expect(createBackbone({ id: 'tfjs', path: path.join(tmp, 'graph'), layers: ['block/relu'], normalize: 'weird' as never })).rejects.toThrow(UserError);
  });
});

describe('embedded MobileNetV2 (nsfwjs LayersModel, offline)', () => {
  let b: LayersBackbone;
  beforeAll(async () => {
    b = (await createBackbone({ id: 'mobilenet_v2_embedded' })) as LayersBackbone;
  });
  afterAll(() => b?.dispose());

  it('default layers at strides 4, 8, 16 with 24 + 32 + 96 channels; hash of the bundled files', async () => {
    expect([...b.defaultLayers]).toEqual([...EMBEDDED_DEFAULT_LAYERS]);
    const info = new Map(b.layerInfo().map((l) => [l.name, l]));
    expect(b.defaultLayers.map((n) => [info.get(n)!.stride, info.get(n)!.channels])).toEqual([
      [4, 24],
      [8, 32],
      [16, 96],
    ]);
    expect(info.get('block_15_add')).toEqual({ name: 'block_15_add', stride: 32, channels: 160 });
    expect(b.weightsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(embeddedWeightsHash()).toBe(b.weightsHash);
    expect(await backboneWeightsHash({ id: 'mobilenet_v2_embedded' })).toBe(b.weightsHash);
  });

  it('the compiled float graph (BN and ReLU6 folded into the convolutions) matches the tfjs LayersModel', () => {
    const layers = [...b.defaultLayers, 'Conv1_relu', 'block_7_expand_relu', 'block_15_add'];
    expect(b.pathFor(layers)).toBe('session');
    // a conv before its BN is folded away: served by the LayersModel
    expect(b.pathFor(['block_1_expand'])).toBe('layers');
    const x = tf.randomUniform([2, 224, 224, 3], 0, 255, 'float32', 21) as Tensor4D;
    const fast = b.extract(x, layers);
    const slow = b.extract(x, layers, 'layers');
    for (let i = 0; i < layers.length; i++) {
      expect(fast[i].shape).toEqual(slow[i].shape);
      expect(tf.max(tf.abs(tf.sub(fast[i], slow[i]))).dataSync()[0]).toBeLessThan(1e-3);
    }
    tf.dispose([x, ...fast, ...slow]);
  });

  it('extract: shapes, no leaks', () => {
    const x = tf.randomUniform([2, 224, 224, 3], 0, 255, 'float32', 9) as Tensor4D;
    const before = tf.memory().numTensors;
    const outs = b.extract(x, [...b.defaultLayers]);
    expect(outs.map((o) => o.shape)).toEqual([[2, 56, 56, 24], [2, 28, 28, 32], [2, 14, 14, 96]]);
    tf.dispose(outs);
    tf.dispose(b.extract(x, ['block_5_add']));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  const catFile = sharedPath('weights', 'mobilenet-v2-imagenet', 'cat.bmp');
  it.skipIf(!catFile)('weights decode correctly: its own head calls cat.bmp "Neutral" with x/255 input, as nsfwjs does', () => {
    const img = readBmp(catFile!);
    const probs = tf.tidy(() => {
      const x = tf.image.resizeBilinear(tf.tensor3d(img.data, [img.height, img.width, 3], 'int32').toFloat(), [224, 224], true).expandDims(0) as Tensor4D;
      return (b.model.predict(normalizeInput(x, 'unit')) as Tensor4D).dataSync();
    });
    // nsfwjs classes: Drawing, Hentai, Neutral, Porn, Sexy
    expect(probs.indexOf(Math.max(...probs))).toBe(2);
    expect(probs[2]).toBeGreaterThan(0.5);
  });
});
