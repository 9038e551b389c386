/** The results document: one JSON file per run, enough to re-render reports and compare kernels. */
import type { z } from 'zod';
import type * as schema from './schema.ts';

export { RESULTS_SCHEMA } from './schema.ts';

export type FloodFigures = z.infer<typeof schema.floodFigures>;
/** Round-trip percentiles from the client program's histogram (within 6.25%): ms here, µs in its lines. */
export type RttPercentiles = z.infer<typeof schema.rttPercentiles>;
/** connscale's hold: Pings every interval on every held connection, a Pong within the timeout. */
export type HoldPingFigures = z.infer<typeof schema.holdPingFigures>;
export type Milestone = z.infer<typeof schema.milestone>;
export type MemoryFigures = z.infer<typeof schema.memoryFigures>;
export type EndMemory = z.infer<typeof schema.endMemory>;
export type SlabGrowth = z.infer<typeof schema.slabGrowth>;
export type SlabCacheSize = z.infer<typeof schema.slabCacheSize>;
export type ConnectCost = z.infer<typeof schema.connectCost>;
export type HostResult = z.infer<typeof schema.hostResult>;
export type HostMachine = z.infer<typeof schema.hostMachine>;
export type ExpectationResult = z.infer<typeof schema.expectationResult>;
export type CaseResult = z.infer<typeof schema.caseResult>;
export type Results = z.infer<typeof schema.results>;

/** JSON has no Infinity: open-ended predictions are written with max null and read back as Infinity. */
export function resultsToJson(results: Results): string {
  return JSON.stringify(results, (_key, value) => (value === Infinity ? null : value), 2) + '\n';
}
