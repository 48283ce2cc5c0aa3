// Optimisers with PyTorch semantics (AdamW, Adam, SGD), learning-rate schedules and the config that picks them.
export { type Optimizer, type OptimizerState } from './optimizer';
export { AdamW, type AdamWConfig } from './adamw';
export { Adam, type AdamConfig } from './adam';
export { Sgd, type SgdConfig } from './sgd';
export { lrAt, ScheduleConfigSchema, type ScheduleConfig } from './schedules';
export { createOptimizer, OptimizerConfigSchema, type OptimizerConfig } from './config';
