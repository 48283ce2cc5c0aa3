// DRAEM's two U-Nets (VitjanZ/DRAEM model_unet.py): the reconstructive network (encoder–decoder without skip
// connections, RGB → RGB) and the discriminative network (encoder–decoder with skip connections, restored ‖
// corrupted = 6 channels → 2 logits). Each level: two conv3×3–BN–ReLU; max-pool 2 between encoder levels;
// decoder: bilinear ×2 upsampling (align_corners, as DRAEM) → conv3×3–BN–ReLU → [concat skip] → two conv3×3–BN–ReLU.
// Channel widths per level: base × [1, 2, 4, 8, 8, 8] (DRAEM: reconstructive 5 levels of base 128,
// discriminative 6 levels of base 64).
import type { Tensor4D } from '@tensorflow/tfjs-node';
import { tf, nn, type Rng } from '@unified-ad/core';
import { ConvBnAct } from '../common';

const MULT = [1, 2, 4, 8, 8, 8, 8, 8];

/** Channels of each level of a U-Net of `depth` levels with base width `base`. */
export const levelWidths = (base: number, depth: number): number[] => MULT.slice(0, depth).map((m) => m * base);

class DoubleConv extends nn.Module {
  private readonly a: ConvBnAct;
  private readonly b: ConvBnAct;
  constructor(inC: number, outC: number, rng: Rng) {
    super();
    this.a = this.addChild('0', new ConvBnAct(inC, outC, rng));
    this.b = this.addChild('1', new ConvBnAct(outC, outC, rng));
  }
  forward(x: Tensor4D, training: boolean): Tensor4D {
    return this.b.forward(this.a.forward(x, training), training);
  }
}

/** An encoder–decoder of `depth` levels; with `skips` the decoder concatenates the encoder's maps (U-Net). */
export class DraemUNet extends nn.Module {
  private readonly enc: DoubleConv[] = [];
  private readonly up: ConvBnAct[] = [];
  private readonly dec: DoubleConv[] = [];
  private readonly out: nn.Conv2d;
  readonly widths: number[];

  constructor(inC: number, outC: number, base: number, readonly depth: number, readonly skips: boolean, rng: Rng) {
    super();
    const c = (this.widths = levelWidths(base, depth));
    for (let l = 0; l < depth; l++) this.enc.push(this.addChild(`enc${l}`, new DoubleConv(l === 0 ? inC : c[l - 1]!, c[l]!, rng)));
    for (let l = depth - 2; l >= 0; l--) {
      this.up.push(this.addChild(`up${l}`, new ConvBnAct(c[l + 1]!, c[l + 1]!, rng)));
      this.dec.push(this.addChild(`dec${l}`, new DoubleConv(c[l + 1]! + (skips ? c[l]! : 0), c[l]!, rng)));
    }
    this.out = this.addChild('out', new nn.Conv2d(c[0]!, outC, 3, { padding: 1 }, rng));
  }

  forward(x: Tensor4D, training: boolean): Tensor4D {
    const feats: Tensor4D[] = [];
    let h = x;
    for (let l = 0; l < this.depth; l++) {
      if (l > 0) h = nn.maxPool2d(h, 2);
      h = this.enc[l]!.forward(h, training);
      feats.push(h);
    }
    for (let i = 0; i < this.depth - 1; i++) {
      const l = this.depth - 2 - i;
      const skip = feats[l]!;
      h = this.up[i]!.forward(nn.upsampleBilinear(h, [skip.shape[1], skip.shape[2]], true), training);
      if (this.skips) h = tf.concat([h, skip], -1);
      h = this.dec[i]!.forward(h, training);
    }
    return this.out.forward(h);
  }
}

/** DRAEM: the reconstructive and the discriminative network. */
export class DraemNet extends nn.Module {
  readonly reconstructive: DraemUNet;
  readonly discriminative: DraemUNet;
  constructor(opts: { recWidth: number; recDepth: number; discWidth: number; discDepth: number }, rng: Rng) {
    super();
    this.reconstructive = this.addChild('rec', new DraemUNet(3, 3, opts.recWidth, opts.recDepth, false, rng));
    this.discriminative = this.addChild('disc', new DraemUNet(6, 2, opts.discWidth, opts.discDepth, true, rng));
  }

  /** x: [N, S, S, 3] in [0, 1] → { rec: restored image, logits: [N, S, S, 2] } */
  forward(x: Tensor4D, training: boolean): { rec: Tensor4D; logits: Tensor4D } {
    const rec = this.reconstructive.forward(x, training);
    const logits = this.discriminative.forward(tf.concat([rec, x], -1), training);
    return { rec, logits };
  }
}
