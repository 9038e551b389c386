/**
 * Which of its addresses a client's connections leave from, and which sockets a bind() to an address meets:
 * the address half of the ports law (ports.ts counts the ports). Each rule cites the kernel path that decides it.
 */
import type { BoundSocket, ClientTheory, Family, SourceAddress, SourceMode } from './context.ts';

type OneFamily = SourceAddress['family'];

/** The families a client connects over, IPv4 first. */
export function familiesOf(client: Pick<ClientTheory, 'family'>): OneFamily[] {
  const family: Family = client.family ?? 'ipv4';
  return family === 'dual' ? ['ipv4', 'ipv6'] : [family];
}

/** Its addresses in the families it uses (just its IP where the plan said no more). */
export function addressesOf(client: Pick<ClientTheory, 'ip' | 'addresses'>): readonly SourceAddress[] {
  return client.addresses ?? [{ address: client.ip, family: 'ipv4' }];
}

export function sourceModeOf(client: Pick<ClientTheory, 'source'>): SourceMode {
  return client.source ?? 'route';
}

/** Destinations per family: the server answers on as many addresses and ports in each family the client uses. */
export function destinationsPerFamily(client: Pick<ClientTheory, 'destinations' | 'family'>): number {
  return client.destinations / familiesOf(client).length;
}

/**
 * The address a socket bound to no address leaves from: the route's preferred source. IPv4 (fib_select_default,
 * inet_select_addr): the interface's primary address, the first one added, so addresses added after it stay
 * idle. IPv6 (ipv6_dev_get_saddr, RFC 6724): every address of the lab's /64 ties on every rule (rule 8's common
 * prefix is capped at the prefix length, 64), and Linux keeps the first of equals in the interface's list,
 * which holds the newest address first: the one added last (measured on 6.18: fd00:1ab:240::e of ::b to ::e).
 */
export function routeSource(client: Pick<ClientTheory, 'ip' | 'addresses'>, family: OneFamily): SourceAddress | undefined {
  const own = addressesOf(client).filter((a) => a.family === family);
  return family === 'ipv4' ? own[0] : own.at(-1);
}

/** The addresses the client's connections leave from: the route's source per family, or every one it binds to. */
export function sourceAddresses(client: Pick<ClientTheory, 'ip' | 'addresses' | 'family' | 'source'>): SourceAddress[] {
  const families = familiesOf(client);
  if (sourceModeOf(client) !== 'route') return addressesOf(client).filter((a) => families.includes(a.family));
  return families.flatMap((f) => routeSource(client, f) ?? []);
}

/** The wildcard a socket binds to with bind(0.0.0.0:0) or bind([::]:0): "0.0.0.0" or "::". */
export function wildcard(family: OneFamily): SourceAddress {
  return { address: family === 'ipv4' ? '0.0.0.0' : '::', family };
}

/**
 * Whether bind() to `address` (port 0) must skip a port held by `bound` (inet_csk_bind_conflict and
 * inet_rcv_saddr_equal): the same address; a wildcard of the other's family on either side; and an IPv6
 * wildcard that is not IPV6_V6ONLY (net.ipv6.bindv6only 0, the default) covers every IPv4 address too.
 * ss lists a dual-stack [::] listener as "*", an IPV6_V6ONLY one as "::". Docker's DNS listener on
 * 127.0.0.11 therefore takes its port from bind(0.0.0.0:0) and from a dual-stack bind([::]:0), not from a
 * bind to the client's own address (measured: 28232 of 28232 ports, where connect() gets 28231).
 */
export function bindMeets(address: SourceAddress, bound: BoundSocket, bindv6only = false): boolean {
  const boundFamily: OneFamily | 'both' = bound.address === '*' ? 'both' : bound.address.includes(':') ? 'ipv6' : 'ipv4';
  const boundWildcard = bound.address === '*' || bound.address === '0.0.0.0' || bound.address === '::';
  const anyAddress = address.address === '0.0.0.0' || address.address === '::';
  // A wildcard this bind makes: IPv4's covers IPv4; IPv6's covers IPv6, and IPv4 too unless bindv6only.
  const covers = (family: OneFamily | 'both') => family === 'both' || family === address.family || (address.family === 'ipv6' && !bindv6only);
  if (anyAddress) return covers(boundFamily);
  if (boundWildcard) return boundFamily === 'both' || boundFamily === address.family;
  return bound.address === address.address;
}

/**
 * A pool of ports some of a client's connections draw from: which addresses draw from it, how many whole
 * ranges it holds, and which call picks a port in it. connect() keeps one range per (source address,
 * destination): a source's pool holds one range per destination of its family (__inet_hash_connect only
 * needs the four-tuple to be unique). bind() with port 0 picks before any destination is known: one range
 * per address it binds to, shared by every destination (inet_csk_find_open_port); for the wildcard one range
 * for the whole host, both families' when [::] covers IPv4 too (net.ipv6.bindv6only 0, the default).
 */
export interface PoolShape {
  sources: SourceAddress[];
  /** Whole port ranges it holds. */
  ranges: number;
  /** (source, destination) pairs the flood asks from it: each is given up at its first failure. */
  pairs: number;
  pickedBy: 'connect' | 'bind';
  /** The wildcards bound to, where bind() picks for the wildcard: "0.0.0.0", "::". */
  wildcards?: SourceAddress[];
}

type PoolFacts = Pick<ClientTheory, 'ip' | 'addresses' | 'family' | 'source' | 'bind' | 'bindv6only' | 'destinations'>;

export function poolShapes(client: PoolFacts): PoolShape[] {
  const perFamily = destinationsPerFamily(client);
  const sources = sourceAddresses(client);
  const mode = sourceModeOf(client);
  if (mode === 'bind') return sources.map((a) => ({ sources: [a], ranges: 1, pairs: perFamily, pickedBy: 'bind' }));
  if (mode === 'route' && (client.bind === 'any' || client.bind === 'reuseaddr')) {
    const families = familiesOf(client);
    // 0.0.0.0 and a dual-stack [::] meet on every port: one pool for both families, unless bindv6only.
    const groups = families.length > 1 && !client.bindv6only ? [families] : families.map((f) => [f]);
    return groups.map((group) => ({
      sources: sources.filter((a) => group.includes(a.family)),
      ranges: 1,
      pairs: perFamily * group.length,
      pickedBy: 'bind',
      wildcards: group.map(wildcard),
    }));
  }
  return sources.map((a) => ({ sources: [a], ranges: perFamily, pairs: perFamily, pickedBy: 'connect' }));
}
