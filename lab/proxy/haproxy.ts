/**
 * haproxy.cfg for the lab's reverse proxy, from a ProxyConfig. What each line is for:
 * - one process with `nbthread` threads, `maxconn` client connections, `ulimit-n` the open-file limit asked
 *   for (HAProxy refuses to start when the limit it computes is above the hard limit);
 * - `retries 0` and no `option redispatch`: a failed connect is one 503 at the client, not a second try;
 * - a `server` line per (backend, source address): HAProxy's `source` takes one address, so several source
 *   addresses are several servers for one backend, balanced round robin;
 * - without keepalive `option http-server-close` (HAProxy closes the upstream connection after each answer:
 *   the TIME_WAIT is the proxy's) and `http-reuse never`; with it `http-reuse always` and `pool-max-conn`;
 * - no `log` target: HAProxy writes "Connect() failed for backend <name>: no free ports." to its stderr for
 *   each connect() that fails with EADDRNOTAVAIL (or EAGAIN; "local address already in use" for EADDRINUSE),
 *   and lab-proxy puts that stderr in the error log. A log target would carry the same line a second time
 *   (send_log at LOG_ERR) beside the request's log line (503, termination state "SC--").
 */
import { ms, type ProxyConfig } from './config.ts';

export function haproxyConfig(config: ProxyConfig): string {
  const t = config.timeouts;
  const keepalive = config.keepalive > 0;
  const servers = config.backends.flatMap((b, i) =>
    config.sources.length
      ? config.sources.map((source, j) => `    server b${i}s${j} ${b.ip}:${b.port} source ${source}${pool(config)}`)
      : [`    server b${i} ${b.ip}:${b.port}${pool(config)}`],
  );
  return [
    'global',
    `    nbthread ${config.workers}`,
    `    maxconn ${config.connections}`,
    `    ulimit-n ${config.nofile}`,
    '    pidfile /run/lab-proxy/haproxy.pid',
    'defaults',
    '    mode http',
    '    retries 0',
    `    timeout connect ${ms(t.connectMs)}`,
    `    timeout server ${ms(t.upstreamMs)}`,
    `    timeout client ${ms(t.clientMs)}`,
    `    timeout http-keep-alive ${ms(t.clientMs)}`,
    `    timeout http-request ${ms(t.clientMs)}`,
    'frontend lab',
    ...config.ports.map((port) => `    bind :${port} backlog ${config.backlog}`),
    `    maxconn ${config.connections}`,
    '    default_backend backends',
    'backend backends',
    '    balance roundrobin',
    ...(keepalive ? ['    http-reuse always'] : ['    option http-server-close', '    http-reuse never']),
    ...servers,
    '',
  ].join('\n');
}

/** Idle connections kept per server for reuse, where keepalive is on. */
function pool(config: ProxyConfig): string {
  return config.keepalive > 0 ? ` pool-max-conn ${config.keepalive}` : '';
}
