import { atLeast, between, defineScenario, exactly } from 'tcp-limits-lab';

const BACKLOG = 16;
/** Connects of the paused cases: backlog + 1 fit in the queue, the rest find it full. */
const PAUSED = 100;

/**
 * Where timing decides. On a quiet machine each handshake here finishes before the client's next SYN arrives;
 * on a busy CPU the burst's SYNs can outrun them: SYNs that met a queue with room got a request socket or a
 * cookie, and their final ACKs then meet it full and are dropped (the client is connected on its side only,
 * as fd-limit measured), while later SYNs meet it full and are dropped too, cookies or not, retried at 1 s
 * and 3 s, and may time out.
 */
const PAUSED_CLIENT = `backlog + 1 in the queue, all of them on a quiet machine; on a busy CPU also handshakes whose final ACK met the full queue, connected on the client's side only (at most the ${PAUSED} asked)`;
const PAUSED_TIMEOUTS =
  "the rest: SYNs dropped at the full queue, retried at 1 s, then the 3 s connect timeout; fewer where a busy CPU let more complete on the client's side";
const BURST_CONNECTED =
  'a SYN that meets room in the accept queue is answered (a request socket or a cookie); on a busy CPU the first handshakes fill the queue while the burst still arrives, and SYNs that meet it full are dropped even with cookies, retried at 1 s and 3 s, and may time out (measured: 2000 quiet, 1964 on a busy machine)';

