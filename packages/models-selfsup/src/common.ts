// Shared pieces of the self-supervised methods (DRAEM, CutPaste, FCDD): image checks, host images of a batch,
// conv blocks, ImageNet normalisation, and the frozen backbone prefix of the `encoder: 'backbone'` variants.
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, nn, UserError, needImages, type Batch, type FrozenBackbone, type Rng } from '@unified-ad/core';
import type { ImageHWC } from '@unified-ad/components';

/** The batch's images [N, S, S, 3] (0..255), or a one-line error naming the method when they are missing or mis-sized. */
export function checkedImages(batch: Batch, method: string, size: number): Tensor4D {
  const x = needImages(batch, method);
  const [, h, w, c] = x.shape;
  if (h !== size || w !== size || c !== 3) throw new UserError(`${method}: expected images of ${size}×${size}×3 (model.config.size), got [${x.shape.join(', ')}]`);
  return x;
}

/** The images of a batch tensor as host images (float32 HWC 0..255), one per row. */
export function hostImages(x: Tensor4D): ImageHWC[] {
  const [n, h, w, c] = x.shape;
  const all = x.dataSync() as Float32Array;
  const b = h * w * c;
  return Array.from({ length: n }, (_, i) => ({ data: all.slice(i * b, (i + 1) * b), height: h, width: w, channels: c }));
}

/** Host images (and optional H×W masks) back into a [N, H, W, C] tensor (and [N, H, W, 1]). */
export function stackImages(imgs: ImageHWC[]): Tensor4D {
  const { height: h, width: w, channels: c } = imgs[0]!;
  const b = h * w * c;
  const out = new Float32Array(imgs.length * b);
  imgs.forEach((im, i) => out.set(im.data, i * b));
  return tf.tensor4d(out, [imgs.length, h, w, c]);
}

export function stackMasks(masks: Float32Array[], h: number, w: number): Tensor4D {
  const out = new Float32Array(masks.length * h * w);
  masks.forEach((m, i) => out.set(m, i * h * w));
  return tf.tensor4d(out, [masks.length, h, w, 1]);
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** torchvision's Normalize(ImageNet mean, std) of 0..255 images. */
export function imagenetNormalize(x: Tensor4D): Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(tf.div(x, 255), tf.tensor1d(IMAGENET_MEAN)), tf.tensor1d(IMAGENET_STD)) as Tensor4D);
}

/** conv3×3 (padding 1) → BatchNorm → ReLU (or leaky ReLU), the unit of every network here. */
export class ConvBnAct extends nn.Module {
  private readonly conv: nn.Conv2d;
  private readonly bn: nn.BatchNorm2d;
  constructor(inC: number, outC: number, rng: Rng, private readonly act: 'relu' | 'leaky' = 'relu', kernel = 3) {
    super();
    this.conv = this.addChild('conv', new nn.Conv2d(inC, outC, kernel, { padding: kernel >> 1, bias: false }, rng));
    this.bn = this.addChild('bn', new nn.BatchNorm2d(outC));
  }

  forward(x: Tensor4D, training: boolean): Tensor4D {
    const y = this.bn.forward(this.conv.forward(x), training);
    return this.act === 'relu' ? tf.relu(y) : nn.leakyRelu(y, 0.01);
  }
}


/** A frozen backbone prefix a method trains layers above: the backbone, its output layer, that layer's stride and channels. */
export interface FrozenPrefix {
  backbone: FrozenBackbone;
  layer: string;
  stride: number;
  channels: number;
}

/**
 * The prefix of `backbone` a method's `encoder: 'backbone'` runs: the layer named `layer`, or (null) the deepest
 * layer at `stride`. Errors are one line naming the key (`model.config.backboneLayer`).
 */
export function frozenPrefix(method: string, backbone: FrozenBackbone | undefined, layer: string | null, stride: number): FrozenPrefix {
  if (!backbone) throw new UserError(`${method}: model.config.encoder 'backbone' needs the run's backbone (the engine passes it; in code, give ModelContext.backbone)`);
  const layers = backbone.layerInfo();
  const info = layer === null ? layers.filter((l) => l.stride === stride).pop() : layers.find((l) => l.name === layer);
  if (!info) throw new UserError(`${method}: model.config.backboneLayer: ${layer === null ? `${backbone.id} has no layer at stride ${stride}` : `'${layer}' is not a layer of ${backbone.id} (list them: npx ts-node packages/backbones/src/list-layers.ts ${backbone.id})`}`);
  return { backbone, layer: info.name, stride: info.stride, channels: info.channels };
}

/** What a state's metadata records of the encoder: its kind, and the prefix's backbone and layer. */
export function encoderMeta(encoder: string, p: FrozenPrefix | null): Record<string, unknown> {
  return { encoder, ...(p ? { backbone: p.backbone.id, layer: p.layer } : {}) };
}

/** The prefix's features of 0..255 images (the backbone normalises its input; no gradient flows into it). */
export function prefixFeatures(p: FrozenPrefix, x: Tensor4D): Tensor4D {
  return p.backbone.extract(x, [p.layer])[0]!;
}
