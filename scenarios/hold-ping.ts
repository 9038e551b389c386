import { atLeast, between, clientCeiling, defineScenario, exactly, pingRate } from 'tcp-limits-lab';
import type { CaseSpec, Expectation } from 'tcp-limits-lab';

const INTERVAL_MS = 1000;
/** Past any knee two cores of this kind of machine have shown (15,000 to 100,000 pings/s): four pings a second. */
const FAST_INTERVAL_MS = 250;
const TIMEOUT_MS = 1000;
const HOLD = { full: 20, quick: 5 };
const CLIENTS = 4;
const wide = { 'net.ipv4.ip_local_port_range': '1024 65535' };

/** Below the knee: every Pong in time, at the rate asked. */
const keepsUp: Expectation[] = [
  {
    claim: 'every connection is still held after the hold',
    subject: 'each client',
    metric: 'estab',
    predict: ({ client }) => clientCeiling(client!),
  },
  { claim: 'pings/s = connections / interval', subject: 'each client', metric: 'ping.perSecond', predict: ({ client }) => pingRate(client!) },
  {
    claim: 'no Pong is late',
    subject: 'each client',
    metric: 'ping.timeouts',
    predict: ({ client }) => exactly(0, `every round trip within the timeout (${client!.holdPing!.timeoutMs} ms)`),
  },
  {
    claim: 'p99 round trip stays under the timeout',
    subject: 'each client',
    metric: 'ping.p99',
    predict: ({ client }) => between(0, client!.holdPing!.timeoutMs, 'ms, from the histogram in the client program'),
  },
];

/** Past the knee: the machine answers fewer than asked. */
const answersFewer: Expectation[] = [
  {
    claim: 'the machine answers fewer pings than asked',
    subject: 'each client',
    metric: 'ping.perSecond',
    predict: ({ client }) =>
      between(0, Math.floor(pingRate(client!).min * 0.9), `under 90% of ${pingRate(client!).why}: two cores carry both ends of every ping`),
  },
];

/**
 * Far past it, late Pongs end connections too. A connection gets no second Ping while one is out, so the
 * queue is at most one Ping per connection, and a round trip takes about connections / what the machine
 * answers per second: 50,000 over about 60,000/s stayed under the 1 s timeout on a fast machine (no
 * timeouts), 100,000 did not.
 */
const fallsBehind: Expectation[] = [
  ...answersFewer,
  {
    claim: 'round trips pass the timeout: late Pongs end connections, as in connscale',
    subject: 'each client',
    metric: 'ping.timeouts',
    predict: () => atLeast(1),
  },
];

/**
 * One case per rate: connections spread over 4 clients, a Ping every interval, and a Pong later than a second
 * (connscale's timeout) ends its connection. --quick holds for less time; the rates are the same.
 */
function rate(connections: number, intervalMs: number, expect: Expectation[]): CaseSpec {
  const perSecond = (connections * 1000) / intervalMs;
  const holdPing = (seconds: number) => ({ seconds, intervalMs, timeoutMs: TIMEOUT_MS });
  return {
    name: `${perSecond.toLocaleString('en-US')} pings/s`,
    about: `${connections.toLocaleString('en-US')} connections from ${CLIENTS} clients, each pinging every ${intervalMs} ms for ${HOLD.full} s (--quick: ${HOLD.quick} s); a Pong later than ${TIMEOUT_MS} ms ends its connection.`,
    clients: CLIENTS,
    client: { connections: connections / CLIENTS, holdPing: holdPing(HOLD.full) },
    quick: { client: { holdPing: holdPing(HOLD.quick) } },
    expect,
  };
}

export default defineScenario({
  name: 'hold-ping',
  claim:
    'Holding connections costs nothing until they talk: pings/s = connections / interval, with round trips far under the timeout, up to a knee the CPU sets.',
  story: `connscale (seed 004) measured how many connections a server holds by making them talk: every
connection sends "Ping" every interval and waits for "Pong" within a timeout; a late Pong ends it. An
idle connection costs memory, not CPU: the kernel keeps it without any work. A talking one costs a little
of both ends' CPU for each round trip: a send, an epoll wake-up and a read on each side, and the packets
through the veth pair. So the load is pings per second, N / interval, not N. Below the knee the round trips
stay under the timeout (p99 from about 10 to 100 ms here) and nothing is lost; above it the two cores of this
machine, which carry both ends of every connection here, cannot answer at the rate asked: the queue of
Pings grows, round trips pass the timeout and connections are ended, as connscale's clients ended theirs.
The lab's client keeps the round trips in a histogram inside the program (log-linear buckets, within
6.25%), merged over its processes, and spreads each connection's Pings evenly over the interval.
"How far N goes" on a machine is the largest N / interval whose p99 stays under the timeout: the cases
below sweep the rate to find it.`,
  seeds: ['004'],
  server: { ports: [8080, 8081] },
  client: { sysctls: wide },
  deadlineSeconds: 300,
  // Where the knee falls between 15,000 and 200,000 depends on the machine's CPU (15-40k on one of this kind,
  // 60-100k on another): a case there could not be predicted, so the sweep brackets it and the report names it.
  cases: [
    rate(10_000, INTERVAL_MS, keepsUp),
    rate(15_000, INTERVAL_MS, keepsUp),
    rate(50_000, FAST_INTERVAL_MS, answersFewer),
    rate(100_000, FAST_INTERVAL_MS, fallsBehind),
  ],
});
