/**
 * A reverse proxy's configuration as the lab writes it for a case, fully resolved (addresses, ports, counts):
 * the plan fills it from the case's settings, nginx.ts and haproxy.ts render it as that proxy's own file, and
 * the proxy image's lab-proxy starts the proxy from that file (images/proxy/lab-proxy).
 */

export const PROXY_KINDS = ['nginx', 'haproxy'] as const;
export type ProxyKind = (typeof PROXY_KINDS)[number];

/** Where lab-proxy puts what the proxy logs (nginx's error_log, HAProxy's stderr): the collectors read it. */
export const PROXY_ERROR_LOG = '/var/log/lab-proxy/error.log';
/** The program the proxy image starts the proxy with: `lab-proxy <kind> <config, base64> [check]`. */
export const LAB_PROXY = 'lab-proxy';

export interface Backend {
  ip: string;
  port: number;
}

export interface ProxyConfig {
  kind: ProxyKind;
  /** The ports it listens on for the clients (every address). */
  ports: readonly number[];
  /** Where it connects onward, in turn (round robin). */
  backends: readonly Backend[];
  /** The addresses its upstream connections leave from, in turn (nginx proxy_bind, HAProxy source); none: the route's. */
  sources: readonly string[];
  /** Idle upstream connections kept for reuse (nginx `keepalive N` per worker, HAProxy `http-reuse always`); 0: a new upstream connection per request. */
  keepalive: number;
  timeouts: ProxyTimeouts;
  /** nginx worker processes, HAProxy threads (one process). */
  workers: number;
  /** Per worker (nginx worker_connections) or in all (HAProxy maxconn: connections from clients). */
  connections: number;
  /** The open-file limit the proxy asks for (worker_rlimit_nofile, ulimit-n): at most the machine's ceiling. */
  nofile: number;
  /** listen backlog (the kernel caps it at net.core.somaxconn). */
  backlog: number;
}

export interface ProxyTimeouts {
  /** Connecting to a backend. */
  connectMs: number;
  /** Waiting for a backend's answer: past it the client gets 504. */
  upstreamMs: number;
  /** An idle client connection (keep-alive between requests, or one that never sends). */
  clientMs: number;
}

/** What a proxy's configuration must hold to be written: one line naming the field, or none. */
export function proxyConfigProblem(config: ProxyConfig): string | undefined {
  if (!config.backends.length) return 'backends: a proxy needs at least one backend';
  if (!config.ports.length) return 'ports: a proxy listens on at least one port';
  if (!Number.isInteger(config.keepalive) || config.keepalive < 0) return 'keepalive: a count of idle connections, 0 for none';
  for (const field of ['workers', 'connections', 'nofile', 'backlog'] as const)
    if (!Number.isInteger(config[field]) || config[field] < 1) return `${field}: a whole number, at least 1`;
  for (const [name, ms] of Object.entries(config.timeouts)) if (!Number.isInteger(ms) || ms < 1) return `timeouts.${name}: milliseconds, at least 1`;
  return undefined;
}

/** Milliseconds as both proxies read a time: "1500ms". */
export function ms(value: number): string {
  return `${value}ms`;
}