export default defineScenario({
  name: 'backlog',
  claim: "A full accept queue drops new SYNs, or with SYN cookies lets clients 'connect' to a server that keeps no record of them.",
  story: `listen(fd, backlog) sizes the accept queue: connections the kernel has finished but the program has not
accepted yet. The kernel caps backlog at net.core.somaxconn (4096 by default since 5.4). While the queue is
full a new SYN is dropped (tcp_conn_request), even with SYN cookies: the client sees nothing and retries,
and its connect() times out. The queue holds backlog + 1 connections (the check is "more than backlog").
Seed 004's half-open state shows up when SYNs keep coming while the program accepts slowly: the request
queue overflows, the kernel answers with SYN cookies (TCPReqQFullDoCookies), every client completes its
handshake and believes it is connected, but the cookie ACKs that meet a full accept queue are dropped
(ListenOverflows, ListenDrops): the server holds no socket for them. On a busy machine the first handshakes
can fill the queue while the burst's SYNs still arrive: those SYNs are dropped, cookies or not, and some time
out (1964 of 2000 connected once), so what the clients count is a band wherever timing decides.
tcp_abort_on_overflow=1 would answer an ACK that meets a full queue with a reset, but on the cookie path
the ACK is dropped before that.
The data step: a client that sends on such a connection gets no answer; each retransmission carries the
cookie again and is dropped again while the queue is full; it is answered if the program accepts in time,
and reset only once the cookie has expired, about two minutes later.`,
  seeds: ['004'],
  server: { ports: [8080], backlog: BACKLOG },
  client: { connectTimeoutMs: 3000 },
  cases: [
    {
      name: 'accept paused: the queue holds backlog + 1',
      about: `The server never accepts. ${BACKLOG + 1} connections complete into the queue; the other SYNs are dropped and time out.`,
      server: { accept: 'paused' },
      client: { connections: PAUSED, inflight: PAUSED },
      expect: [
        {
          claim: 'the client completes backlog + 1 connections (a busy CPU adds some on its side only)',
          subject: 'each client',
          metric: 'estab',
          predict: () => between(BACKLOG + 1, PAUSED, PAUSED_CLIENT),
        },
        {
          claim: 'the server holds them, waiting in its accept queue',
          subject: 'server',
          metric: 'estab',
          predict: () => exactly(BACKLOG + 1, 'the accept queue is full past backlog'),
        },
        {
          claim: 'the rest time out: their SYNs were dropped',
          subject: 'each client',
          metric: 'errors.ETIMEDOUT',
          predict: () => between(0, PAUSED - BACKLOG - 1, PAUSED_TIMEOUTS),
        },
        { claim: 'the kernel counts the overflow', subject: 'server', metric: 'nstat.TcpExtListenOverflows', predict: () => atLeast(1) },
      ],
    },
    {
      name: 'slow accept, a burst of 2000: SYN cookies',
      about: 'One accept per 20 ms against 2000 connects at once: every client connects, the server keeps a fraction.',
      server: { accept: { everyMs: 20 } },
      client: { connections: 2000, inflight: 2000 },
      expect: [
        {
          claim: 'every client believes it is connected (on a busy CPU some SYNs meet a full queue and time out)',
          subject: 'each client',
          metric: 'estab',
          predict: () => between(1500, 2000, BURST_CONNECTED),
        },
        {
          claim: 'the server holds only what it accepted or queued',
          subject: 'server',
          metric: 'estab',
          predict: () => between(BACKLOG + 1, 400, 'accepted at 50/s while the burst lasts, plus the queue'),
        },
        {
          claim: 'the overflow is answered with SYN cookies',
          subject: 'server',
          metric: 'nstat.TcpExtTCPReqQFullDoCookies',
          predict: () => atLeast(1),
        },
        {
          claim: 'cookie ACKs meeting the full queue are dropped',
          subject: 'server',
          metric: 'nstat.TcpExtListenOverflows',
          predict: () => atLeast(1),
        },
      ],
    },
    {
      name: "seed 004's data step: a Ping on every 'connected' socket",
      about: 'The same burst, then data on every connection: answers from what the server holds, silence from the rest.',
      server: { accept: { everyMs: 20 } },
      client: { connections: 2000, inflight: 2000, ping: true, pingWaitMs: 15_000 },
      expect: [
        {
          claim: 'the first send succeeds on every connection made (on a busy CPU some connects time out)',
          subject: 'each client',
          metric: 'opened',
          predict: () => between(1500, 2000, BURST_CONNECTED),
        },
        {
          claim: 'the server answers only what it accepted or queued',
          subject: 'each client',
          metric: 'pongs',
          predict: () => between(BACKLOG + 1, 400),
        },
        {
          claim: 'the rest get no answer and no reset yet: the client still holds every connection it made',
          subject: 'each client',
          metric: 'estab',
          predict: () =>
            between(
              1500,
              2000,
              "every connection it made (all 2000 but connects a busy CPU let time out): the data's ACK carries a valid cookie, meets the full queue and is dropped; the client retransmits; the RST comes once the cookie is too old, after about 2 minutes (measured: 1649 resets at 112 s)",
            ),
        },
        { claim: 'no reset within the 15 s the round waits', subject: 'each client', metric: 'errors.ECONNRESET', predict: () => exactly(0) },
      ],
    },
    {
      name: 'slow accept, a burst of 2000, syncookies off',
      about: 'Without cookies the overflowing SYNs are dropped: clients retry, most time out, and client and server agree on what exists.',
      server: { accept: { everyMs: 20 }, sysctls: { 'net.ipv4.tcp_syncookies': 0 } },
      client: { connections: 2000, inflight: 2000 },
      expect: [
        {
          claim: 'the client holds only what the slow accept drained',
          subject: 'each client',
          metric: 'estab',
          predict: () => between(BACKLOG + 1, 400, '50 accepts/s for the 3 s before connects time out, plus the queue'),
        },
        { claim: 'the server holds the same connections, no more', subject: 'server', metric: 'estab', predict: () => between(BACKLOG + 1, 400) },
        {
          claim: 'the others time out, their SYNs dropped',
          subject: 'each client',
          metric: 'errors.ETIMEDOUT',
          predict: () => between(2000 - 400, 2000 - BACKLOG - 1),
        },
        { claim: 'the request queue overflow drops SYNs', subject: 'server', metric: 'nstat.TcpExtTCPReqQFullDrop', predict: () => atLeast(1) },
        { claim: 'and sends no cookie', subject: 'server', metric: 'nstat.TcpExtTCPReqQFullDoCookies', predict: () => exactly(0) },
      ],
    },
    {
      name: 'accept paused, tcp_abort_on_overflow=1',
      about: 'Abort on overflow resets a handshake that completes into a full queue; on a quiet machine none does here: the SYNs are dropped first.',
      server: { accept: 'paused', sysctls: { 'net.ipv4.tcp_abort_on_overflow': 1 } },
      client: { connections: PAUSED, inflight: PAUSED },
      expect: [
        {
          claim: 'the queue still holds backlog + 1 (a busy CPU adds some on the client side only)',
          subject: 'each client',
          metric: 'estab',
          predict: () => between(BACKLOG + 1, PAUSED, `${PAUSED_CLIENT}: a cookie's ACK is dropped, not reset`),
        },
        {
          claim: 'the rest still time out',
          subject: 'each client',
          metric: 'errors.ETIMEDOUT',
          predict: () => between(0, PAUSED - BACKLOG - 1, `${PAUSED_TIMEOUTS}, or a reset`),
        },
        {
          claim: 'no reset is sent, unless a busy CPU lets a handshake complete into the full queue',
          subject: 'server',
          metric: 'nstat.TcpExtEmbryonicRsts',
          predict: () =>
            between(
              0,
              PAUSED - BACKLOG - 1,
              'none on a quiet machine: a full accept queue drops the SYN before any ACK can meet it; on a busy CPU a request socket made while the queue had room may see its final ACK meet it full, and that is reset',
            ),
        },
      ],
    },
    {
      name: 'slow accept, a burst of 2000, tcp_abort_on_overflow=1',
      about: 'With cookies most of the overflow is still answered with cookies, not reset: abort on overflow changes little.',
      server: { accept: { everyMs: 20 }, sysctls: { 'net.ipv4.tcp_abort_on_overflow': 1 } },
      client: { connections: 2000, inflight: 2000 },
      expect: [
        {
          claim: 'most clients believe they are connected',
          subject: 'each client',
          metric: 'estab',
          predict: () =>
            between(
              1500,
              2000,
              'the overflow still gets cookies; how many plain handshakes meet the full queue (and get a reset) depends on CPU speed: 2000 on this host, 1587 in an emulated VM',
            ),
        },
        { claim: 'the server holds only what it accepted or queued', subject: 'server', metric: 'estab', predict: () => between(BACKLOG + 1, 400) },
        {
          claim: 'the overflow is still answered with SYN cookies',
          subject: 'server',
          metric: 'nstat.TcpExtTCPReqQFullDoCookies',
          predict: () => atLeast(1),
        },
        {
          claim: 'resets only for the few non-cookie handshakes that meet the full queue',
          subject: 'server',
          metric: 'nstat.TcpExtEmbryonicRsts',
          predict: () => between(0, 500, 'measured: 0 and 32 on this host, 160 resets to the client in an emulated VM'),
        },
      ],
    },
    {
      name: 'listen(65535) is capped by somaxconn',
      about: 'The backlog a program asks for is not the backlog it gets.',
      server: { backlog: 65535 },
      client: { connections: 10, inflight: 10 },
      expect: [
        {
          claim: 'the listener gets somaxconn (4096), not 65535',
          subject: 'server',
          metric: 'listen.backlog',
          predict: () => exactly(4096, 'min(65535, net.core.somaxconn = 4096)'),
        },
        { claim: 'connections are accepted as usual', subject: 'server', metric: 'estab', predict: () => exactly(10) },
      ],
    },
  ],
});
