/**
 * nginx.conf for the lab's reverse proxy, from a ProxyConfig. What each line is for:
 * - `max_fails=0` on every server: nginx otherwise takes a backend out for fail_timeout after one failed
 *   connect and answers "no live upstreams" without trying, so its log would stop counting the wall;
 * - `proxy_next_upstream off`: a failed connect is one 502, not a second try on the next backend, so each
 *   502 at the clients is one "connect() ... failed" line in the log;
 * - `proxy_bind $lab_source` with `split_clients` over `$request_id` spreads the upstream connections over
 *   the source addresses evenly; nginx sets IP_BIND_ADDRESS_NO_PORT before that bind (1.11.4+), so each
 *   address keeps one port range per backend;
 * - without keepalive nginx speaks HTTP/1.0 upstream and closes each connection once the answer is in
 *   (Content-Length met): nginx closes first, so the TIME_WAIT is the proxy's; with `keepalive N` it speaks
 *   HTTP/1.1 with the Connection header cleared and keeps up to N idle connections per worker, each for
 *   as many requests as come (nginx's own default closes one after 1000: measured, 9 TIME_WAITs in 9,000).
 */
import { ms, PROXY_ERROR_LOG, type ProxyConfig } from './config.ts';

/** The variable the upstream source address is in, where there are several. */
const SOURCE_VARIABLE = '$lab_source';

export function nginxConfig(config: ProxyConfig): string {
  const t = config.timeouts;
  const servers = config.backends.map((b) => `        server ${b.ip}:${b.port} max_fails=0;`);
  const keepalive = config.keepalive > 0;
  const location = [
    '            proxy_pass http://backends;',
    `            proxy_connect_timeout ${ms(t.connectMs)};`,
    `            proxy_read_timeout ${ms(t.upstreamMs)};`,
    `            proxy_send_timeout ${ms(t.upstreamMs)};`,
    '            proxy_next_upstream off;',
    '            proxy_buffering off;',
    ...(keepalive ? ['            proxy_http_version 1.1;', '            proxy_set_header Connection "";'] : []),
    ...(config.sources.length === 1 ? [`            proxy_bind ${config.sources[0]};`] : []),
    ...(config.sources.length > 1 ? [`            proxy_bind ${SOURCE_VARIABLE};`] : []),
  ];
  return [
    `worker_processes ${config.workers};`,
    `worker_rlimit_nofile ${config.nofile};`,
    `error_log ${PROXY_ERROR_LOG} warn;`,
    'pid /run/lab-proxy/nginx.pid;',
    'events {',
    `    worker_connections ${config.connections};`,
    '}',
    'http {',
    '    access_log off;',
    `    client_header_timeout ${ms(t.clientMs)};`,
    `    keepalive_timeout ${ms(t.clientMs)};`,
    // The clients' own keep-alive carries many requests; nginx 1.22 would close it after 1000.
    '    keepalive_requests 1000000;',
    '    upstream backends {',
    ...servers,
    // An upstream connection, too, would be closed after 1000 requests (nginx 1.22's keepalive_requests): a TIME_WAIT each.
    ...(keepalive
      ? [`        keepalive ${config.keepalive};`, `        keepalive_timeout ${ms(t.clientMs)};`, '        keepalive_requests 1000000;']
      : []),
    '    }',
    ...(config.sources.length > 1 ? splitClients(config.sources) : []),
    '    server {',
    ...config.ports.map((port) => `        listen ${port} backlog=${config.backlog}${config.workers > 1 ? ' reuseport' : ''};`),
    '        location / {',
    ...location,
    '        }',
    '    }',
    '}',
    '',
  ].join('\n');
}

/** Each request's upstream source address, spread evenly: n - 1 shares of 100/n %, the last one '*'. */
function splitClients(sources: readonly string[]): string[] {
  const share = Math.floor((100 / sources.length) * 100) / 100;
  return [
    `    split_clients "$request_id" ${SOURCE_VARIABLE} {`,
    ...sources.map((source, i) => `        ${i === sources.length - 1 ? '*' : `${share}%`} ${source};`),
    '    }',
  ];
}
