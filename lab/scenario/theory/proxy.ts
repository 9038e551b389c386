/**
 * A reverse proxy's upstream leg (seed 002: Heroku's router). The proxy is a client of its backends: each
 * upstream connection takes a port from the proxy's own range, one range per (proxy source address, backend
 * address, backend port), exactly as a client's per (client IP, server IP, port) (ports.ts). The clients'
 * ranges are another matter: they connect to the proxy, one destination, and stay far from theirs.
 *
 * Held requests (long-poll): one upstream connection each, for as long as the backend holds the answer, so the
 * proxy holds usable ports x backends x source addresses of them, and every request past that fails at once:
 * connect() answers EADDRNOTAVAIL (nginx logs "connect() ... failed (99: Cannot assign requested address)
 * while connecting to upstream" and answers 502; HAProxy writes "Connect() failed for backend ...: no free
 * ports." and answers 503).
 *
 * Churn without upstream keepalive: nginx speaks HTTP/1.0 upstream and closes each connection once the answer
 * is in, so it closes first and keeps the TIME_WAIT, 60 s on Linux (TCP_TIMEWAIT_LEN). tcp_tw_reuse would let
 * connect() take a port back from a TIME_WAIT older than a second, but its default 2 allows that only on
 * loopback (tcp_twsk_unique), and the proxy's backends are not on loopback: measured here on 6.18, 400
 * requests through a proxy with 200 ports gave 200 answers with tcp_tw_reuse 2 and 400 with 1. So within a
 * minute the proxy makes at most its ports' worth of upstream connections, and over longer runs ports / 60 a
 * second. HAProxy ends each server connection with a reset once the answer is in (SO_LINGER 0): no TIME_WAIT,
 * no churn wall. Upstream keepalive reuses connections: a few carry every request.
 */
import type { Prediction } from '../types.ts';
import type { ClientTheory, ProxyTheory, TheoryContext } from './context.ts';
import { usablePorts } from './ports.ts';
import { between, exactly, MissingFigure } from './prediction.ts';

/** How long a TIME_WAIT lasts on Linux, s (TCP_TIMEWAIT_LEN; not a sysctl). */
export const TIME_WAIT_SECONDS = 60;

/** The proxy the case runs, as the theory reads it. */
export function proxyOf(ctx: TheoryContext): ProxyTheory & { backends: number } {
  const proxy = ctx.middle?.proxy;
  if (!proxy || !ctx.middle) throw new MissingFigure('the case has no reverse proxy in the middle');
  return { ...proxy, backends: ctx.middle.backends };
}

/** Ports one upstream range gives: the proxy's range less reserved ports and those its own sockets hold. */
export function proxyRangePorts(ctx: TheoryContext): Prediction {
  const proxy = proxyOf(ctx);
  return usablePorts(proxy.portRange, { reserved: proxy.reservedPorts, bound: proxy.boundPorts });
}

/** Upstream ranges: one per (source address, backend address and port). */
export function upstreamRanges(ctx: TheoryContext): number {
  const proxy = proxyOf(ctx);
  return Math.max(1, proxy.sources.length) * proxy.backends;
}

/** Upstream connections the proxy can hold at once: its range's usable ports x backends x source addresses. */
export function proxyUpstreamCeiling(ctx: TheoryContext): Prediction {
  const proxy = proxyOf(ctx);
  const ports = proxyRangePorts(ctx);
  const ranges = upstreamRanges(ctx);
  const sources = Math.max(1, proxy.sources.length);
  return {
    min: ports.min * ranges,
    max: ports.max * ranges,
    why: `${ports.why} per range x ${proxy.backends} backend endpoint(s) x ${sources} source address(es)`,
  };
}

/** Requests every client sends through the proxy in all: its connections, times the answers each takes. */
export function requestsAsked(ctx: TheoryContext): number {
  return ctx.clients.reduce((sum, c) => sum + requestsOf(c), 0);
}

function requestsOf(client: ClientTheory): number {
  return client.asked * (client.requests?.perConnection ?? 1);
}

/**
 * How unevenly the proxy spreads requests over its upstream ranges, at most: round robin (nginx over its
 * backends, HAProxy over its server lines, one per backend and source address) is exact in each worker, one
 * off per worker at most; nginx's split_clients over several source addresses hashes each request's id, a
 * binomial share, taken here to 5 standard deviations.
 */
function spread(ctx: TheoryContext, asked: number): { count: number; why: string } {
  const proxy = proxyOf(ctx);
  const sources = Math.max(1, proxy.sources.length);
  const servers = proxy.software === 'haproxy' ? proxy.backends * sources : proxy.backends;
  const roundRobin = servers > 1 ? proxy.workers * servers : 0;
  const hashed = proxy.software === 'nginx' && sources > 1 ? Math.ceil(5 * Math.sqrt(asked * (1 / sources) * (1 - 1 / sources)) * sources) : 0;
  const why = [
    roundRobin && `round robin over ${servers} ${proxy.software === 'haproxy' ? 'server lines' : 'backends'} in each of ${proxy.workers} worker(s)`,
    hashed && `split_clients hashing $request_id over ${sources} source addresses (5 σ)`,
  ]
    .filter(Boolean)
    .join(', ');
  return { count: roundRobin + hashed, why };
}

/**
 * Held requests: upstream connections the proxy holds, the smaller of what the clients ask and its ceiling.
 * Exact where every range gets more requests than it has ports (or all of them fit); near the ceiling how
 * evenly the requests split over the ranges decides, within `spread`.
 */
