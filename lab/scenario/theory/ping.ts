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
