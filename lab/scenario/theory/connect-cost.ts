/** What one connect() costs as its port range fills, as a multiple of its cost on an almost empty range. */
import type { Prediction } from '../types.ts';
import type { ClientTheory, KernelRelease } from './context.ts';
import { hasSocketPortRange, searchesByParity } from './ports.ts';
import { atLeast, between, doesNotApply } from './prediction.ts';

/**
 * How much dearer a connect() is once the first parity is all taken: at least this (measured 1.8x to 21x on
 * six kernels from 5.10 to 7.3 under emulation and 3.7x in containers here; 3x to 5x most often), and how
 * much a search without a step may vary (up to 2.1x measured: a few calls land in a fast or a slow mode).
 */
export const PARITY_STEP_MIN = 1.5;
export const NO_STEP_MAX = 2.5;

/**
 * The cost of one connect() with `percent` of its ports in use, as a multiple of its cost on an almost empty
 * range. The search starts where the last one for that destination ended (the hint grows by the ports it
 * tried), so while free ports lie next to it a connect() costs what it does on an empty range. With parity,
 * once every port of the first parity is taken (50%), each connect() first walks that whole half in vain:
 * a step up; a per-socket range has no parity from 6.8 on (207184853dbd: see searchesByParity), so no step.
 * The 6.15 series made each port checked cheaper by taking no lock (RCU); with one client process nothing
 * contends for those locks, so the lab predicts the same step before and after it (connect-churn measures the
 * series where processes contend).
 */
export function connectCostAt(client: ClientTheory, kernel: KernelRelease, percent: number): Prediction {
  if (client.socketPortRange && !hasSocketPortRange(kernel)) return doesNotApply(`Linux ${kernel.name} has no IP_LOCAL_PORT_RANGE`);
  const parity = searchesByParity(client, kernel);
  const how = client.socketPortRange ? 'a per-socket range' : "the namespace's range";
  if (parity && percent >= 50) {
    return atLeast(
      PARITY_STEP_MIN,
      `${how} on ${kernel.name}: one parity first, all of it taken at 50%, so each connect() walks half the range in vain`,
    );
  }
  if (parity) return between(0.5, 2, 'the first parity still has free ports next to the last one taken');
  return between(0, NO_STEP_MAX, `${how} on ${kernel.name}: step 1, no parity halves, no step; the next free port is next to the last one taken`);
}
