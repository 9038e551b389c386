/** The public API: what scenario files and programs using the lab import. */
export { defineScenario } from './scenario/define.ts';
export type * from './scenario/types.ts';
export { connectCostExpectations } from './scenario/connect-cost-expectations.ts';
export {
  acceptedPlusQueues,
  atLeast,
  between,
  clientCeiling,
  clientFdCeiling,
  connectCostAt,
  descriptorsLeft,
  doesNotApply,
  endCgroupBytes,
  slabBytesPerConnection,
  exactly,
  pingRate,
  serverAccepts,
  hasSocketPortRange,
  searchesByParity,
  serverHolds,
  usablePorts,
  usablePortsOf,
} from './scenario/theory.ts';
export { nginxHolds, nginxKernelHolds, nginxSettings, nginxWorkerWall, programProcesses, type NginxSettings } from './scenario/server-program-theory.ts';
