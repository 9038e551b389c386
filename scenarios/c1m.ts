import { clientCeiling, defineScenario, exactly, pingCadenceHeld, serverHolds } from 'tcp-limits-lab';

const CLIENTS = 16;
/** 16 x 62,500 = 1,000,000; a quarter of each of a client IP's four destination ranges. */
export const PER_CLIENT = 62_500;
/** connscale's hold (seed 004): a Ping every 20 s on each connection, and a Pong later than 20 s ends it. */
const CONNSCALE = { intervalMs: 20_000, timeoutMs: 20_000 };
/**
 * Where the machine falls behind that (50,000 pings/s on a million), the slower cadences the hold steps down
 * to in turn, down to a Ping every 5 minutes (3,333/s), which this lab's million has held since 2026-12-01.
 */
const STEP_DOWN_MS = [30_000, 40_000, 60_000, 120_000, 300_000];
const HOLD_PING = { seconds: 60, ...CONNSCALE, stepDownMs: STEP_DOWN_MS };
const spoken = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`);
/** Why the cadence held is a band: what a ping costs, and what two cores have. */
const CADENCE_WHY =
  "each ping costs both ends some CPU, more at a million than at 10,000 (cold sockets, conntrack lookups), and two cores carry both ends here: the bench's reference pair (a minimal C client and server in the same containers, 1 s timeout) kept up with 42,000 pings/s at 10,000 held and 12,900 (not 19,300) at a million on 2026-12-07 (BENCHMARKS.md)";

export default defineScenario({
  name: 'c1m',
  claim:
    "One server container holds 1,000,000 concurrent connections on one small machine; every ceiling on the way is a setting, not a law. How often they can talk is the CPU's: connscale's cadence where it keeps up, else the fastest it holds.",
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
  one kernel here); the report gives the measured bytes per connection, kernel and user space.
- talking: held, the million pings connscale's way, a Ping every ${spoken(CONNSCALE.intervalMs)} and a Pong within ${spoken(CONNSCALE.timeoutMs)}, ${((CLIENTS * PER_CLIENT * 1000) / CONNSCALE.intervalMs).toLocaleString('en-US')} pings/s.
  That is CPU, not memory: every ping wakes a client and a server process and crosses the bridge three times
  (Ping, Pong, the delayed ACK). Where the machine cannot, the hold steps down: every client pings one
  cadence at a time for ${HOLD_PING.seconds} s, connscale's first, then ${STEP_DOWN_MS.map(spoken).join(', ')}. A client
  process that falls behind (a Pong later than a quarter of the timeout) sends no more Pings in that cadence,
  so those out come back long before their timeout and no connection is lost; the hold ends once every client
  held one. The report says which cadence the million held, and which it fell behind at.`,
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
      claim: "they ping at connscale's cadence, or at the first slower one the machine holds",
      subject: 'each client',
      metric: 'ping.heldPerSecond',
      predict: ({ client }) => pingCadenceHeld(client!, CADENCE_WHY),
    },
    {
      claim: 'every Pong comes within the timeout, through every step down',
      subject: 'each client',
      metric: 'ping.timeouts',
      predict: () => exactly(0, 'a step down waits for the Pings out, which fell behind by a quarter of the timeout'),
    },
    { claim: 'the server holds them all at once, on one IP', subject: 'server', metric: 'estab', predict: serverHolds },
  ],
  cases: [
    {
      name: `one million from ${CLIENTS} clients`,
      about:
        "Sixteen client IPs, four server ports, a million connections held while they ping connscale's way (every 20 s, a 20 s timeout), stepping down to slower cadences where the machine falls behind; each cadence a minute, round trips measured.",
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
