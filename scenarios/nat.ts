import {
  atLeast,
  conntrackCeiling,
  conntrackDrops,
  conntrackFull,
  defineScenario,
  exactly,
  natHolds,
  natTimeouts,
  serverHolds,
  type Expectation,
} from 'tcp-limits-lab';

// --quick: the same walls on narrow ranges: each client's own range 1000 ports, the gateway's 2300 (its
// default search, 1024-65535, is 64,512), so the clients' ranges and the gateway's stand as they do in full.
const quickClientRange = { 'net.ipv4.ip_local_port_range': '40000 40999' };
const QUICK_GATEWAY_PORTS = '40000 42299';
// The cases that double the wall narrow the gateway's ports in both modes, so that four clients' own ranges
// still reach it twice over (and the host's conntrack table, two entries a connection, holds the run).
const DOUBLED_PORTS = { full: '20000 59999', quick: '40000 41499' };

/** What the clients behind the gateway hold, and the server sees: every connection from the gateway. */
const throughTheGateway: Expectation[] = [
  { claim: 'all clients together hold what the gateway lets through', subject: 'all clients', metric: 'estab', predict: natHolds },
  { claim: 'the server holds the same connections', subject: 'server', metric: 'estab', predict: natHolds },
  { claim: "every one of them comes from the gateway's address(es)", subject: 'server', metric: 'fromMiddle', predict: natHolds },
  { claim: 'the gateway tracks one entry per connection in its own namespace', subject: 'middle', metric: 'conntrack.count', predict: natHolds },
];

/** Past the gateway's wall: dropped SYNs, timeouts at the clients, no EADDRNOTAVAIL (their own ranges are not spent). */
const pastTheWall: Expectation[] = [
  ...throughTheGateway,
  {
    claim: 'each connect past the wall times out: the gateway drops its SYN',
    subject: 'all clients',
    metric: 'errors.ETIMEDOUT',
    predict: natTimeouts,
  },
  {
    claim: 'the gateway counts each dropped SYN as a failed insert: its translated tuple was taken',
    subject: 'middle',
    metric: 'conntrack.insertFailed',
    predict: () => atLeast(1, 'one per SYN the search found no free port for (the clients retransmit theirs)'),
  },
  {
    claim: "no client's own range is spent: no EADDRNOTAVAIL",
    subject: 'each client',
    metric: 'errors.EADDRNOTAVAIL',
    predict: () => exactly(0, 'each client asks for fewer than its own range holds'),
  },
];

