// Optimizers as config data: a zod schema (discriminated on `name`, PyTorch's defaults) and a factory.
import type { Variable } from '@tensorflow/tfjs-node';
import { z } from 'zod';
import { Adam } from './adam';
import { AdamW } from './adamw';
import type { Optimizer } from './optimizer';
import { Sgd } from './sgd';

const beta = z.number().min(0).lt(1);
const betas = z.tuple([beta, beta]).default([0.9, 0.999]);

export const OptimizerConfigSchema = z.discriminatedUnion('name', [
  /** torch.optim.AdamW: decoupled weight decay */
  z.object({ name: z.literal('adamw'), betas, eps: z.number().min(0).default(1e-8), weightDecay: z.number().min(0).default(1e-2) }).strict(),
  /** torch.optim.Adam: L2 weight decay added to the gradient */
  z.object({ name: z.literal('adam'), betas, eps: z.number().min(0).default(1e-8), weightDecay: z.number().min(0).default(0) }).strict(),
  /** torch.optim.SGD */
  z
    .object({
      name: z.literal('sgd'),
      momentum: z.number().min(0).default(0),
      nesterov: z.boolean().default(false),
      weightDecay: z.number().min(0).default(0),
      dampening: z.number().min(0).max(1).default(0),
    })
    .strict()
    .superRefine((v, ctx) => {
      if (v.nesterov && (v.momentum <= 0 || v.dampening !== 0))
        ctx.addIssue({ code: 'custom', path: ['nesterov'], message: `Nesterov momentum needs momentum > 0 and dampening 0 (got momentum ${v.momentum}, dampening ${v.dampening})` });
    }),
]);
export type OptimizerConfig = z.infer<typeof OptimizerConfigSchema>;

/** The optimizer a validated config describes, over `vars`, starting at learning rate `lr`. */
export function createOptimizer(cfg: OptimizerConfig, vars: Map<string, Variable>, lr: number): Optimizer {
  switch (cfg.name) {
    case 'adamw':
      return new AdamW(vars, { lr, betas: cfg.betas, eps: cfg.eps, weightDecay: cfg.weightDecay });
    case 'adam':
      return new Adam(vars, { lr, betas: cfg.betas, eps: cfg.eps, weightDecay: cfg.weightDecay });
    case 'sgd':
      return new Sgd(vars, { lr, momentum: cfg.momentum, nesterov: cfg.nesterov, weightDecay: cfg.weightDecay, dampening: cfg.dampening });
    default:
      throw new Error(`optimizer: key 'name': unknown optimizer '${(cfg as { name: string }).name}'`);
  }
}
