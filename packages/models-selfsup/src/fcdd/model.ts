// FCDD's fully convolutional network (liznerski/fcdd FCDD_CNN224_VGG: VGG11-BN features cut at stride 8, then a
// 1×1 convolution to one channel). The layout here is VGG11-BN's first six convolutions with the base width
// configurable (paper: 64 → 64, 128, 256, 256, 512, 512), max-pool 2 after the 1st, 2nd and 4th: stride 8, a
// 28×28 map at 224 px, receptive field 62 px. Trained from scratch (no ImageNet VGG11-BN here; see README.md).
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { nn, type Rng } from '@unified-ad/core';
import { ConvBnAct } from '../common';

/** VGG11's first six convolutions relative to the base width, 'M' = max-pool 2. */
export const FCDD_LAYOUT: readonly (number | 'M')[] = [1, 'M', 2, 'M', 4, 4, 'M', 8, 8];

export class FcddNet extends nn.Module {
  private readonly layers: (ConvBnAct | 'M')[] = [];
  private readonly final: nn.Conv2d;
  /** input pixels per output cell, receptive field (px) of one cell */
  readonly stride: number;
  readonly receptiveField: number;

  constructor(base: number, rng: Rng) {
    super();
    let inC = 3, r = 1, j = 1, i = 0;
    for (const l of FCDD_LAYOUT) {
      if (l === 'M') {
        this.layers.push('M');
        r += j; // kernel 2
        j *= 2;
      } else {
        const c = l * base;
        this.layers.push(this.addChild(`conv${i++}`, new ConvBnAct(inC, c, rng)));
        inC = c;
        r += 2 * j; // kernel 3
      }
    }
    this.final = this.addChild('final', new nn.Conv2d(inC, 1, 1, {}, rng));
    this.stride = j;
    this.receptiveField = r;
  }

  /** normalised images [N, S, S, 3] → raw output [N, S/8, S/8, 1] (before the pseudo-Huber transform) */
  forward(x: Tensor4D, training: boolean): Tensor4D {
    let h = x;
    for (const l of this.layers) h = l === 'M' ? nn.maxPool2d(h, 2) : l.forward(h, training);
    return this.final.forward(h);
  }
}

/**
 * The layers FCDD trains above a frozen pretrained prefix (FCDD freezes the first four ImageNet VGG11-BN
 * convolutions and trains the rest): two conv3×3–BN–ReLU of `width` channels at the prefix's stride (VGG11-BN's
 * last two convolutions before the cut, 512 wide in the paper), then the 1×1 convolution to one channel.
 */
export class FcddHead extends nn.Module {
  private readonly convs: ConvBnAct[];
  private readonly final: nn.Conv2d;
  readonly stride: number;
  readonly receptiveField: number;

  /** `inC` channels of the prefix at `stride`, whose cells see `prefixField` input pixels */
  constructor(inC: number, width: number, stride: number, prefixField: number, rng: Rng) {
    super();
    this.convs = [this.addChild('conv0', new ConvBnAct(inC, width, rng)), this.addChild('conv1', new ConvBnAct(width, width, rng))];
    this.final = this.addChild('final', new nn.Conv2d(width, 1, 1, {}, rng));
    this.stride = stride;
    this.receptiveField = prefixField + 2 * 2 * stride;
  }

  /** prefix features [N, h, w, C] → raw output [N, h, w, 1] */
  forward(x: Tensor4D, training: boolean): Tensor4D {
    let h = x;
    for (const c of this.convs) h = c.forward(h, training);
    return this.final.forward(h);
  }
}
