/**
 * A NAT gateway's ceiling. Every client behind it leaves from the gateway's address, so the connections of
 * all of them to one (server IP, server port) share one set of ports: those the gateway translates to, per
 * (gateway address, destination IP, destination port). MASQUERADE and SNAT keep a client's source port where
 * the translated connection would still be unique, and otherwise search: the range given with --to-ports, or
 * (none given, a source port >= 1024) 1024-65535, 64,512 ports (nf_nat_l4proto_unique_tuple in
 * net/netfilter/nf_nat_proto.c; FACTS.md). Past it the gateway drops the SYN: the client sees a timeout
 * (ETIMEDOUT), not EADDRNOTAVAIL, which only its own kernel's range gives.
 *
 * Its other wall is its conntrack table: every connection it forwards is one entry in its namespace, counted
 * against nf_conntrack_max (machine-wide, one per machine; each namespace counted on its own: net->ct.count
 * in __nf_conntrack_alloc, net/netfilter/nf_conntrack_core.c). Past it a new SYN gets no entry: the kernel
 * first evicts an entry not yet assured (early_drop: in the 8 buckets from the new entry's hash), and with
 * none to evict drops the packet ("nf_conntrack: table full, dropping packet"; the namespace's drop counter).
 * The client sees a timeout, as past the ports.
 */
import type { PortRange } from '../port-range.ts';
import type { ClientTheory, MiddleTheory, Prediction, TheoryContext } from '../types.ts';
import { clientCeiling } from './ports.ts';
import { atLeast, between, exactly, MissingFigure } from './prediction.ts';

/** The ports nf_nat searches for a TCP source port >= 1024 when no range is given. */
export const NAT_SEARCH_RANGE: PortRange = [1024, 65535];

/**
 * nf_nat's search is not exhaustive: from a random offset it tries 128 ports in a row (NF_NAT_MAX_ATTEMPTS),
 * then 64, 32 and 16 from new random offsets, and gives up (the SYN is dropped; the client's retransmission
 * searches again). A range is filled to its last port only by chance, by the clients' further tries: the
 * prediction allows this fraction of the ports to stay unfound where the clients ask for more than there are.
 */
export const NAT_UNFOUND_FRACTION = 0.01;

/** The ports one gateway address has for one destination: the range it translates to. */
export function natPorts(middle: MiddleTheory): { ports: number; why: string } {
  const [low, high] = middle.nat?.ports ?? NAT_SEARCH_RANGE;
  const given = middle.nat?.ports !== undefined;
  return {
    ports: high - low + 1,
    why: `${high - low + 1} ports (${low}-${high}${given ? ', --to-ports' : ", nf_nat's search for a port >= 1024"})`,
  };
}

function gatewayOf(ctx: TheoryContext): MiddleTheory & { nat: NonNullable<MiddleTheory['nat']> } {
  const middle = ctx.middle;
  if (!middle?.nat) throw new Error('the case has no NAT gateway (middle: { kind: "nat" })');
  return middle as MiddleTheory & { nat: NonNullable<MiddleTheory['nat']> };
}

/**
 * What all the clients behind the gateway hold together. Per gateway address: the lesser of what its clients
 * could hold without it (their own ranges) and its ports for each destination (the server's endpoints). Exact
 * where the clients' own ranges bind with room to spare; where the gateway's ports bind, a band: its last
 * ports are found by chance (NAT_UNFOUND_FRACTION).
 */
export function natHolds(ctx: TheoryContext): Prediction {
  const ports = natPortsHold(ctx);
  const table = gatewayOf(ctx).nat.conntrackMax;
  if (table === undefined || ports.min < table) return table === undefined || ports.max <= table ? ports : { ...ports, max: table };
  const slack = tableSlack(table);
  return between(
    table - slack,
    table,
    `the gateway's conntrack table (nf_conntrack_max ${table}, lowered for the case): one entry per connection, before its ports (${ports.min}-${ports.max}) run out; up to ${slack} evicted mid-handshake by early_drop`,
  );
}

/**
 * Where the table binds, the connections held fall short of its entries only by those early_drop evicted
 * mid-handshake (an entry is assured once the client's ACK has passed; the evicted connection's next
 * packet finds the table full): timing decides how many, this fraction of the table at most (none in the
 * runs measured: early_drop 0, the table full at exactly its ceiling).
 */
export const TABLE_EVICTED_FRACTION = 0.01;

function tableSlack(table: number): number {
  return Math.ceil(table * TABLE_EVICTED_FRACTION);
}

