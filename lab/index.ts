/** The public API: what scenario files and programs using the lab import. */
export { defineScenario } from './scenario/define.ts';
export type * from './scenario/types.ts';
export { connectCostExpectations } from './scenario/connect-cost-expectations.ts';
export * from './scenario/theory/index.ts';
