/** Which cadence of connscale's hold a client held. */
import type { HoldPingFigures } from './results.ts';

/**
 * The cadence a client held: in a hold that steps down, the first one every process pinged to its end with
 * no Pong later than a quarter of the timeout; in a hold of one cadence, that one, where no Pong passed the
 * timeout. None where it held none.
 */
export function heldCadence(ping: HoldPingFigures): { intervalMs: number; askedPerSecond: number } | undefined {
  if (ping.steps) return ping.steps.find((s) => s.held);
  return ping.timeouts === 0 && ping.sent > 0 ? ping : undefined;
}
