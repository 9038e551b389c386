/** The case's server: where it answers, and the program answering there. */
import { InputError } from '../errors.ts';
import { hostAddress, parseSubnet } from '../subnet.ts';
import { labserverArgv, serverWorkersFor } from '../programs/argv.ts';
import type { ServerSpec } from '../scenario/types.ts';
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
  ports: number[];
  /** Every ip:port pair, which the clients aim at. */
  targets: string[];
}

export function serverEndpoints({ merged, options, at }: CaseInPlanning): ServerEndpoints {
  const ips = Array.from({ length: merged.server.addresses ?? 1 }, (_, i) => hostAddress(options.subnet, 2 + i));
  const ports = listenedPorts(merged.server);
  if (!ports.length)
    throw new InputError(options.file, `${at}.server.ports`, 'is missing (the ports the server listens on; or server.program.ports)');
  return { ips, ports, targets: ips.flatMap((ip) => ports.map((port) => `${ip}:${port}`)) };
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
    sysctls: sysctlStrings(spec.sysctls),
    nofile,
    capabilities: { ...spec.capabilities },
    extraAddresses: endpoints.ips.slice(1).map((ip) => `${ip}/${parseSubnet(options.subnet).prefix}`),
    ips: endpoints.ips,
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
  return { ...server, program: own ? bounded(deadlineSeconds, own.command) : labserverProgram(spec, server, deadlineSeconds) };
}

function labserverProgram(spec: ServerSpec, server: Omit<PlannedServer, 'program'>, deadlineSeconds: number): string[] {
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
  });
}
