import {
  defineScenario,
  exactly,
  proxyChurnAnswered,
  proxyChurnRefused,
  proxyHeldRefused,
  proxyHeldUpstream,
  type Expectation,
  type ProxyMiddle,
  type ProxySettings,
  type TheoryContext,
} from 'tcp-limits-lab';

const BACKEND = 8080;
const range = (ports: string) => ({ 'net.ipv4.ip_local_port_range': ports });
/** A backend that holds every request (a long-poll): no answer while the case runs. */
const HOLDING = { ports: [BACKEND], protocol: 'http' as const, holdAnswersMs: 3_600_000 };
/** A backend that answers every request at once: an empty 200 with Content-Length, the connection kept open. */
const ANSWERING = { ports: [BACKEND], protocol: 'http' as const };
/** The quick mode's proxies: 100 ports for held requests, 200 for the churn; the same walls in seconds. */
const QUICK_HELD = range('40000 40099');
const QUICK_CHURN = range('40000 40199');
/** The full mode's ranges for the doubled walls and HAProxy: room for their connections in the proxy's descriptors. */
const FULL_DOUBLED = range('40000 49999');
const FULL_HAPROXY = range('40000 44999');

/** A proxy in the middle; in full mode nginx runs 4 workers (reuseport), each under the 20,000 open-file ceiling. */
const proxy = (software: ProxyMiddle['software'], settings: ProxySettings = {}, sysctls?: Record<string, string>): ProxyMiddle => ({
  kind: 'proxy',
  software,
  settings,
  ...(sysctls && { sysctls }),
});

const held = (ask: number) => ({ connections: ask, request: { path: '/poll' } });
const status = (ctx: TheoryContext) => (ctx.middle?.proxy?.software === 'haproxy' ? 503 : 502);

/** Held requests: the proxy's range is the wall, the clients are far from theirs. */
const heldWall = (refusedStatus: 502 | 503): Expectation[] => [
  {
    claim: 'the backend holds one connection from the proxy per port of its range, per backend port and source address',
    subject: 'server',
    metric: 'fromMiddle',
    predict: proxyHeldUpstream,
  },
  {
    claim: `every request past that is answered ${refusedStatus} at once`,
    subject: 'all clients',
    metric: `http.${refusedStatus}`,
    predict: proxyHeldRefused,
  },
  {
    claim: `and the proxy logs each as an upstream connect() that failed with EADDRNOTAVAIL (${refusedStatus === 502 ? 'nginx: "99: Cannot assign requested address"' : 'HAProxy: "no free ports"'})`,
    subject: 'middle',
    metric: 'errors.EADDRNOTAVAIL',
    predict: proxyHeldRefused,
  },
  {
    claim: 'the held requests get no answer while the backend holds them',
    subject: 'all clients',
    metric: 'http.200',
    predict: () => exactly(0, 'the backend answers only when its hold ends, after the case'),
  },
  {
    claim: 'the clients are far from their own ranges: every connect to the proxy succeeds',
    subject: 'each client',
    metric: 'opened',
    predict: ({ client }) =>
      exactly(
        client!.asked,
        `${client!.asked} connections to one proxy address and port, of the ${client!.portRange[1] - client!.portRange[0] + 1} ports of its range`,
      ),
  },
  {
    claim: 'and none of them sees EADDRNOTAVAIL',
    subject: 'each client',
    metric: 'errors.EADDRNOTAVAIL',
    predict: () => exactly(0, "each client's range is per (client IP, proxy IP, proxy port), and it asks far fewer"),
  },
];

