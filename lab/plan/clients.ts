/** The case's clients: alike but for their names and addresses, each aiming at every server endpoint. */
import { parsePortRange } from '../scenario/port-range.ts';
import { FIRST_CLIENT, hostAddress } from '../subnet.ts';
import { clientProcessesFor, labchurnArgv, labclientArgv } from '../programs/argv.ts';
import { nofileWithinCeiling } from './checks.ts';
import { bounded, ownProgram, substitute } from './own-program.ts';
import { askedConnections, portsInReach } from './ports.ts';
import { sysctlStrings } from './sysctls.ts';
import type { MergedCase } from './merge.ts';
import type { CaseInPlanning, PlannedClient } from './types.ts';

const DEFAULT_INFLIGHT = 256;

type ClientWithoutProgram = Omit<PlannedClient, 'program'>;

export function planClients(planning: CaseInPlanning, targets: string[], deadlineSeconds: number): PlannedClient[] {
  return Array.from({ length: planning.merged.clients }, (_, i) => {
    const client = planClientHost(planning, i, targets);
    return { ...client, program: clientProgram(client, planning.merged, deadlineSeconds) };
  });
}

/** The i-th client's host and what it asks for: how many connections, in how many processes, from which ports. */
function planClientHost({ merged, options, at }: CaseInPlanning, i: number, targets: string[]): ClientWithoutProgram {
  const spec = merged.client;
  const nofile = nofileWithinCeiling(spec, `${at}.client.nofile`, options);
  const sysctls = sysctlStrings(spec.sysctls);
  const asked = spec.churn ? spec.churn.rate * spec.churn.seconds : askedConnections(spec, sysctls, targets.length);
  const socketPortRange = spec.socketPortRange ? parsePortRange(spec.socketPortRange) : undefined;
  const costPorts = spec.connectCost ? portsInReach(sysctls, socketPortRange) * targets.length : undefined;
  const holdPing = spec.holdPing;
  return {
    name: `client-${i + 1}`,
    role: 'client',
    ip: hostAddress(options.subnet, FIRST_CLIENT + i),
    sysctls,
    nofile,
    capabilities: { ...spec.capabilities },
    extraAddresses: [],
    targets,
    asked,
    processes: spec.churn ? 1 : (spec.processes ?? clientProcessesFor(asked, nofile)),
    inflight: spec.inflight ?? DEFAULT_INFLIGHT,
    bind: spec.bind ?? 'none',
    ...(socketPortRange ? { socketPortRange } : {}),
    ping: spec.ping ?? false,
    ...(holdPing && { holdPing }),
    ...(costPorts && { costPorts }),
    ...(spec.program && { customProgram: ownProgram(spec.program, options.file) }),
  };
}

/** The client's argv: the scenario's own program, labchurn for a churn, else labclient's flood. */
function clientProgram(client: ClientWithoutProgram, { client: spec, server }: MergedCase, deadlineSeconds: number): string[] {
  const { targets } = client;
  if (spec.program)
    return bounded(
      deadlineSeconds,
      spec.program.command.map((arg) => substitute(arg, targets)),
    );
  if (spec.churn) {
    return labchurnArgv({
      targets,
      rate: spec.churn.rate,
      seconds: spec.churn.seconds,
      inflight: client.inflight,
      deadlineSeconds,
      connectTimeoutMs: spec.connectTimeoutMs,
      // Against a server that closes first, read to its FIN before closing, as an HTTP/1.0 client would.
      waitEof: server.closeFirst,
    });
  }
  return labclientArgv({
    targets,
    count: client.asked,
    processes: client.processes,
    inflight: client.inflight,
    bind: client.bind,
    socketPortRange: client.socketPortRange,
    deadlineSeconds,
    ping: client.ping,
    // The round ends as soon as every Pong is in; the wait only bounds a lost answer.
    pingWaitMs: spec.pingWaitMs ?? 300_000,
    holdPing: client.holdPing,
    sendBytes: spec.sendBytes,
    keepAsking: spec.keepAsking,
    connectTimeoutMs: spec.connectTimeoutMs,
    costPorts: client.costPorts,
    // The clients speak what the server answers: Ping, or HTTP/1.1 keep-alive requests.
    http: (server.program?.protocol ?? server.protocol) === 'http',
  });
}