/** What the gateway's ports let through, all clients together (natHolds without its table). */
function natPortsHold(ctx: TheoryContext): Prediction {
  const gateway = gatewayOf(ctx);
  const { ports, why: portsWhy } = natPorts(gateway);
  const wall = ports * gateway.backends;
  const unfound = Math.ceil(wall * NAT_UNFOUND_FRACTION);
  const parts = Object.entries(gateway.nat.clientsOf).map(([address, names]) => {
    const clients = names.map((name) => clientNamed(ctx, name));
    const own = clients
      .map((c) => clientCeiling(c, c.kernel ?? ctx.kernel))
      .reduce((a, p) => ({ min: a.min + p.min, max: a.max + p.max }), { min: 0, max: 0 });
    const behind = `${address} (${names.length} client(s))`;
    if (own.max <= wall - unfound) return between(own.min, own.max, `${behind}: their own ranges, within its ${wall}`);
    if (own.min >= wall)
      return between(wall - unfound, wall, `${behind}: ${gateway.backends} destination(s) x ${portsWhy}, the last ${unfound} found by chance`);
    return between(
      Math.min(own.min, wall - unfound),
      Math.min(own.max, wall),
      `${behind}: their own ranges (${own.min}-${own.max}) meet its ${wall}`,
    );
  });
  const min = parts.reduce((sum, p) => sum + p.min, 0);
  const max = parts.reduce((sum, p) => sum + p.max, 0);
  return { min, max, why: parts.map((p) => p.why).join(' + ') };
}

/** The ceiling itself, all clients together: gateway addresses x destinations x ports per destination. */
export function natCeiling(ctx: TheoryContext): Prediction {
  const gateway = gatewayOf(ctx);
  const { ports, why } = natPorts(gateway);
  const addresses = Object.keys(gateway.nat.clientsOf).length;
  return exactly(addresses * gateway.backends * ports, `${addresses} gateway address(es) x ${gateway.backends} destination(s) x ${why}`);
}

/**
 * What the clients' further connects meet past the gateway's wall: each one's SYN is dropped and it times
 * out (ETIMEDOUT), all clients together: what they asked less what they hold.
 */
export function natTimeouts(ctx: TheoryContext): Prediction {
  const holds = natHolds(ctx);
  const asked = ctx.clients.reduce((sum, c) => sum + c.asked, 0);
  return between(
    Math.max(0, asked - holds.max),
    Math.max(0, asked - holds.min),
    `${asked} asked - what the gateway lets through (${holds.min}-${holds.max}); a dropped SYN is a timeout`,
  );
}

/**
 * The gateway's conntrack ceiling, as read inside it: machine-wide, but counted per namespace (net->ct.count).
 * Where the case lowered it, the value it lowered it to.
 */
export function conntrackCeiling(ctx: TheoryContext): Prediction {
  const gateway = gatewayOf(ctx);
  const lowered = gateway.nat.conntrackMax;
  if (lowered !== undefined) return exactly(lowered, 'nf_conntrack_max as the lab lowered it for the case: machine-wide, read-only in a namespace');
  if (gateway.conntrackMax === undefined) throw new MissingFigure('nf_conntrack_max is read inside the gateway as the case runs');
  return exactly(gateway.conntrackMax, 'nf_conntrack_max: machine-wide and read-only in a namespace, each namespace counted against it on its own');
}

/**
 * The entries the gateway's table holds once the clients have asked for more than it takes: exactly its
 * ceiling (an entry is made only while the count stays at or under nf_conntrack_max; an evicted one's place
 * is taken by the entry it was evicted for). Where they ask for less, one entry per connection held.
 */
export function conntrackFull(ctx: TheoryContext): Prediction {
  const table = gatewayOf(ctx).nat.conntrackMax;
  if (table === undefined) throw new Error('the case does not lower the gateway\'s table (middle: { kind: "nat", conntrackMax })');
  const ports = natPortsHold(ctx);
  if (ports.min >= table) return exactly(table, `its table is full: nf_conntrack_max ${table}, one entry per connection it forwarded`);
  return { ...ports, why: `one entry per connection held: the clients reach ${ports.min}-${ports.max}, under its ${table}` };
}

/**
 * The packets the gateway's full table dropped ("table full, dropping packet"): at least one per connect
 * that timed out (its SYN, and again each retransmission within the client's connect timeout).
 */
export function conntrackDrops(ctx: TheoryContext): Prediction {
  const timeouts = natTimeouts(ctx);
  return atLeast(timeouts.min, `one per connect that timed out (${timeouts.min}-${timeouts.max}), and one per SYN it retransmitted meanwhile`);
}

function clientNamed(ctx: TheoryContext, name: string): ClientTheory {
  const client = ctx.clients.find((c) => c.name === name);
  if (!client) throw new Error(`no client ${name} behind the gateway`);
  return client;
}
