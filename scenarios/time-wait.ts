import { atLeast, between, defineScenario, exactly, usablePortsOf } from 'tcp-limits-lab';

const range = { 'net.ipv4.ip_local_port_range': '40000 40999' };
const churn = { rate: 400, seconds: 5 }; // 2000 short connections against 1000 ports

export default defineScenario({
  name: 'time-wait',
  claim: 'Whoever closes first keeps the TIME_WAIT; a client that closes short-lived connections runs out of ports 60 s at a time.',
  story: `Seed 000: a Go client made a new HTTP connection per request because its pool kept only 2 idle
connections per host; every closed connection sat in TIME_WAIT for 60 s on the client, holding its port,
and at 2000 connections a second a 28k-port range is gone in 14 s: connect() fails with EADDRNOTAVAIL.
TIME_WAIT belongs to the side that closes first (it sends the first FIN). Here a client makes short
connections (connect, Ping, Pong, close) at ${churn.rate}/s for ${churn.seconds} s through a 1000-port range.
When the client closes first its TIME_WAIT fills the range and the churn stalls on EADDRNOTAVAIL. When the
server closes first the TIME_WAIT moves to the server and the client goes on. net.ipv4.tcp_tw_reuse=1 lets
connect() take a port whose TIME_WAIT is older than a second (the default, 2, allows it on loopback only).
Keeping a few connections open and reusing them (a keep-alive pool) leaves no TIME_WAIT at all.
The last two cases replay seed 000 itself: its Go client (net/http) with MaxIdleConnsPerHost 2, then 250,
200 goroutines sending HEAD requests to a server that speaks HTTP/1.1 keep-alive.`,
  seeds: ['000'],
  server: { ports: [8080] },
  client: { churn, sysctls: range },
  cases: [
    {
      name: 'client closes first',
      about: 'Every closed connection holds its port for 60 s: the range fills, then EADDRNOTAVAIL.',
      expect: [
        {
          claim: 'the client completes one connection per usable port',
          subject: 'each client',
          metric: 'opened',
          predict: ({ client }) => usablePortsOf(client!),
        },
        {
          claim: 'each one leaves a TIME_WAIT on the client',
          subject: 'each client',
          metric: 'timewait',
          predict: ({ client }) => usablePortsOf(client!),
        },
        {
          claim: 'the rest fail with EADDRNOTAVAIL',
          subject: 'each client',
          metric: 'errors.EADDRNOTAVAIL',
          predict: ({ client }) => {
            const u = usablePortsOf(client!);
            return { min: 2000 - u.max, max: 2000 - u.min };
          },
        },
        { claim: 'the server keeps none', subject: 'server', metric: 'timewait', predict: () => exactly(0) },
      ],
    },
    {
      name: 'server closes first',
      about: "The server sends the first FIN: the TIME_WAIT is the server's, and the client never runs out.",
      server: { closeFirst: true },
      expect: [
        { claim: 'every connection completes', subject: 'each client', metric: 'opened', predict: () => exactly(2000) },
        { claim: 'the client keeps no TIME_WAIT', subject: 'each client', metric: 'timewait', predict: () => exactly(0) },
        { claim: 'and never sees EADDRNOTAVAIL', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => exactly(0) },
      ],
    },
    {
      name: 'client closes first, tcp_tw_reuse=1',
      about: 'connect() may reuse a port whose TIME_WAIT is over a second old: the churn goes on.',
      client: { sysctls: { ...range, 'net.ipv4.tcp_tw_reuse': 1 } },
      expect: [
        { claim: 'every connection completes', subject: 'each client', metric: 'opened', predict: () => exactly(2000) },
        { claim: 'no EADDRNOTAVAIL', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => exactly(0) },
      ],
    },
    {
      name: 'a pool of 10 kept-alive connections',
      about: 'Reusing a few open connections (a Ping on each) instead of new ones: no TIME_WAIT at all.',
      client: { churn: undefined, connections: 10, ping: true },
      expect: [
        { claim: 'the pool is held', subject: 'each client', metric: 'estab', predict: () => exactly(10) },
        { claim: 'every pooled connection answers', subject: 'each client', metric: 'pongs', predict: () => exactly(10) },
        { claim: 'no TIME_WAIT on the client', subject: 'each client', metric: 'timewait', predict: () => exactly(0) },
      ],
    },
    {
      name: 'seed 000 replayed: Go net/http, MaxIdleConnsPerHost 2',
      about: '200 goroutines, 5000 HEAD requests, a pool that keeps 2 idle connections: every other response closes its connection.',
      server: { protocol: 'http' },
      client: { churn: undefined, program: goClient(2) },
      expect: [
        {
          claim: 'the client fills its range with TIME_WAIT',
          subject: 'each client',
          metric: 'timewait',
          predict: ({ client }) =>
            between(usablePortsOf(client!).min - 250, usablePortsOf(client!).max, 'every closed connection holds a port for 60 s'),
        },
        { claim: 'and requests fail with EADDRNOTAVAIL', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => atLeast(1) },
      ],
    },
    {
      name: 'seed 000 replayed: Go net/http, MaxIdleConnsPerHost 250',
      about: 'The same load with a pool as large as the concurrency: connections are reused, none closes until the end.',
      server: { protocol: 'http' },
      client: { churn: undefined, program: goClient(250) },
      expect: [
        { claim: 'every request is answered', subject: 'each client', metric: 'opened', predict: () => exactly(5000) },
        {
          claim: 'TIME_WAIT only from the pool closing at exit (and surplus dials at the start)',
          subject: 'each client',
          metric: 'timewait',
          predict: () => between(0, 500, 'the pool (up to 250) closed at exit, plus dials that raced for a busy pool at the start (measured: 307)'),
        },
        { claim: 'no EADDRNOTAVAIL', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => exactly(0) },
      ],
    },
  ],
});

/** The seed's own kind of client: Go's net/http, built from scenarios/seed-000/ on the lab's client image. */
function goClient(maxIdlePerHost: number) {
  return {
    dockerfile: 'seed-000/Dockerfile',
    command: ['seed000', '--url', '{url}', '--workers', '200', '--requests', '5000', '--max-idle-per-host', String(maxIdlePerHost)],
  };
}