export function proxyHeldUpstream(ctx: TheoryContext): Prediction {
  const asked = requestsAsked(ctx);
  const ceiling = proxyUpstreamCeiling(ctx);
  const uneven = spread(ctx, asked);
  if (asked + uneven.count <= ceiling.min) return exactly(asked, `every one of the ${asked} requests: under the ceiling of ${ceiling.why}`);
  if (asked >= ceiling.max + uneven.count)
    return { min: ceiling.min, max: ceiling.max, why: `the ceiling: ${ceiling.why} (${asked} requests asked)` };
  return between(
    Math.max(0, Math.min(asked, ceiling.min) - uneven.count),
    Math.min(asked, ceiling.max),
    `near the ceiling (${ceiling.why}) with ${asked} asked: how evenly ${uneven.why || 'the odd range'} splits them decides`,
  );
}

/** Held requests the proxy could not connect onward for: each answered at once with its error status. */
export function proxyHeldRefused(ctx: TheoryContext): Prediction {
  return refusedOf(requestsAsked(ctx), proxyHeldUpstream(ctx));
}

/** The status a proxy answers when its upstream connect() fails: nginx 502, HAProxy 503 (a resource error). */
export function upstreamFailureStatus(software: ProxyTheory['software']): 502 | 503 {
  return software === 'nginx' ? 502 : 503;
}

/** Upstream connections a second the proxy can sustain when each leaves a TIME_WAIT: ceiling / 60 s. */
export function proxyChurnCeilingPerSecond(ctx: TheoryContext): Prediction {
  const ceiling = proxyUpstreamCeiling(ctx);
  return {
    min: Math.floor(ceiling.min / TIME_WAIT_SECONDS),
    max: Math.floor(ceiling.max / TIME_WAIT_SECONDS),
    why: `(${ceiling.why}) / ${TIME_WAIT_SECONDS} s of TIME_WAIT`,
  };
}

/** The churn's length, s: every client runs the same churn. */
function churnSeconds(ctx: TheoryContext): number {
  const seconds = ctx.clients.find((c) => c.requests?.churnSeconds)?.requests?.churnSeconds;
  if (!seconds) throw new MissingFigure('the clients do not churn requests (client.churn with client.request)');
  return seconds;
}

/**
 * Churned requests the backends answered through the proxy. Without keepalive each takes a new upstream
 * connection whose TIME_WAIT stays on the proxy (nginx closes first): a churn shorter than TIME_WAIT gets
 * exactly the ceiling's worth through, a longer one that plus ceiling / 60 a second after the first minute
 * (a band: which ports come back when is timing). With tcp_tw_reuse 1, or HAProxy's resets, or keepalive,
 * nothing holds a port after its request: every request is answered.
 */
export function proxyChurnAnswered(ctx: TheoryContext): Prediction {
  const proxy = proxyOf(ctx);
  const asked = requestsAsked(ctx);
  if (proxy.keepalive > 0)
    return exactly(
      asked,
      `all ${asked}: upstream keepalive ${proxy.keepalive} reuses a few connections for every request, no port left in TIME_WAIT`,
    );
  if (proxy.software === 'haproxy')
    return exactly(asked, `all ${asked}: HAProxy resets each server connection once its answer is in (SO_LINGER 0), so no TIME_WAIT holds a port`);
  if (proxy.twReuse === 1)
    return between(
      Math.min(asked, proxyUpstreamCeiling(ctx).min),
      asked,
      'tcp_tw_reuse 1: connect() takes ports back from TIME_WAITs older than a second (timing decides how many)',
    );
  const ceiling = proxyUpstreamCeiling(ctx);
  const seconds = churnSeconds(ctx);
  const why = `nginx closes each upstream connection first and keeps its TIME_WAIT for ${TIME_WAIT_SECONDS} s (tcp_tw_reuse ${proxy.twReuse}: ${proxy.twReuse === 2 ? 'loopback only, and the backends are not' : 'off'})`;
  if (asked <= ceiling.min) return exactly(asked, `all ${asked}: fewer than the ${ceiling.why} ports; ${why}`);
  if (seconds < TIME_WAIT_SECONDS)
    return {
      min: ceiling.min,
      max: ceiling.max,
      why: `the ceiling, ${ceiling.why}: the ${seconds} s churn ends before the first TIME_WAIT does; ${why}`,
    };
  const perSecond = proxyChurnCeilingPerSecond(ctx);
  return between(
    ceiling.min,
    Math.min(asked, ceiling.max + Math.ceil((seconds - TIME_WAIT_SECONDS) * perSecond.max * 1.1)),
    `the ceiling in the first ${TIME_WAIT_SECONDS} s, then about ${perSecond.max}/s as TIME_WAITs end (${perSecond.why}); ${why}`,
  );
}

/** Churned requests the proxy answered with its error status: the rest of what was asked. */
export function proxyChurnRefused(ctx: TheoryContext): Prediction {
  return refusedOf(requestsAsked(ctx), proxyChurnAnswered(ctx));
}

/** What was asked less what went through, as a prediction of its own. */
function refusedOf(asked: number, through: Prediction): Prediction {
  const min = Math.max(0, asked - through.max);
  const max = Math.max(0, asked - through.min);
  const why = `${asked} asked - (${through.why})`;
  return min === max ? exactly(min, why) : between(min, max, why);
}
