/** The public API: what scenario files and programs using the lab import. */
export { defineScenario } from './scenario/define.ts';
export type * from './scenario/types.ts';
export {
  acceptedPlusQueues,
  atLeast,
  between,
  clientCeiling,
  clientFdCeiling,
  descriptorsLeft,
  endCgroupBytes,
  slabBytesPerConnection,
  exactly,
  pingRate,
  serverAccepts,
  hasSocketPortRange,
  serverHolds,
  usablePorts,
  usablePortsOf,
} from './scenario/theory.ts';
