/** The case's server: where it answers, and the program answering there. */
import { InputError } from '../errors.ts';
import { endpoint, hostAddress, hostAddress6, parseSubnet } from '../subnet.ts';
import { labserverArgv, serverWorkersFor } from '../programs/argv.ts';
import type { ServerSpec } from '../scenario/types.ts';
import { hasIpv6, usesIpv6 } from './merge.ts';
import { nofileWithinCeiling } from './checks.ts';
import { bounded, ownProgram } from './own-program.ts';
import { listenedPorts } from './ports.ts';
import { sysctlStrings } from './sysctls.ts';
import type { CaseInPlanning, PlannedClient, PlannedServer } from './types.ts';

const DEFAULT_BACKLOG = 4096;
const DEFAULT_READY_SECONDS = 30;

export interface ServerEndpoints {
  /** The server's addresses, from .2 on. */
  ips: string[];
  /** Its IPv6 addresses (the same host numbers in the run's IPv6 subnet), where the case connects over IPv6. */
  ips6?: string[];
  ports: number[];
  /** Every ip:port pair of the families the case uses, IPv4 first, which the clients aim at. */
  targets: string[];
}

export function serverEndpoints({ merged, options, at }: CaseInPlanning): ServerEndpoints {
  const numbers = Array.from({ length: merged.server.addresses ?? 1 }, (_, i) => 2 + i);
  const ips = numbers.map((n) => hostAddress(options.subnet, n));
  const ips6 = usesIpv6(merged.family) ? numbers.map((n) => hostAddress6(options.subnet, n)) : undefined;
  const ports = listenedPorts(merged.server);
  if (!ports.length)
    throw new InputError(options.file, `${at}.server.ports`, 'is missing (the ports the server listens on; or server.program.ports)');
  const spoken = [...(merged.family === 'ipv6' ? [] : ips), ...(ips6 ?? [])];
  return { ips, ...(ips6 && { ips6 }), ports, targets: spoken.flatMap((ip) => ports.map((port) => endpoint(ip, port))) };
}

/** The server, with labserver workers enough for what the clients ask, or the scenario's own program. */
export function planServer(
  { merged, options, at }: CaseInPlanning,
  endpoints: ServerEndpoints,
  clients: PlannedClient[],
  deadlineSeconds: number,
): PlannedServer {
  const spec = merged.server;
  const own = spec.program;
  const nofile = nofileWithinCeiling(spec, `${at}.server.nofile`, options);
  const expectedTotal = clients.reduce((sum, c) => sum + c.asked, 0);
  const server: Omit<PlannedServer, 'program'> = {
    name: 'server',
    role: 'server',
    ip: endpoints.ips[0]!,
    ...(hasIpv6(merged.family, options.ipv6) && { ip6: hostAddress6(options.subnet, 2) }),
    sysctls: sysctlStrings(spec.sysctls),
    nofile,
    capabilities: { ...spec.capabilities },
    extraAddresses: [
      ...endpoints.ips.slice(1).map((ip) => `${ip}/${parseSubnet(options.subnet).prefix}`),
      ...(endpoints.ips6 ?? []).slice(1).map((ip) => `${ip}/64`),
    ],
    ips: endpoints.ips,
    ...(endpoints.ips6 && { ips6: endpoints.ips6 }),
    ports: endpoints.ports,
    backlog: spec.backlog ?? DEFAULT_BACKLOG,
    // A program of one's own has its own processes: the theory counts what it reports, not lab workers.
    workers: own ? 0 : (spec.workers ?? serverWorkersFor(expectedTotal, nofile, endpoints.ports.length)),
    ...(own && {
      customProgram: ownProgram(own, options.file),
      ready: { ports: own.ready?.port ? [own.ready.port] : endpoints.ports, timeoutSeconds: own.ready?.timeoutSeconds ?? DEFAULT_READY_SECONDS },
      ...(own.settings && { settings: own.settings }),
    }),
  };
  return {
    ...server,
    program: own ? bounded(deadlineSeconds, own.command) : labserverProgram(spec, server, deadlineSeconds, usesIpv6(merged.family)),
  };
}

function labserverProgram(spec: ServerSpec, server: Omit<PlannedServer, 'program'>, deadlineSeconds: number, dualStack: boolean): string[] {
  return labserverArgv({
    ports: server.ports,
    backlog: server.backlog,
    workers: server.workers,
    deadlineSeconds,
    acceptPaused: spec.accept === 'paused',
    acceptDelayMs: typeof spec.accept === 'object' ? spec.accept.everyMs : undefined,
    closeAfterPong: spec.closeFirst,
    http: spec.protocol === 'http',
    noRead: spec.holdUnread,
    emfileBackoffMs: spec.emfileBackoffMs,
    holdMs: spec.holdAnswersMs,
    // Over IPv6 one listener per port takes both families: the accept queues stay one per port and worker.
    dualStack,
  });
}