/** Churned requests: answered, refused, and the proxy's TIME_WAIT. */
const churned = (timewait: (ctx: TheoryContext) => ReturnType<typeof exactly>): Expectation[] => [
  { claim: 'requests the backend answered through the proxy', subject: 'all clients', metric: 'http.200', predict: proxyChurnAnswered },
  {
    claim: 'the rest were answered with the proxy error status at once',
    subject: 'all clients',
    metric: 'http.502',
    predict: (ctx) => (status(ctx) === 502 ? proxyChurnRefused(ctx) : exactly(0, "HAProxy's failure status is 503")),
  },
  {
    claim: "each is a failed upstream connect in the proxy's log (EADDRNOTAVAIL)",
    subject: 'middle',
    metric: 'errors.EADDRNOTAVAIL',
    predict: proxyChurnRefused,
  },
  { claim: 'TIME_WAIT on the proxy', subject: 'middle', metric: 'timewait', predict: timewait },
  {
    claim: 'the clients are far from their own ranges: no EADDRNOTAVAIL',
    subject: 'each client',
    metric: 'errors.EADDRNOTAVAIL',
    predict: () => exactly(0, 'each client opens a few connections a second to the proxy and sends many requests on each'),
  },
];

/**
 * Quick: 400 requests (5 connections a second, 20 requests each, 4 s) against 200 ports; full: 9,000 (3 a
 * second, 100 each, 30 s) against 5,000. At the default range (28,232) the same churn at 1,000 a second
 * took 69 s, not 30: with the range nearly all TIME_WAIT each connect() searches it, and before it ran out the
 * first TIME_WAITs ended (measured: 27,274 answered, no 502). A churn shorter than a TIME_WAIT keeps the law
 * exact.
 */
const CHURN = { churn: { rate: 3, seconds: 30 }, request: { path: '/', perConnection: 100 } };
const FULL_CHURN = range('40000 44999');
/** The clients' requests in flight at most (labchurn's connections, one request out on each): what keepalive must keep. */
const INFLIGHT = 64;
const QUICK_CHURN_CLIENT = { churn: { rate: 5, seconds: 4 }, request: { path: '/', perConnection: 20 } };

