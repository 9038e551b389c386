/** connscale's hold: how many pings the held connections send per second. */
import type { Prediction } from '../types.ts';
import type { ClientTheory } from './context.ts';
import { between } from './prediction.ts';

/** connscale: every held connection pings once per interval, so pings/s = connections / interval (within 5%). */
export function pingRate(client: ClientTheory, connections = client.asked): Prediction {
  if (!client.holdPing) throw new Error(`${client.name} holds no connscale ping`);
  const rate = (connections * 1000) / client.holdPing.intervalMs;
  return between(
    Math.floor(rate * 0.95),
    Math.ceil(rate * 1.05),
    `${connections} connections / ${client.holdPing.intervalMs} ms = ${Math.round(rate)} pings/s (within 5%: the first and last interval)`,
  );
}

/**
 * A hold that steps down (holdPing.stepDownMs) holds the cadence asked where the machine keeps up with it,
 * else the first slower one it does: the rate held lies between the slowest cadence's and the one asked.
 * Where the machine's CPU puts it in between is timing, not law: a band, said with its why.
 */
export function pingCadenceHeld(client: ClientTheory, why: string): Prediction {
  if (!client.holdPing) throw new Error(`${client.name} holds no connscale ping`);
  const { intervalMs, stepDownMs = [] } = client.holdPing;
  const rate = (ms: number) => Math.round((client.asked * 1000) / ms);
  const slowest = stepDownMs.at(-1) ?? intervalMs;
  return between(
    Math.floor(rate(slowest) * 0.95),
    Math.ceil(rate(intervalMs) * 1.05),
    `${client.asked} connections / ${intervalMs} ms asked, or a slower cadence down to / ${slowest} ms: ${why}`,
  );
}
