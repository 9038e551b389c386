import { acceptedPlusQueues, atLeast, between, clientCeiling, clientFdCeiling, defineScenario, exactly, serverAccepts } from 'tcp-limits-lab';
import type { Expectation, TheoryContext } from 'tcp-limits-lab';

const LOW_LIMIT = 1024;
const BACKLOG = 16;
// No more handshakes in flight than the accept queue holds: until its descriptors run out the server then
// always has room for the next one. With 64 in flight on a busy machine the queue overflowed before the
// wall (final ACKs dropped: 451 clients connected on their side only) and the server stopped at 749.
const SERVER_CASE = { connections: 1200, inflight: 16 };
const range = (r: string) => ({ 'net.ipv4.ip_local_port_range': r });

/**
 * The clients of the server-side cases: at least what the server's kernel holds, plus those whose handshake
 * completed on their side only: a final ACK that met the full accept queue, or, once the SYN queue is full
 * of such half-finished handshakes, a SYN cookie whose ACK is then dropped. How many depends on timing.
 */
const completedByKernel = (ctx: TheoryContext) => {
  const held = acceptedPlusQueues(ctx);
  return between(
    held.min,
    SERVER_CASE.connections,
    `${held.why}; plus handshakes complete on the client's side only (a final ACK, or a SYN cookie's ACK, dropped at the full queue): how many depends on timing; measured here from exactly the server's 1036 (no cookie sent) to all 1200 (264 cookies)`,
  );
};
const timedOut = (ctx: TheoryContext) => {
  const completed = completedByKernel(ctx);
  return between(
    SERVER_CASE.connections - completed.max,
    SERVER_CASE.connections - completed.min,
    'the rest: SYNs dropped while the accept queue is full, retried, then the connect timeout',
  );
};

