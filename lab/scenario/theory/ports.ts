/**
 * Which local ports connect() can use, and how many connections a client can therefore hold. Each rule
 * cites the kernel path that decides it.
 */
import type { PortRange } from '../port-range.ts';
import type { Prediction } from '../types.ts';
import { capAt, scale } from './arithmetic.ts';
import type { ClientTheory, KernelRelease, TheoryContext } from './context.ts';
import { between, exactly } from './prediction.ts';

/**
 * Ports connect() can pick from a range, as __inet_hash_connect() scans it.
 *
 * The scan runs over `remaining = (high + 1 - low) & ~1` offsets from a per-destination starting point, one
 * parity first, then the other. With an even number of ports every port is reachable from every start.
 * With an odd number, each scan covers all but one port and which one it misses depends on the start, so
 * the last free port may be out of reach of the connect() that asks for it: EADDRNOTAVAIL one early.
 * Ports in ip_local_reserved_ports are skipped, and so is any port a bound socket already holds
 * (a bind bucket with fastreuse >= 0, e.g. Docker's DNS listener on 127.0.0.11).
 */
export function usablePorts(range: PortRange, skipped: { reserved?: readonly number[]; bound?: readonly number[] } = {}): Prediction {
  const [low, high] = range;
  const count = high - low + 1;
  const inRange = (p: number) => p >= low && p <= high;
  const taken = new Set([...(skipped.reserved ?? []), ...(skipped.bound ?? [])].filter(inRange));
  const usable = count - taken.size;
  const parts = [`${count} ports in ${low}-${high}`];
  const reserved = (skipped.reserved ?? []).filter(inRange).length;
  const bound = new Set((skipped.bound ?? []).filter(inRange)).size;
  if (reserved) parts.push(`${reserved} reserved`);
  if (bound) parts.push(`${bound} held by a bound socket`);
  if (count % 2 === 1 && count > 1) {
    return between(usable - 1, usable, `${parts.join(' - ')}; odd count: the last may be out of the scan's reach`);
  }
  return exactly(usable, parts.join(' - '));
}

export function usablePortsOf(client: ClientTheory, given?: KernelRelease): Prediction {
  const skipped = { reserved: client.reservedPorts, bound: client.boundPorts };
  if (!client.socketPortRange) return usablePorts(client.portRange, skipped);
  const kernel = given ?? client.kernel;
  if (!kernel) throw new Error('a per-socket port range needs the kernel to predict from');
  return socketRangePorts(client.portRange, client.socketPortRange, kernel, skipped);
}

/**
 * IP_LOCAL_PORT_RANGE came with Linux 6.3 and was backported to the 6.1 stable series in 6.1.32 (Debian's
 * bookworm kernel has it); older kernels refuse it with ENOPROTOOPT.
 */
export function hasSocketPortRange(kernel: KernelRelease): boolean {
  return kernel.atLeast(6, 3) || (kernel.series(6, 1) && kernel.atLeast(6, 1, 32));
}

/**
 * Whether connect() searches a per-socket range (IP_LOCAL_PORT_RANGE) as it searches the namespace's: one
 * parity first, over an even count of ports. 6.8 made the search step 1 over every port of a per-socket
 * range; Debian's 6.1 (6.1.192) still steps up at 50%, 6.12 and later do not (lab matrix, 7 kernels).
 */
function socketRangeByParity(kernel: KernelRelease): boolean {
  return !kernel.atLeast(6, 8);
}

/**
 * Ports connect() can pick with IP_LOCAL_PORT_RANGE set (inet_sk_get_local_port_range): each end of the
 * socket's range applies where it lies inside the namespace's range. From 6.8 every port of it is in reach
 * (all 999 of an odd-sized one, where the namespace's own odd range gives 998 or 999); before, the search
 * covers an even count as for the namespace's range, so the last port of an odd-sized one may be out of
 * reach (Debian's 6.1.0-57 gave 998 once, 999 in other runs).
 */
export function socketRangePorts(
  namespaceRange: PortRange,
  socketRange: PortRange,
  kernel: KernelRelease,
  skipped: { reserved?: readonly number[]; bound?: readonly number[] } = {},
): Prediction {
  if (!hasSocketPortRange(kernel)) return exactly(0, `Linux ${kernel.name} has no IP_LOCAL_PORT_RANGE (6.3+, 6.1.32+): every setsockopt fails`);
  const [nsLow, nsHigh] = namespaceRange;
  const inside = (port: number) => port >= nsLow && port <= nsHigh;
  const [low, high] = [inside(socketRange[0]) ? socketRange[0] : nsLow, inside(socketRange[1]) ? socketRange[1] : nsHigh];
  const count = high - low + 1;
  const taken = new Set([...(skipped.reserved ?? []), ...(skipped.bound ?? [])].filter((p) => p >= low && p <= high)).size;
  const what = `${count} ports in ${low}-${high} (per socket)${taken ? ` - ${taken} taken` : ''}`;
  if (socketRangeByParity(kernel) && count % 2 === 1 && count > 1) {
    return between(
      count - taken - 1,
      count - taken,
      `${what}; before 6.8 the search covers an even count, one parity at a time: the last may be out of reach`,
    );
  }
  return exactly(count - taken, `${what}, every one in reach`);
}

/**
 * Whether connect()'s port search takes one parity first: with the namespace's range always (since 4.2:
 * connect() even ports, bind() odd); with a per-socket range (IP_LOCAL_PORT_RANGE) only before 6.8, which
 * made its step 1 (socketRangeByParity).
 */
export function searchesByParity(client: ClientTheory, kernel: KernelRelease): boolean {
  return !client.socketPortRange || socketRangeByParity(kernel);
}

/**
 * Connections one client can hold. Plain connect() (and IP_BIND_ADDRESS_NO_PORT) pick the port knowing the
 * destination, so each (server IP, server port) has the whole range: destinations x usable ports.
 * bind(0.0.0.0:0) before connect() picks the port without a destination: one range for everything
 * (measured on 5.10 to 6.18, also with SO_REUSEADDR unless net.ipv4.ip_autobind_reuse=1).
 */
export function clientCeiling(client: ClientTheory, kernel?: KernelRelease): Prediction {
  const ports = usablePortsOf(client, kernel);
  const perRange = client.bind === 'any' || client.bind === 'reuseaddr';
  const times = perRange ? 1 : client.destinations;
  const why = perRange
    ? `bind() before connect(): one range for all destinations (${ports.why})`
    : times === 1
      ? ports.why
      : `${times} destinations x (${ports.why})`;
  return capAt(scale(ports, times, why ?? ''), client.asked);
}

/** Sum of the clients' ceilings: what the server holds when every client fills its ranges. */
export function serverHolds(ctx: TheoryContext): Prediction {
  const ceilings = ctx.clients.map((c) => clientCeiling(c, c.kernel ?? ctx.kernel));
  const sum = ceilings.reduce((acc, p) => ({ min: acc.min + p.min, max: acc.max + p.max }), { min: 0, max: 0 });
  return { ...sum, why: `sum over ${ctx.clients.length} client(s)` };
}
