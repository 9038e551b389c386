/**
 * What only a case with a middle host reads, by host name: connection tracking inside each host whose
 * namespace tracks (a gateway), a proxy's upstream errors from its log, and the server's connections per
 * peer for the middle host's addresses.
 */
import type { CasePlan } from '../plan/plan.ts';
import type { Host } from '../runtime/runtime.ts';
import { readConntrack, type ConntrackReading } from './conntrack.ts';
import { readProxyErrors } from './proxy-log.ts';
import { readPeers } from './sources.ts';

export interface MiddleReading {
  conntrack?: ConntrackReading;
  peers?: Record<string, number>;
  errors?: Record<string, number>;
}

export async function readMiddle(hosts: readonly Host[], plan: Pick<CasePlan, 'middle' | 'server'>): Promise<Map<string, MiddleReading>> {
  const readings = new Map<string, MiddleReading>();
  const middle = plan.middle;
  const server = hosts.find((h) => h.plan.name === plan.server.name);
  if (!middle || !server) return readings;
  for (const host of hosts.filter((h) => h.plan.tracksConnections)) readings.set(host.plan.name, { conntrack: await readConntrack(host) });
  // A proxy's errors are its upstream connects that failed, as its error log counts them.
  const proxy = middle.proxy && hosts.find((h) => h.plan.name === middle.name);
  if (proxy && middle.proxy) readings.set(middle.name, { errors: await readProxyErrors(proxy, middle.proxy.software) });
  readings.set(server.plan.name, { peers: await readPeers(server, middle.ips) });
  return readings;
}