export default defineScenario({
  name: 'fd-limit',
  claim:
    'A process holds its open-file limit less what it already has open; then socket() or accept() fails with EMFILE, and the errno says which limit you hit.',
  story: `"Too many open files" is the first connection limit most people meet. Every socket is a file
descriptor, and socket() and accept() take the lowest free one below RLIMIT_NOFILE (ulimit -n, per
process): with none left they fail with EMFILE. The ceiling is exact: the limit less what the process
already holds (stdin, stdout, stderr, its epoll instance, its listeners), which the lab's programs report
when they start. So with nofile 1024 one flood process holds 1024 minus that, not "about 1000".
On the server side the kernel does not wait for accept(): it finishes each handshake on its own and puts
the connection in the listener's accept queue. A server out of descriptors leaves them there: backlog + 1
connections the kernel counts as established (ss -s) though no program holds them. After that a new SYN
is dropped (the client retries, then times out), or, once the SYN queue is full of handshakes whose final
ACK met the full accept queue, answered with a SYN cookie: that client believes it is connected, but its
ACK is dropped too (ListenDrops), as in the backlog scenario. Which of the two the clients meet depends on
timing (nstat's TcpExtTCPReqQFullDoCookies says): runs here gave anything from 1036 connected and 164
timed out (no cookie) to all 1200 connected (264 cookies). Only accepted connections answer a Ping. A server that retries accept() at once on EMFILE spins (its listener stays readable): labserver
stops accepting for 100 ms, counts each failure, and goes on serving what it holds.
Seed 000's lesson ("maybe it isn't user limits"): raising the limit only moves you to the next wall, the
client's port range (EADDRNOTAVAIL). The errno tells which limit you hit: EMFILE is this process's
descriptors, EADDRNOTAVAIL the ports for one destination. ENFILE would be fs.file-max, the whole machine's
file table: host-wide, not settable per container, so the lab explains it rather than trying it.`,
  seeds: ['000', '003', '004'],
  server: { ports: [8080] },
  client: { processes: 1, sysctls: range('40000 41999') },
  cases: [
    {
      name: 'client nofile 1024: socket() fails with EMFILE',
      about: 'One flood process, limit 1024, 1500 connections asked, 2000 ports: the descriptors run out first.',
      client: { nofile: LOW_LIMIT, connections: 1500 },
      expect: [
        {
          claim: 'the process holds its limit less what it had open',
          subject: 'each client',
          metric: 'estab',
          predict: ({ client }) => clientFdCeiling(client!),
        },
        {
          claim: 'then socket() fails with EMFILE (and the flood stops asking)',
          subject: 'each client',
          metric: 'errors.EMFILE',
          predict: () => exactly(1, 'one failed socket() ends the flood process: nothing else would succeed'),
        },
        { claim: 'the port range was not the wall', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => exactly(0) },
        {
          claim: 'the server holds the same connections',
          subject: 'server',
          metric: 'estab',
          predict: ({ clients }) => clientFdCeiling(clients[0]!),
        },
      ],
    },
    {
      name: 'client nofile 1024, 1000 ports: EADDRNOTAVAIL first',
      about: 'The same low limit, a range of 1000 ports: the ports run out before the descriptors do. The errno says which.',
      client: { nofile: LOW_LIMIT, connections: 'fill', sysctls: range('40000 40999') },
      expect: [
        {
          claim: 'the client holds the usable ports of its range',
          subject: 'each client',
          metric: 'estab',
          predict: ({ client }) => clientCeiling(client!),
        },
        {
          claim: 'connect() fails with EADDRNOTAVAIL',
          subject: 'each client',
          metric: 'errors.EADDRNOTAVAIL',
          predict: () => atLeast(1, 'the range is spent for this destination'),
        },
        { claim: 'no EMFILE: descriptors were left', subject: 'each client', metric: 'errors.EMFILE', predict: () => exactly(0) },
      ],
    },
    {
      name: 'limit raised: the port range is the wall again (seed 000)',
      about: "The engine's ceiling instead of 1024: the same process now runs out of ports, EADDRNOTAVAIL, as seed 000 found after raising ulimit.",
      client: { connections: 'fill', sysctls: range('40000 49999') },
      quick: { client: { sysctls: range('40000 41999') } },
      expect: [
        {
          claim: 'the client holds the usable ports of its range',
          subject: 'each client',
          metric: 'estab',
          predict: ({ client }) => clientCeiling(client!),
        },
        { claim: 'connect() fails with EADDRNOTAVAIL', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => atLeast(1) },
        { claim: 'no EMFILE', subject: 'each client', metric: 'errors.EMFILE', predict: () => exactly(0) },
        {
          claim: 'the server holds them all',
          subject: 'server',
          metric: 'estab',
          predict: ({ client, clients }) => clientCeiling((client ?? clients[0])!),
        },
      ],
    },
    {
      name: 'server nofile 1024: accept() fails with EMFILE',
      about: `One server worker, limit ${LOW_LIMIT}, backlog ${BACKLOG}, ${SERVER_CASE.connections} connects: it accepts what its descriptors allow, the kernel queues backlog + 1 more, the rest time out. Then a Ping on every connection.`,
      server: { nofile: LOW_LIMIT, workers: 1, backlog: BACKLOG },
      client: { ...SERVER_CASE, connectTimeoutMs: 1500, ping: true, pingWaitMs: 3000 },
      expect: serverSideExpectations(
        'each failed accept() is followed by 100 ms without accepting: about 10 a second while the table is full and clients still connect (20 to 40 s here)',
        between(1, 1000),
      ),
    },
    {
      name: 'server without back-off: the accept loop spins',
      about:
        'The same, but labserver retries accept() at once after EMFILE (emfileBackoffMs 0), as a naive server does: the listener stays readable, so it spins, and millions of accept() calls fail.',
      server: { nofile: LOW_LIMIT, workers: 1, backlog: BACKLOG, emfileBackoffMs: 0 },
      client: { ...SERVER_CASE, connectTimeoutMs: 1500, ping: true, pingWaitMs: 3000 },
      expect: serverSideExpectations(
        'the listener stays readable and accept() fails at once, over and over: a core spent on EMFILE',
        atLeast(100_000),
      ),
    },
  ],
});

function serverSideExpectations(emfileWhy: string, emfile: { min: number; max: number }): Expectation[] {
  return [
    { claim: 'the server accepts its limit less what it had open', subject: 'server', metric: 'accepted', predict: serverAccepts },
    { claim: 'its kernel holds those plus full accept queues no program holds', subject: 'server', metric: 'estab', predict: acceptedPlusQueues },
    { claim: 'accept() fails with EMFILE', subject: 'server', metric: 'errors.EMFILE', predict: () => ({ ...emfile, why: emfileWhy }) },
    { claim: 'the kernel counts the overflow', subject: 'server', metric: 'nstat.TcpExtListenOverflows', predict: () => atLeast(1) },
    {
      claim: 'the clients hold at least what the server kernel holds, and believe in more',
      subject: 'each client',
      metric: 'estab',
      predict: completedByKernel,
    },
    { claim: 'the rest time out', subject: 'each client', metric: 'errors.ETIMEDOUT', predict: timedOut },
    {
      claim: 'only accepted connections answer a Ping: the server goes on serving what it holds',
      subject: 'each client',
      metric: 'pongs',
      predict: serverAccepts,
    },
  ];
}
