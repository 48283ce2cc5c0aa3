// CutPaste's network (Li et al., CVPR 2021; layout of Runinho/pytorch-cutpaste model.py ProjectionNet): a CNN
// encoder whose global-average-pooled output is the embedding, then an MLP head (Linear → BatchNorm1d → ReLU per
// hidden layer) and a linear classifier over the augmentation classes. The paper's encoder is an ImageNet
// ResNet-18; here it is a VGG-style CNN trained from scratch, or such stages trained above a frozen ImageNet
// MobileNetV2 prefix (see README.md).
import type { Tensor2D, Tensor4D } from '@tensorflow/tfjs-node';
import { tf, nn, type Rng } from '@unified-ad/core';
import { ConvBnAct } from '../common';

/**
 * Encoder: per stage `convsPerStage` conv3×3–BN–ReLU, max-pool 2 between stages, global average pool at the end.
 * Its input is the normalised image (inC 3), or the features of a frozen backbone prefix (inC their channels).
 */
export class CutPasteEncoder extends nn.Module {
  private readonly stages: ConvBnAct[][] = [];
  constructor(readonly channels: number[], convsPerStage: number, rng: Rng, inC = 3) {
    super();
    channels.forEach((c, s) => {
      const stage: ConvBnAct[] = [];
      for (let k = 0; k < convsPerStage; k++) {
        stage.push(this.addChild(`s${s}.${k}`, new ConvBnAct(inC, c, rng)));
        inC = c;
      }
      this.stages.push(stage);
    });
  }

  get dim(): number {
    return this.channels[this.channels.length - 1]!;
  }

  /** normalised images [N, S, S, 3] (or prefix features [N, h, w, inC]) → embeddings [N, d] */
  forward(x: Tensor4D, training: boolean): Tensor2D {
    let h = x;
    this.stages.forEach((stage, s) => {
      if (s > 0) h = nn.maxPool2d(h, 2);
      for (const layer of stage) h = layer.forward(h, training);
    });
    return tf.mean(h, [1, 2]) as Tensor2D;
  }
}

/** BatchNorm1d as BatchNorm2d over a 1×1 map. */
class Bn1d extends nn.Module {
  private readonly bn: nn.BatchNorm2d;
  constructor(c: number) {
    super();
    this.bn = this.addChild('bn', new nn.BatchNorm2d(c));
  }
  forward(x: Tensor2D, training: boolean): Tensor2D {
    const [n, c] = x.shape;
    return this.bn.forward(x.reshape([n, 1, 1, c]), training).reshape([n, c]);
  }
}

/** ProjectionNet: encoder → head (Linear–BN–ReLU per hidden layer) → Linear to the classes. */
export class CutPasteNet extends nn.Module {
  readonly encoder: CutPasteEncoder;
  private readonly head: { fc: nn.Linear; bn: Bn1d }[] = [];
  private readonly out: nn.Linear;

  constructor(opts: { channels: number[]; convsPerStage: number; headLayers: number[]; classes: number; inChannels?: number }, rng: Rng) {
    super();
    this.encoder = this.addChild('encoder', new CutPasteEncoder(opts.channels, opts.convsPerStage, rng, opts.inChannels ?? 3));
    let inF = this.encoder.dim;
    opts.headLayers.forEach((f, i) => {
      this.head.push({ fc: this.addChild(`head${i}.fc`, new nn.Linear(inF, f, rng)), bn: this.addChild(`head${i}.bn`, new Bn1d(f)) });
      inF = f;
    });
    this.out = this.addChild('out', new nn.Linear(inF, opts.classes, rng));
  }

  /** → embeddings [N, d] (what the density is fitted on) and logits [N, classes] */
  forward(x: Tensor4D, training: boolean): { embeds: Tensor2D; logits: Tensor2D } {
    const embeds = this.encoder.forward(x, training);
    let h: Tensor2D = embeds;
    for (const { fc, bn } of this.head) h = tf.relu(bn.forward(fc.apply(h) as Tensor2D, training));
    return { embeds, logits: this.out.apply(h) as Tensor2D };
  }
}
