import { clientCeiling, defineScenario, exactly, pingRate, serverHolds } from 'tcp-limits-lab';

const CLIENTS = 16;
/** 16 x 62,500 = 1,000,000; a quarter of each of a client IP's four destination ranges. */
export const PER_CLIENT = 62_500;
// connscale's hold: a Ping every 5 minutes on each of a million, about 3,300 pings/s, so a fifth of them ping
// during the minute. A Ping a minute (16,700/s) melted down here: round trips passed a second within two
// seconds and the timeouts' closes made it worse (BENCHMARKS.md).
const HOLD_PING = { seconds: 60, intervalMs: 300_000, timeoutMs: 1000 };

export default defineScenario({
  name: 'c1m',
  claim: 'One server container holds 1,000,000 concurrent connections on one small machine; every ceiling on the way is a setting, not a law.',
  story: `The seeds stopped at 28k (one client), 100k-200k (connscale, four client hosts) and 500k (Urban Airship,
one big server). Here one server container on a 2-core machine takes a million, from ${CLIENTS} client
containers, and answers a Ping on every one of them. The ceilings met on the way, and how each is passed:
- open files: this machine caps every process at 20,000 descriptors (the engine's hard limit, which no
  container can raise). The server spreads its connections over SO_REUSEPORT workers and each client over
  several processes, each under the cap.
- client ports: one client IP has one port range per destination (1024-65535 here: 64,512 ports). Each
  client connects to 4 server ports, so 62,500 connections use under a quarter of each destination's
  range: the kernel's port search stays in its fast, sparse regime.
- the server's accept loop: accepts run in every worker at once (SO_REUSEPORT), with a 4096 backlog.
- host conntrack: bridged container traffic is tracked by the host's netfilter, 262,144 entries by default.
  Past it new SYNs vanish. The lab refuses the run unless you pass --raise-conntrack, then raises
  nf_conntrack_max for the run and restores it.
- kernel memory: an idle established socket costs a few KiB of kernel memory (both ends live in this
  one kernel here); the report gives the measured bytes per connection, kernel and user space.`,
  seeds: ['001', '004'],
  deadlineSeconds: 900,
  server: { ports: [8080, 8081, 8082, 8083], backlog: 4096 },
  client: { connections: PER_CLIENT, holdPing: HOLD_PING, inflight: 256, sysctls: { 'net.ipv4.ip_local_port_range': '1024 65535' } },
  expect: [
    {
      claim: 'each client holds every connection it asked for',
      subject: 'each client',
      metric: 'estab',
      predict: ({ client }) => clientCeiling(client!),
    },
    {
      claim: 'held connections ping at connections / interval',
      subject: 'each client',
      metric: 'ping.perSecond',
      predict: ({ client }) => pingRate(client!),
    },
    { claim: 'every Pong comes within the timeout', subject: 'each client', metric: 'ping.timeouts', predict: () => exactly(0) },
    { claim: 'the server holds them all at once, on one IP', subject: 'server', metric: 'estab', predict: serverHolds },
  ],
  cases: [
    {
      name: `one million from ${CLIENTS} clients`,
      about:
        'Sixteen client IPs, four server ports, a million connections held for a minute while they ping connscale-style (each every 5 minutes), round trips measured.',
      clients: CLIENTS,
      quick: {
        client: {
          connections: 1000,
          holdPing: { seconds: 4, intervalMs: 2000, timeoutMs: 1000 },
          sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' },
        },
      },
    },
  ],
});