export default defineScenario({
  name: 'nat',
  claim: 'Behind a NAT gateway the port limit is per (gateway IP, server IP, server port), for all the clients together.',
  story: `Docker's and Kubernetes' egress is source NAT: every client behind the gateway leaves from the
gateway's address. The "64k" that is a myth for one server (64k-myth: four clients hold 4 x 28k on one server
port) becomes real here: the gateway names each connection by (its address, its port, server IP, server port),
so to one server port all its clients together share its ports. MASQUERADE keeps a client's source port where
that is free and otherwise searches 1024-65535: 64,512 ports per destination, whatever each client's own
range. One client cannot reach that wall (its own range, 28k, runs out first: EADDRNOTAVAIL), two fit under
it, four meet it: past it the gateway drops the SYN and the client sees a timeout, never EADDRNOTAVAIL. A
second gateway address or a second server port doubles the wall. --random-fully picks every port at random
(the fix for conntrack's insert races, kubernetes #71261). The gateway is one-armed on the run's network:
forwarding and its MASQUERADE rule live in its own namespace (set from outside; the clients' route to the
server goes via it), and its connection tracking is read there: nf_conntrack_count, and insert_failed, drop
and early_drop (what conntrack -S shows). Its table is the other wall: one entry per connection it
forwards, counted against nf_conntrack_max. That ceiling is machine-wide on this kernel (read-only in a
namespace; each namespace counted against it on its own), so for the "table full" case the lab lowers the
machine's value for that case alone: with no other run on this kernel (it waits, then refuses), the case's
traffic exempt from the machine's own tracking so that only the gateway tracks it, every namespace well
under the new value; and puts it back after the case (and on failure, Ctrl-C, or \`lab clean\` if the lab
died). Past a full table the gateway drops the SYN ("nf_conntrack: table full, dropping packet"): the
client sees a timeout again, never EADDRNOTAVAIL. Quick mode narrows the ranges: each client 1000 ports,
the gateway 2300 (--to-ports), the same walls in seconds.`,
  seeds: ['002'],
  server: { ports: [8080], backlog: 4096 },
  client: { connections: 'fill', inflight: 256, connectTimeoutMs: 5000 },
  cases: [
    {
      name: '4 clients, no gateway',
      about: "64k-myth's four clients, each with its own address: four ranges on one server port.",
      clients: 4,
      quick: { client: { sysctls: quickClientRange } },
      expect: [{ claim: 'the server holds the sum of four ranges', subject: 'server', metric: 'estab', predict: serverHolds }],
    },
    {
      name: '1 client behind the gateway',
      about: "One client behind the gateway: its own range runs out before the gateway's ports do.",
      clients: 1,
      middle: { kind: 'nat' },
      quick: { client: { sysctls: quickClientRange }, middle: { kind: 'nat', ports: QUICK_GATEWAY_PORTS } },
      expect: [
        ...throughTheGateway,
        { claim: 'its own range is spent first: EADDRNOTAVAIL', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => atLeast(1) },
      ],
    },
    {
      name: '2 clients behind the gateway',
      about: 'Two clients: their two ranges fit under the gateway ports for the one destination.',
      clients: 2,
      middle: { kind: 'nat' },
      quick: { client: { sysctls: quickClientRange }, middle: { kind: 'nat', ports: QUICK_GATEWAY_PORTS } },
      expect: throughTheGateway,
    },
    {
      name: '4 clients behind the gateway',
      about: "Four clients: together they hold no more than the gateway's ports for the destination; the rest time out.",
      clients: 4,
      client: { connections: 17_500 },
      middle: { kind: 'nat' },
      quick: { client: { connections: 700, sysctls: quickClientRange }, middle: { kind: 'nat', ports: QUICK_GATEWAY_PORTS } },
      expect: pastTheWall,
    },
    {
      name: 'two gateway addresses',
      about: 'Two gateway addresses, each given two of the four clients: two sets of ports, twice the wall.',
      clients: 4,
      client: { connections: 22_000 },
      middle: { kind: 'nat', addresses: 2, ports: DOUBLED_PORTS.full },
      quick: { client: { connections: 900, sysctls: quickClientRange }, middle: { kind: 'nat', ports: DOUBLED_PORTS.quick } },
      expect: pastTheWall,
    },
    {
      name: 'two server ports',
      about: 'One gateway address, two server ports: each destination has its own ports, twice the wall.',
      clients: 4,
      client: { connections: 22_000 },
      server: { ports: [8080, 8081] },
      middle: { kind: 'nat', ports: DOUBLED_PORTS.full },
      quick: { client: { connections: 900, sysctls: quickClientRange }, middle: { kind: 'nat', ports: DOUBLED_PORTS.quick } },
      expect: pastTheWall,
    },
    {
      name: '--random-fully',
      about: 'Two clients again, every translated port picked at random: the same ceiling, none of their own ports kept.',
      clients: 2,
      middle: { kind: 'nat', randomFully: true },
      quick: { client: { sysctls: quickClientRange }, middle: { kind: 'nat', ports: QUICK_GATEWAY_PORTS } },
      expect: throughTheGateway,
    },
    {
      name: 'a small conntrack table in the gateway',
      about:
        "nf_conntrack_max lowered for this case alone (5,000; quick 1,500; machine-wide: the kernel keeps one): the gateway's table fills before its ports; past it, dropped SYNs and timeouts.",
      clients: 1,
      client: { connections: 6000 },
      middle: { kind: 'nat', conntrackMax: 5000 },
      quick: {
        client: { connections: 2000, sysctls: { 'net.ipv4.ip_local_port_range': '40000 41999' } },
        middle: { kind: 'nat', conntrackMax: 1500 },
      },
      expect: [
        ...throughTheGateway.filter((e) => e.metric !== 'conntrack.count'),
        {
          claim: "the gateway's ceiling is the machine's, as lowered for the case",
          subject: 'middle',
          metric: 'conntrack.max',
          predict: conntrackCeiling,
        },
        {
          claim: "the gateway's table is full: as many entries as its ceiling",
          subject: 'middle',
          metric: 'conntrack.count',
          predict: conntrackFull,
        },
        {
          claim: 'each connect past the table times out: the gateway drops its SYN',
          subject: 'all clients',
          metric: 'errors.ETIMEDOUT',
          predict: natTimeouts,
        },
        {
          claim: "the gateway counts each SYN its full table dropped ('table full, dropping packet')",
          subject: 'middle',
          metric: 'conntrack.drop',
          predict: conntrackDrops,
        },
        {
          claim: 'no insert failed: one client, its own ports kept, no two connections race for one tuple',
          subject: 'middle',
          metric: 'conntrack.insertFailed',
          predict: () => exactly(0, "MASQUERADE keeps the one client's ports: every translated tuple is unique"),
        },
        {
          claim: 'the client sees timeouts, never EADDRNOTAVAIL: its own range is not spent',
          subject: 'each client',
          metric: 'errors.EADDRNOTAVAIL',
          predict: () => exactly(0, 'the client asks for no more than its own range holds'),
        },
      ],
    },
  ],
});
