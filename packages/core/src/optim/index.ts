export * from './optimizer';
export * from './adamw';
export * from './adam';
export * from './sgd';
export * from './schedules';
export * from './config';
