/** The case's clients: alike but for their names and addresses, each aiming at every server endpoint. */
import { parsePortRange } from '../scenario/port-range.ts';
import { FIRST_CLIENT, hostAddress, hostAddress6, parseSubnet } from '../subnet.ts';
import { poolShapes } from '../scenario/theory/addresses.ts';
import { clientProcessesFor, labchurnArgv, labclientArgv } from '../programs/argv.ts';
import { nofileWithinCeiling } from './checks.ts';
import { bounded, ownProgram, substitute } from './own-program.ts';
import { askedConnections, portsInReach } from './ports.ts';
import { sysctlStrings } from './sysctls.ts';
import { hasIpv6, type MergedCase } from './merge.ts';
import type { CaseInPlanning, PlannedClient, PlanOptions } from './types.ts';
import type { ClientTheory, SourceAddress } from '../scenario/types.ts';

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
  const { addresses, extraAddresses, ip6 } = clientAddresses(merged, options, i);
  const ip = hostAddress(options.subnet, FIRST_CLIENT + i);
  const source = spec.source ?? 'route';
  const sources = source === 'route' ? [] : addresses.map((a) => a.address);
  // The pools of ports its connections draw from, as the theory counts them: how much a 'fill' asks.
  const pools = poolShapes({
    ip,
    addresses,
    family: merged.family,
    source,
    bind: spec.bind ?? 'none',
    bindv6only: sysctls['net.ipv6.bindv6only'] === '1',
    destinations: targets.length,
  });
  const asked = spec.churn ? spec.churn.rate * spec.churn.seconds : askedConnections(spec, sysctls, pools);
  const socketPortRange = spec.socketPortRange ? parsePortRange(spec.socketPortRange) : undefined;
  const ranges = pools.reduce((sum, p) => sum + p.ranges, 0);
  const costPorts = spec.connectCost ? portsInReach(sysctls, socketPortRange) * ranges : undefined;
  const holdPing = spec.holdPing;
  return {
    name: `client-${i + 1}`,
    role: 'client',
    ip,
    ...(ip6 && { ip6 }),
    sysctls,
    nofile,
    capabilities: { ...spec.capabilities },
    extraAddresses,
    targets,
    family: merged.family,
    source,
    addresses,
    sources,
    asked,
    processes: spec.churn ? (spec.processes ?? 1) : (spec.processes ?? clientProcessesFor(asked, nofile)),
    inflight: spec.inflight ?? DEFAULT_INFLIGHT,
    // The flood's --bind: how a port is picked where it binds (the wildcard, or with source modes an address).
    bind: source === 'bind' ? 'any' : source === 'nobindport' ? 'nobindport' : (spec.bind ?? 'none'),
    ...(socketPortRange ? { socketPortRange } : {}),
    ping: spec.ping ?? false,
    ...(holdPing && { holdPing }),
    ...(costPorts && { costPorts }),
    ...(spec.request && { requests: { perConnection: spec.request.perConnection ?? 1, ...(spec.churn && { churnSeconds: spec.churn.seconds }) } }),
    ...(spec.program && { customProgram: ownProgram(spec.program, options.file) }),
  };
}

/** What the theory reads of a client's addresses, as planned (a plan that says nothing: IPv4, the route's source, its ip). */
export function addressingOf(c: PlannedClient): Pick<ClientTheory, 'family' | 'source' | 'addresses'> {
  return { ...(c.family && { family: c.family }), ...(c.source && { source: c.source }), ...(c.addresses && { addresses: c.addresses }) };
}

/**
 * The i-th client's addresses: its own (.11 + i, and the same host number in the run's IPv6 subnet), then
 * client.addresses - 1 more per family it connects over, above every client's own, added inside it.
 */
export function clientAddresses(
  merged: MergedCase,
  options: PlanOptions,
  i: number,
): {
  addresses: SourceAddress[];
  extraAddresses: string[];
  ip6?: string;
} {
  const extra = (merged.client.addresses ?? 1) - 1;
  const numbers = [FIRST_CLIENT + i, ...Array.from({ length: extra }, (_, k) => FIRST_CLIENT + merged.clients + i * extra + k)];
  const v4 = merged.family === 'ipv6' ? [] : numbers.map((n): SourceAddress => ({ address: hostAddress(options.subnet, n), family: 'ipv4' }));
  const v6 = merged.family === 'ipv4' ? [] : numbers.map((n): SourceAddress => ({ address: hostAddress6(options.subnet, n), family: 'ipv6' }));
  const prefix = parseSubnet(options.subnet).prefix;
  return {
    addresses: [...v4, ...v6],
    extraAddresses: [...v4.slice(1).map((a) => `${a.address}/${prefix}`), ...v6.slice(1).map((a) => `${a.address}/64`)],
    ...(hasIpv6(merged.family, options.ipv6) && { ip6: hostAddress6(options.subnet, numbers[0]!) }),
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
      processes: client.processes,
      inflight: client.inflight,
      deadlineSeconds,
      connectTimeoutMs: spec.connectTimeoutMs,
      // Against a server that closes first, read to its FIN before closing, as an HTTP/1.0 client would.
      waitEof: server.closeFirst,
      ...(spec.request && { request: { path: spec.request.path ?? '/', perConnection: spec.request.perConnection } }),
    });
  }
  return labclientArgv({
    targets,
    sources: client.sources,
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
    http: !spec.request && (server.program?.protocol ?? server.protocol) === 'http',
    ...(spec.request && { request: { path: spec.request.path ?? '/', answerWaitMs: spec.request.answerWaitMs } }),
  });
}
