// Pieces shared by the distillation methods (US, MKD): channel groups of the concatenated teacher features, and a
// VGG-like student / cloner CNN (3×3 conv + BatchNorm + ReLU, max-pool between stages) whose stage outputs are
// projected (1×1 conv) onto the teacher's channel groups and resized onto the teacher's grid.
import type { Tensor4D, Variable } from '@tensorflow/tfjs-node';
import { tf, nn, UserError, type Rng } from '@unified-ad/core';

/**
 * The channel groups (one per teacher depth) of `inChannels` concatenated feature channels: `groups` as given
 * (must sum to inChannels), or, when null, `count` near-equal groups (the feature set's layers are unknown then).
 */
export function channelGroups(method: string, inChannels: number, groups: number[] | null, count: number): number[] {
  if (groups) {
    const sum = groups.reduce((a, b) => a + b, 0);
    if (sum !== inChannels)
      throw new UserError(`${method}: model.config.depthChannels [${groups}] sums to ${sum}, but the features have ${inChannels} channels (set it to the channels of features.layers, or null to split evenly)`);
    return groups;
  }
  if (inChannels < count) throw new UserError(`${method}: ${inChannels} feature channels cannot be split into ${count} depths (model.config.depths)`);
  const base = Math.floor(inChannels / count);
  return Array.from({ length: count }, (_, i) => base + (i < inChannels % count ? 1 : 0));
}

/** Splits [N, H, W, ΣC] into the groups. */
export function splitGroups(x: Tensor4D, groups: number[]): Tensor4D[] {
  return groups.length === 1 ? [x] : (tf.split(x, groups, 3) as Tensor4D[]);
}

/** Images 0..255 → the network's input scale [-1, 1]. */
export const toUnit = (x: Tensor4D): Tensor4D => tf.sub(tf.div(x, 127.5), 1) as Tensor4D;

/**
 * VGG-like CNN with BatchNorm: stage s (s = 0..S−1) has `convsPerStage` 3×3 conv + BN + ReLU at stride 2^s... then a
 * 2×2 max-pool, so the output of stage s has stride 2^(s+1). Group g of the teacher is predicted from stage
 * S − G + g (the deepest groups from the deepest stages) through a 1×1 conv, bilinearly resized (align corners, as the
 * feature neck resizes the teacher's maps) onto the teacher's grid.
 */
export class StudentCNN extends nn.Module {
  private readonly convs: nn.Conv2d[][] = [];
  private readonly bns: nn.BatchNorm2d[][] = [];
  private readonly heads: nn.Conv2d[] = [];
  readonly headStage: number[];

  constructor(
    readonly widths: number[],
    readonly convsPerStage: number,
    readonly groups: number[],
    readonly grid: number,
    rng: Rng,
  ) {
    super();
    if (groups.length > widths.length) throw new UserError(`student: ${groups.length} teacher depths need at least as many stages, got widths [${widths}]`);
    let inC = 3;
    widths.forEach((w, s) => {
      const cs: nn.Conv2d[] = [], bs: nn.BatchNorm2d[] = [];
      for (let k = 0; k < convsPerStage; k++) {
        cs.push(this.addChild(`s${s}.conv${k}`, new nn.Conv2d(inC, w, 3, { padding: 1, bias: false }, rng)));
        bs.push(this.addChild(`s${s}.bn${k}`, new nn.BatchNorm2d(w)));
        inC = w;
      }
      this.convs.push(cs);
      this.bns.push(bs);
    });
    this.headStage = groups.map((_, g) => widths.length - groups.length + g);
    groups.forEach((c, g) => this.heads.push(this.addChild(`head${g}`, new nn.Conv2d(widths[this.headStage[g]], c, 1, {}, rng))));
  }

  /** [N, S, S, 3] in [-1, 1] → one [N, grid, grid, C_g] map per group. */
  forward(x: Tensor4D, training: boolean): Tensor4D[] {
    const out: Tensor4D[] = [];
    let h = x;
    for (let s = 0; s < this.widths.length; s++) {
      for (let k = 0; k < this.convsPerStage; k++) h = tf.relu(this.bns[s][k].forward(this.convs[s][k].forward(h), training));
      h = nn.maxPool2d(h, 2);
      this.headStage.forEach((st, g) => {
        if (st !== s) return;
        const y = this.heads[g].forward(h);
        out[g] = y.shape[1] === this.grid && y.shape[2] === this.grid ? y : (tf.image.resizeBilinear(y, [this.grid, this.grid], true) as Tensor4D);
      });
      if (s >= Math.max(...this.headStage)) break;
    }
    return out;
  }
}

/** One-line error when the features are not what the method was built for. */
export function checkFeatures(method: string, f: Tensor4D, channels: number, grid: number): void {
  if (f.shape[3] !== channels || f.shape[1] !== grid || f.shape[2] !== grid)
    throw new UserError(`${method}: features are [${f.shape.slice(1)}] per image, but the model was built for [${grid},${grid},${channels}] (features.layers / features.size changed since it was created?)`);
}

/** One-line error when the images are not at the declared size. */
export function checkImages(method: string, x: Tensor4D, size: number): void {
  if (x.shape[1] !== size || x.shape[2] !== size || x.shape[3] !== 3)
    throw new UserError(`${method}: images are [${x.shape.slice(1)}], but model.config.size is ${size} (RGB ${size}×${size} expected)`);
}

/** Named buffers of a module plus extra fixed tensors (the methods' fitted statistics), for state(). */
export function withExtra(buffers: Map<string, Variable>, extra: Record<string, Variable>): Map<string, Variable> {
  const m = new Map(buffers);
  for (const [k, v] of Object.entries(extra)) m.set(k, v);
  return m;
}

/** A non-trainable variable holding `t` (which is disposed). */
export function fixedVariable(t: import('@tensorflow/tfjs-node').Tensor): Variable {
  const v = tf.variable(t, false);
  t.dispose();
  return v;
}