export default defineScenario({
  name: 'proxy-upstream',
  claim:
    "A reverse proxy's upstream connections share one port range per (proxy address, backend address, backend port): held requests stop there, churn without upstream keepalive stops at range / 60 s.",
  story: `Seed 002, Heroku's router: a proxy connecting onward to its dynos ran out of source ports while its
clients and its dynos were nowhere near a limit. The proxy is a client of its backends, so its upstream
connections take ports from its own range, one range per (proxy source address, backend IP, backend port).
nginx's "connect() failed (99: Cannot assign requested address) while connecting to upstream" is this wall,
the most reported form of port exhaustion. Here clients send HTTP requests to nginx (or HAProxy) from
Debian's packages, the lab writing its configuration from the case's settings, in front of the lab's own
backend. First long-polls: the backend holds every request, so each one holds an upstream connection, and
the proxy holds exactly the usable ports of its range; every request past them gets 502 at once (HAProxy:
503, "no free ports"), while each client has used a fraction of its own range. A second backend port, or
proxy_bind over a second source address, is a second range: twice the requests held. Then short requests
at a rate above the TIME_WAIT ceiling: without upstream keepalive nginx opens a connection per request and
closes it first, so each leaves a TIME_WAIT on the proxy for 60 s (tcp_tw_reuse's default, 2, reuses them
on loopback only): within a minute only the range's worth gets through, over time range / 60 a second
(28,232 / 60 = 470 a second at the default range). Upstream keepalive carries every request on a few
connections. HAProxy closes its server connections with a reset, so no TIME_WAIT holds its ports.`,
  seeds: ['002'],
  server: ANSWERING,
  client: { inflight: INFLIGHT },
  deadlineSeconds: 240,
  cases: [
    {
      name: 'nginx: the upstream range is the wall',
      about: "Long-polls through nginx to one backend port: the proxy's range runs out, 502 for the rest, and the clients are far from theirs.",
      clients: 4,
      server: HOLDING,
      client: held(7500),
      middle: proxy('nginx', { workers: 4 }),
      quick: { clients: 1, client: held(150), middle: proxy('nginx', {}, QUICK_HELD) },
      expect: heldWall(502),
    },
    {
      name: 'a second backend port doubles it',
      about: 'The backend listens on two ports and nginx balances over both: two upstream ranges.',
      clients: 4,
      server: { ...HOLDING, ports: [BACKEND, BACKEND + 1] },
      client: held(6000),
      middle: proxy('nginx', { workers: 4 }, FULL_DOUBLED),
      quick: { clients: 1, client: held(300), middle: proxy('nginx', {}, QUICK_HELD) },
      expect: heldWall(502),
    },
    {
      name: 'proxy_bind over two source addresses doubles it',
      about:
        'nginx binds its upstream connections to two addresses in turn (proxy_bind over split_clients): two upstream ranges to one backend port.',
      clients: 4,
      server: HOLDING,
      client: held(6000),
      middle: proxy('nginx', { workers: 4, sources: 2 }, FULL_DOUBLED),
      quick: { clients: 1, client: held(300), middle: proxy('nginx', { sources: 2 }, QUICK_HELD) },
      expect: heldWall(502),
    },
    {
      name: 'HAProxy meets the same wall',
      about: 'HAProxy in front of the same backend: its range runs out too; it answers 503 and writes "no free ports".',
      clients: 2,
      server: HOLDING,
      client: held(3000),
      middle: proxy('haproxy', { workers: 2 }, FULL_HAPROXY),
      quick: { clients: 1, client: held(150), middle: proxy('haproxy', {}, QUICK_HELD) },
      expect: heldWall(503),
    },
    {
      name: 'churn above the TIME_WAIT ceiling',
      about: 'Short requests faster than range / 60 s, no upstream keepalive: each leaves a TIME_WAIT on nginx, and after the range, 502.',
      clients: 1,
      client: CHURN,
      middle: proxy('nginx', {}, FULL_CHURN),
      quick: { client: QUICK_CHURN_CLIENT, middle: proxy('nginx', {}, QUICK_CHURN) },
      expect: churned((ctx) => {
        const answered = proxyChurnAnswered(ctx);
        return exactly(answered.min, `one per request answered: nginx closed each upstream connection first (${answered.why})`);
      }),
    },
    {
      name: 'tcp_tw_reuse=1 on the proxy',
      about:
        "The same churn with tcp_tw_reuse 1 in the proxy's namespace: connect() takes ports back from TIME_WAITs older than a second (the default, 2, does so on loopback only).",
      clients: 1,
      client: CHURN,
      middle: proxy('nginx', {}, { ...FULL_CHURN, 'net.ipv4.tcp_tw_reuse': '1' }),
      quick: { client: QUICK_CHURN_CLIENT, middle: proxy('nginx', {}, { ...QUICK_CHURN, 'net.ipv4.tcp_tw_reuse': '1' }) },
      expect: [
        { claim: 'requests the backend answered through the proxy', subject: 'all clients', metric: 'http.200', predict: proxyChurnAnswered },
        { claim: 'the rest answered 502', subject: 'all clients', metric: 'http.502', predict: proxyChurnRefused },
      ],
    },
    {
      name: 'upstream keepalive: the same churn goes through',
      about: `The same churn with upstream keepalive ${INFLIGHT}: a few connections carry every request, no TIME_WAIT piles up.`,
      clients: 1,
      client: CHURN,
      middle: proxy('nginx', { keepalive: INFLIGHT }, FULL_CHURN),
      quick: { client: QUICK_CHURN_CLIENT, middle: proxy('nginx', { keepalive: INFLIGHT }, QUICK_CHURN) },
      expect: churned(() =>
        exactly(
          0,
          `nginx keeps up to ${INFLIGHT} idle upstream connections and the client never has more than ${INFLIGHT} requests out (inflight ${INFLIGHT}): it closes none (measured 30 with keepalive 16; and 9 in 9,000 requests while nginx still closed an upstream connection after its 1000th)`,
        ),
      ),
    },
    {
      name: 'HAProxy resets its upstream connections',
      about: 'The same churn through HAProxy without keepalive: a new server connection per request, ended with a reset, so no TIME_WAIT.',
      clients: 1,
      client: CHURN,
      middle: proxy('haproxy', {}, FULL_CHURN),
      quick: { client: QUICK_CHURN_CLIENT, middle: proxy('haproxy', {}, QUICK_CHURN) },
      expect: churned(() => exactly(0, 'HAProxy ends each server connection with a reset (SO_LINGER 0) once the answer is in')),
    },
  ],
});
