/**
 * A reverse proxy as the case's middle tier: its configuration, resolved from the case's settings
 * (middle.settings) to addresses and counts, and the program that runs it (lab-proxy in the proxy image,
 * images/proxy/, built like a scenario's own program image on the lab's server image).
 */
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.ts';
import { haproxyConfig } from '../proxy/haproxy.ts';
import { LAB_PROXY, proxyConfigProblem, type ProxyConfig } from '../proxy/config.ts';
import { nginxConfig } from '../proxy/nginx.ts';
import type { ProxyMiddle } from '../scenario/types.ts';
import { nofileWithinCeiling } from './checks.ts';
import { bounded } from './own-program.ts';
import type { CaseInPlanning, PlannedProxy } from './types.ts';

/** The proxy image's Dockerfile, built FROM the lab's server image. */
const PROXY_DOCKERFILE = fileURLToPath(new URL('../../images/proxy/Dockerfile', import.meta.url));

/** Descriptors a proxy process keeps for itself (logs, listeners, epoll, its channel) besides connections. */
const PROXY_FD_RESERVE = 64;

/** The timeouts where the case sets none: long enough that a held request waits as long as the case runs. */
const DEFAULT_TIMEOUTS = { connectMs: 5_000, upstreamMs: 600_000, clientMs: 600_000 };

/** The ports a proxy listens on, which the clients aim at. */
export function proxyPorts(spec: ProxyMiddle): number[] {
  return spec.ports ?? [80];
}

/** How many addresses the proxy has: its own, and those its upstream connections leave from besides it. */
export function proxyAddressCount(spec: ProxyMiddle): number {
  return spec.settings?.sources ?? 1;
}

/**
 * The proxy's configuration from the case's settings: `ips` are its addresses (its own first), the upstream
 * connections leaving from all of them in turn where there are several; `backends` the server's endpoints.
 */
export function proxyConfig(spec: ProxyMiddle, ips: readonly string[], backends: readonly string[], nofile: number): ProxyConfig {
  const settings = spec.settings ?? {};
  const workers = settings.workers ?? 1;
  const room = Math.max(1, nofile - PROXY_FD_RESERVE);
  return {
    kind: spec.software,
    ports: proxyPorts(spec),
    backends: backends.map((b) => {
      const colon = b.lastIndexOf(':');
      return { ip: b.slice(0, colon), port: Number(b.slice(colon + 1)) };
    }),
    sources: ips.length > 1 ? ips : [],
    keepalive: settings.keepalive ?? 0,
    timeouts: {
      connectMs: settings.connectTimeoutMs ?? DEFAULT_TIMEOUTS.connectMs,
      upstreamMs: settings.upstreamTimeoutMs ?? DEFAULT_TIMEOUTS.upstreamMs,
      clientMs: settings.clientTimeoutMs ?? DEFAULT_TIMEOUTS.clientMs,
    },
    workers,
    // nginx counts both legs of a request in worker_connections; HAProxy's maxconn counts the clients'.
    connections: settings.connections ?? (spec.software === 'nginx' ? room : Math.floor(room / 2)),
    nofile,
    backlog: settings.backlog ?? 4096,
  };
}

/** The proxy's file in its own language. */
export function renderProxyConfig(config: ProxyConfig): string {
  return config.kind === 'nginx' ? nginxConfig(config) : haproxyConfig(config);
}

/** lab-proxy's argv for a configuration (the file travels base64, one argument). */
export function labProxyArgv(config: ProxyConfig, check = false): string[] {
  return [LAB_PROXY, config.kind, Buffer.from(renderProxyConfig(config)).toString('base64'), ...(check ? ['check'] : [])];
}

/** The proxy's program (argv inside its host), bounded like every program, and what the views and the theory read of it. */
export function planProxy(
  spec: ProxyMiddle,
  { merged, options, at }: CaseInPlanning,
  backends: readonly string[],
  deadlineSeconds: number,
  ips: readonly string[],
): { program: string[]; proxy: PlannedProxy; customProgram: { command: string[]; dockerfile: string } } {
  if (merged.family !== 'ipv4')
    throw new InputError(options.file, `${at}.family`, `the lab's proxies connect onward over IPv4 here: the case connects over '${merged.family}'`);
  const nofile = nofileWithinCeiling(spec, `${at}.middle.nofile`, options);
  const config = proxyConfig(spec, ips, backends, nofile);
  const problem = proxyConfigProblem(config);
  if (problem) throw new InputError(options.file, `${at}.middle.${problem.split(':')[0]}`, problem.slice(problem.indexOf(':') + 1).trim());
  const command = labProxyArgv(config);
  return {
    program: bounded(deadlineSeconds, command),
    proxy: { software: spec.software, ports: config.ports.slice(), config },
    customProgram: { command, dockerfile: PROXY_DOCKERFILE },
  };
}
