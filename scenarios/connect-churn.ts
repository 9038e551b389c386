import { between, defineScenario, exactly } from 'tcp-limits-lab';

// Each connection's TIME_WAIT holds its port (the client closes first), so connect() searches ever more
// taken ports: past half the range every call first walks the taken half (the port-range scenario's step).
// 74% of the range: as fast as the machine goes (the rate is a cap it never reaches), and no port runs out.
const churn = { rate: 21_000, seconds: 1 }; // of the default 28,232 ports
const quick = {
  client: { churn: { rate: 6000, seconds: 1 }, sysctls: { 'net.ipv4.tcp_max_tw_buckets': 262_144, 'net.ipv4.ip_local_port_range': '40000 47999' } },
};

/**
 * Under load some connections fall short, by timing: a handshake still retrying when labchurn stops waiting
 * (5 s after its last connect) is cut (15 of 6,000 measured with the machine's two cores loaded 9 times over),
 * and a late retransmission that reaches a closed socket draws a RST, which ends a TIME_WAIT (tcp_rfc1337=0;
 * up to 29 of 6,000 with four processes). Each at most this share.
 */
const SHORT_BY_TIMING = 0.01;
const shortBy = (asked: number, shares: number) => asked - Math.ceil(asked * SHORT_BY_TIMING * shares);

export default defineScenario({
  name: 'connect-churn',
  claim:
    'Short connections (connect, Ping, Pong, close) until three quarters of the range sit in TIME_WAIT: they complete (all but a few a loaded machine cuts), and how fast they go is what may differ between kernels, most with several processes at once on several CPUs.',
  story: `neper's tcp_crr in spirit: connect, one request and its answer, close, in a loop, as fast as it goes.
The client closes first, so every closed connection keeps its port in TIME_WAIT and the range fills:
past half of it each connect() walks the taken half of the range before it finds a free port, checking
each one in the bind hash (under its bucket's lock) and in the established hash (under another). Linux
6.15's "tcp: scale connect() under pressure" (ae9d5b19b322, ca79d80b0b9f, d186f405fdf4, 86c2bc293b81)
makes those checks lockless (RCU) and inet_ehashfn's change (9544d60a2605) puts consecutive ports in
consecutive buckets; upstream measured neper's tcp_crr with 200 threads at +194% and more transactions
per second. Locks cost most where they contend: with several processes connecting at once on several
CPUs, not on one. Run it on 1 and 2 vCPUs and compare each kernel's rate with 6.12's in the same run:
\`lab matrix scenarios/connect-churn.ts --kernels all --cpus 1,2 --quick\`. Under emulation only those
ratios mean anything, and only with no other VM beside (lab matrix runs a churn alone).`,
  server: { ports: [8080] },
  // A 1 GiB VM's namespaces keep 4,096 TIME_WAITs by default (half its established hash) and drop the rest.
  client: { churn, inflight: 16, sysctls: { 'net.ipv4.tcp_max_tw_buckets': 262_144 } },
  expect: [
    {
      claim: 'every connection completes: the range never runs out',
      subject: 'each client',
      metric: 'opened',
      predict: ({ client }) =>
        between(
          shortBy(client!.asked, 1),
          client!.asked,
          'three quarters of the range, each port taken once; a few may be cut at the drain under load',
        ),
    },
    {
      claim: 'each one leaves its TIME_WAIT on the client, holding its port',
      subject: 'each client',
      metric: 'timewait',
      predict: ({ client }) =>
        between(
          shortBy(client!.asked, 2),
          client!.asked,
          'the client closes first and no TIME_WAIT ends within 60 s, but for a few cut at the drain or ended by a RST under load',
        ),
    },
    { claim: 'no connect() finds the range spent', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => exactly(0) },
  ],
  cases: [
    {
      name: 'one process',
      about: 'One process connecting: nothing contends for the hash locks, whatever the CPUs.',
      client: { processes: 1 },
      quick,
    },
    {
      name: 'four processes at once',
      about: 'Four processes in one namespace connecting at once, each a quarter of the connections: on two CPUs they contend for the same buckets.',
      client: { processes: 4 },
      quick,
    },
  ],
});
