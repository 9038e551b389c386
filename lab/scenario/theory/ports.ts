/**
 * Which local ports connect() and bind() can use, per destination and per source address, and how many
 * connections a client can therefore hold. Each rule cites the kernel path that decides it; which addresses
 * the connections leave from is addresses.ts's.
 */
import type { PortRange } from '../port-range.ts';
import type { Prediction } from '../types.ts';
import { capAt, scale } from './arithmetic.ts';
import { bindMeets, familiesOf, poolShapes, sourceAddresses, type PoolShape } from './addresses.ts';
import type { ClientTheory, KernelRelease, SourceAddress, TheoryContext } from './context.ts';
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

/**
 * The ports one connect() can pick from for one destination (the namespace's range, or the socket's own),
 * less reserved ports and those `bound` lists: by default every port a bound socket holds, whatever its
 * address or family (connect() skips any port whose bind bucket a bind() made, and IPv4 and IPv6 share one
 * bind table per namespace).
 */
export function usablePortsOf(client: ClientTheory, given?: KernelRelease, bound: readonly number[] = client.boundPorts): Prediction {
  const skipped = { reserved: client.reservedPorts, bound };
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
 * parity first, over an even count of ports. Upstream 207184853dbd ("tcp/dccp: change source port selection
 * at connect() time", 6.8, not in the 6.1 stable series) searches a socket with its own range step 1 from its
 * hint, so no half is taken first. Measured over 5 rounds per kernel (`lab matrix --rounds 5`, docs/kernels.md):
 * Debian's 6.1.0-57 stepped up at 50% in 5 of 5 (x4.0 median), 6.12, 6.16, 7.2, 7.3 and this machine's 6.18 in 0 of 5.
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

/** A pool of ports (addresses.ts's PoolShape) with the connections it can hold. */
export interface PortPool extends PoolShape {
  /** Connections it can hold (all its destinations'). */
  ceiling: Prediction;
}

/** Ports bind() can give a socket bound to these addresses: the range less reserved ports and those of sockets they meet (bindMeets). */
function bindPorts(client: ClientTheory, addresses: readonly SourceAddress[], kernel?: KernelRelease): Prediction {
  if (!client.boundSockets) return usablePortsOf(client, kernel);
  const met = client.boundSockets.filter((b) => addresses.some((a) => bindMeets(a, b, client.bindv6only))).map((b) => b.port);
  return usablePortsOf(client, kernel, met);
}

const per = (n: number, what: string, why: string | undefined) => (n === 1 ? (why ?? '') : `${n} ${what} x (${why})`);

/** The pools a client's connections draw from, with the connections each can hold. */
export function portPools(client: ClientTheory, kernel?: KernelRelease): PortPool[] {
  const shapes = poolShapes(client);
  const families = familiesOf(client);
  const label = (pool: PoolShape, why: string) => (shapes.length > 1 && pool.sources.length === 1 ? `${pool.sources[0]!.address}: ${why}` : why);
  return shapes.map((pool): PortPool => {
    if (pool.pickedBy === 'connect') {
      const ports = usablePortsOf(client, kernel);
      return { ...pool, ceiling: scale(ports, pool.ranges, label(pool, per(pool.ranges, 'destinations', ports.why))) };
    }
    if (!pool.wildcards) {
      const ports = bindPorts(client, pool.sources, kernel);
      const destinations = pool.pairs > 1 ? `${pool.pairs} destinations` : 'destination';
      return {
        ...pool,
        ceiling: { ...ports, why: label(pool, `bind(address, 0) before connect(): one range for its ${destinations} (${ports.why})`) },
      };
    }
    const ports = bindPorts(client, pool.wildcards, kernel);
    const what = pool.wildcards.length > 1 ? 'both families' : pool.wildcards[0]!.family === 'ipv6' ? 'IPv6' : 'IPv4';
    return {
      ...pool,
      ceiling: { ...ports, why: `bind() before connect(): one range for all destinations${families.length > 1 ? ` of ${what}` : ''} (${ports.why})` },
    };
  });
}

/**
 * Connections one client can hold: the sum of its pools, at most what it asks. Plain connect() (and
 * IP_BIND_ADDRESS_NO_PORT) pick the port knowing the destination, so each (source address, server IP, server
 * port) has the whole range: addresses x destinations x usable ports. bind(0.0.0.0:0) before connect()
 * picks the port without a destination: one range for everything (measured on 5.10 to 6.18, also with
 * SO_REUSEADDR unless net.ipv4.ip_autobind_reuse=1); bind(address, 0), one range per address.
 */
export function clientCeiling(client: ClientTheory, kernel?: KernelRelease): Prediction {
  const pools = portPools(client, kernel);
  return capAt(sumOf(pools.map((p) => p.ceiling)), client.asked);
}

function sumOf(parts: readonly Prediction[]): Prediction {
  const min = parts.reduce((sum, p) => sum + p.min, 0);
  const max = parts.reduce((sum, p) => sum + p.max, 0);
  const first = parts[0]!;
  const alike = parts.every((p) => p.min === first.min && p.max === first.max);
  const bare = (why: string | undefined) => (why ?? '').replace(/^[^ ]+: /, '');
  const why =
    parts.length === 1
      ? first.why
      : alike && parts.every((p) => bare(p.why) === bare(first.why))
        ? `${parts.length} source addresses x (${bare(first.why)})`
        : parts.map((p) => p.why).join(' + ');
  return { min, max, ...(why ? { why } : {}) };
}

/**
 * Connections one of a client's addresses holds (subject 'each address'): its own pool's, where only it
 * draws from that pool; a share of a pool it draws from with another (the wildcard shared by both
 * families); none when its connections leave from another address (the route's source).
 */
export function addressCeiling(client: ClientTheory, address: SourceAddress, kernel?: KernelRelease): Prediction {
  const pools = portPools(client, kernel);
  const mine = pools.filter((p) => p.sources.some((a) => a.address === address.address));
  if (!mine.length) {
    const used = sourceAddresses(client)
      .filter((a) => a.family === address.family)
      .map((a) => a.address);
    return exactly(
      0,
      `no socket leaves from ${address.address}: ${used.length ? `the route's source is ${used.join(', ')}` : `the client connects over ${familiesOf(client).join(' and ')} only`}`,
    );
  }
  const own = sumOf(mine.map((p) => p.ceiling));
  const shared = mine.some((p) => p.sources.length > 1);
  const ceiling = shared
    ? between(
        0,
        own.max,
        `a share of one range with ${mine
          .flatMap((p) => p.sources)
          .filter((a) => a.address !== address.address)
          .map((a) => a.address)
          .join(', ')} (${own.why})`,
      )
    : own;
  const total = sumOf(pools.map((p) => p.ceiling));
  if (client.asked >= total.max) return ceiling;
  return between(
    0,
    Math.min(ceiling.max, client.asked),
    `${client.asked} asked, below the ceiling: the flood spreads them over its addresses (${ceiling.why})`,
  );
}

/** The errno that says a pool is spent: EADDRINUSE where bind() picks the port, EADDRNOTAVAIL where connect() does. */
export function spentErrno(client: ClientTheory): 'EADDRINUSE' | 'EADDRNOTAVAIL' {
  return poolShapes(client)[0]?.pickedBy === 'bind' ? 'EADDRINUSE' : 'EADDRNOTAVAIL';
}

/**
 * Failures with `errno` a 'fill' flood ends on. The flood spreads its attempts over (source address,
 * destination) pairs and stops asking a pair at its first EADDRNOTAVAIL (connect()) or EADDRINUSE (bind()):
 * each pair fails once per flood process that meets its pool spent, so exactly once per pair with one
 * process, and no failure at all where it asks for no more than its pools hold. Not for keepAsking, which
 * goes on asking.
 */
export function spentFailures(client: ClientTheory, errno: string, kernel?: KernelRelease): Prediction {
  const total = sumOf(portPools(client, kernel).map((p) => p.ceiling));
  if (errno !== spentErrno(client)) return exactly(0, `${spentErrno(client)}, not ${errno}, says a range is spent here`);
  if (client.asked <= total.min) return exactly(0, `${client.asked} asked, within the ranges (${total.min})`);
  const pairs = poolShapes(client).reduce((sum, p) => sum + p.pairs, 0);
  const what = `${pairs} (source address, destination) pair(s), each given up at its first ${errno}`;
  return client.processes === 1
    ? exactly(pairs, what)
    : between(pairs, pairs * client.processes, `${what} by each of ${client.processes} processes that meets it`);
}

/** Sum of the clients' ceilings: what the server holds when every client fills its ranges. */
export function serverHolds(ctx: TheoryContext): Prediction {
  const ceilings = ctx.clients.map((c) => clientCeiling(c, c.kernel ?? ctx.kernel));
  const sum = ceilings.reduce((acc, p) => ({ min: acc.min + p.min, max: acc.max + p.max }), { min: 0, max: 0 });
  return { ...sum, why: `sum over ${ctx.clients.length} client(s)` };
}
