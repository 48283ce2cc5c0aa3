// Per-epoch learning-rate schedules with the semantics of torch.optim.lr_scheduler stepped once per epoch, and an
// optional linear warm-up in front (torch: SequentialLR([LinearLR(startFactor, 1, warmupEpochs), schedule],
// milestones=[warmupEpochs])): during warm-up epoch e the factor is startFactor + (1 − startFactor)·e/W; the schedule
// then starts from its own epoch 0 (so step/multistep epochs count from the end of warm-up and cosine runs over the
// remaining totalEpochs − W epochs).
import { z } from 'zod';

const warmup = {
  /** linear warm-up epochs W before the schedule (0: none) */
  warmupEpochs: z.number().int().min(0).default(0),
  /** lr factor of the first warm-up epoch, as LinearLR's start_factor (its default 1/3) */
  warmupStartFactor: z.number().gt(0).max(1).default(1 / 3),
};

export const ScheduleConfigSchema = z.discriminatedUnion('kind', [
  /** StepLR: γ^floor(e / stepSize) */
  z.object({ kind: z.literal('step'), stepSize: z.number().int().positive(), gamma: z.number().positive().default(0.1), ...warmup }).strict(),
  /** MultiStepLR: γ^(number of milestones ≤ e) */
  z.object({ kind: z.literal('multistep'), milestones: z.array(z.number().int().min(0)), gamma: z.number().positive().default(0.1), ...warmup }).strict(),
  /** CosineAnnealingLR with T_max = totalEpochs − W: ηmin + (base − ηmin)(1 + cos(π e / T_max)) / 2 */
  z.object({ kind: z.literal('cosine'), etaMin: z.number().min(0).default(0), ...warmup }).strict(),
  /** ExponentialLR: γ^e */
  z.object({ kind: z.literal('exponential'), gamma: z.number().positive(), ...warmup }).strict(),
  z.object({ kind: z.literal('constant'), ...warmup }).strict(),
]);
export type ScheduleConfig = z.infer<typeof ScheduleConfigSchema>;

/**
 * Learning rate of `epoch` (counted from 0) for a validated schedule config: the lr torch's scheduler gives after
 * `epoch` scheduler steps.
 */
export function lrAt(schedule: ScheduleConfig, baseLr: number, epoch: number, totalEpochs: number): number {
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`lrAt: epoch must be an integer ≥ 0, got ${epoch}`);
  const w = schedule.warmupEpochs ?? 0;
  if (epoch < w) {
    const s = schedule.warmupStartFactor ?? 1 / 3;
    return baseLr * (s + ((1 - s) * epoch) / w);
  }
  const e = epoch - w;
  switch (schedule.kind) {
    case 'step':
      return baseLr * schedule.gamma ** Math.floor(e / schedule.stepSize);
    case 'multistep':
      return baseLr * schedule.gamma ** schedule.milestones.filter((m) => m <= e).length;
    case 'exponential':
      return baseLr * schedule.gamma ** e;
    case 'cosine': {
      const tMax = totalEpochs - w;
      if (!(tMax > 0)) throw new Error(`schedule: key 'warmupEpochs': ${w} warm-up epochs leave no epochs of the ${totalEpochs} for the cosine schedule`);
      return schedule.etaMin + ((baseLr - schedule.etaMin) * (1 + Math.cos((Math.PI * e) / tMax))) / 2;
    }
    case 'constant':
      return baseLr;
    default:
      throw new Error(`schedule: key 'kind': unknown schedule '${(schedule as { kind: string }).kind}'`);
  }
}
