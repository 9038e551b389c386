/** Port counts: what the server listens on, and what a client's local port range lets it connect. */
import type { ClientSpec, ServerSpec } from '../scenario/types.ts';
import { parsePortRange } from '../scenario/port-range.ts';

/** Kernel default, used to size a 'fill' flood when the scenario leaves the range alone. */
const DEFAULT_PORT_RANGE = '32768 60999';

/** The ports the server listens on: its own program's, or those given for labserver. */
export function listenedPorts(server: ServerSpec): number[] {
  return server.program?.ports ?? server.ports ?? [];
}

/**
 * Connections a client asks for. 'fill': more than its pools of ports can give (each range whole, and 16
 * more per (source, destination) pair, more than its flood processes can spend on failures), so the flood
 * ends on EADDRNOTAVAIL or EADDRINUSE, not on its count.
 */
export function askedConnections(client: ClientSpec, sysctls: Record<string, string>, pools: readonly { ranges: number; pairs: number }[]): number {
  if (typeof client.connections === 'number') return client.connections;
  const [low, high] = parsePortRange(client.socketPortRange ?? sysctls['net.ipv4.ip_local_port_range'] ?? DEFAULT_PORT_RANGE);
  const perRange = high - low + 1;
  return pools.reduce((sum, pool) => sum + pool.ranges * perRange + 16 * pool.pairs, 0);
}

/** Ports connect() may pick per destination: the namespace's range, narrowed by a per-socket range where they overlap. */
export function portsInReach(sysctls: Record<string, string>, socketPortRange: readonly [number, number] | undefined): number {
  const [low, high] = parsePortRange(sysctls['net.ipv4.ip_local_port_range'] ?? DEFAULT_PORT_RANGE);
  if (!socketPortRange) return high - low + 1;
  return Math.max(1, Math.min(high, socketPortRange[1]) - Math.max(low, socketPortRange[0]) + 1);
}
