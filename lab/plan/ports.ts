/** Port counts: what the server listens on, and what a client's local port range lets it connect. */
import type { ClientSpec, ServerSpec } from '../scenario/types.ts';
import { parsePortRange } from '../scenario/port-range.ts';

/** Kernel default, used to size a 'fill' flood when the scenario leaves the range alone. */
const DEFAULT_PORT_RANGE = '32768 60999';

/** The ports the server listens on: its own program's, or those given for labserver. */
export function listenedPorts(server: ServerSpec): number[] {
  return server.program?.ports ?? server.ports ?? [];
}

export function askedConnections(client: ClientSpec, sysctls: Record<string, string>, destinations: number): number {
  if (typeof client.connections === 'number') return client.connections;
  // 'fill': ask for more than the range can give, so the flood ends on EADDRNOTAVAIL, not on its count.
  const [low, high] = parsePortRange(client.socketPortRange ?? sysctls['net.ipv4.ip_local_port_range'] ?? DEFAULT_PORT_RANGE);
  const perDestination = high - low + 1;
  return perDestination * destinations + 16 * destinations;
}

/** Ports connect() may pick per destination: the namespace's range, narrowed by a per-socket range where they overlap. */
export function portsInReach(sysctls: Record<string, string>, socketPortRange: readonly [number, number] | undefined): number {
  const [low, high] = parsePortRange(sysctls['net.ipv4.ip_local_port_range'] ?? DEFAULT_PORT_RANGE);
  if (!socketPortRange) return high - low + 1;
  return Math.max(1, Math.min(high, socketPortRange[1]) - Math.max(low, socketPortRange[0]) + 1);
}
