/**
 * A scenario's case becomes a plan: plain data saying which hosts exist, with which addresses, sysctls,
 * limits and programs. Runtimes execute plans; they never see scenarios.
 */
import type { BindMode, CaseSpec, ClientSpec, Expectation, HoldPing, Scenario, ServerSpec, Sysctls } from '../scenario/types.ts';
import { parsePortRange } from '../scenario/theory.ts';
import { FIRST_CLIENT, hostAddress, parseSubnet, subnetCapacity } from '../subnet.ts';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.ts';
import { LAB_SERVER_SETTINGS } from '../scenario/schema.ts';
import { clientProcessesFor, labchurnArgv, labclientArgv, labserverArgv, serverWorkersFor } from '../programs/argv.ts';

export type Role = 'server' | 'client';

export interface PlannedHost {
  name: string;
  role: Role;
  ip: string;
  sysctls: Record<string, string>;
  nofile: number;
  /** Capabilities added to the runtime's default set, each with the scenario's reason. */
  capabilities: Record<string, string>;
  /** Addresses (CIDR) added inside the host beyond the one the runtime gives it. */
  extraAddresses: string[];
  /** The program the host runs for the case, as argv inside the host. */
  program: string[];
  /** The scenario's own program (not the lab's): its command, and the absolute path of the Dockerfile its image builds from. */
  customProgram?: { command: string[]; dockerfile?: string };
}

export interface PlannedServer extends PlannedHost {
  role: 'server';
  /** Every address the server answers on; ip is the first. */
  ips: string[];
  ports: number[];
  backlog: number;
  workers: number;
  /** A program of the scenario's own is ready once its kernel lists a listener on each of these ports. */
  ready?: { ports: number[]; timeoutSeconds: number };
  /** A program of the scenario's own: what the scenario set it to, for the theory. */
  settings?: Record<string, number | string | boolean>;
}

export interface PlannedClient extends PlannedHost {
  role: 'client';
  targets: string[];
  asked: number;
  processes: number;
  inflight: number;
  bind: BindMode;
  socketPortRange?: readonly [number, number];
  ping: boolean;
  holdPing?: HoldPing;
  /** connectCost: the ports its connect() calls may pick from (all destinations), which the cost is counted against. */
  costPorts?: number;
}

export interface CasePlan {
  runId: string;
  scenario: string;
  caseName: string;
  about?: string;
  quick: boolean;
  subnet: string;
  deadlineSeconds: number;
  /** Seconds the connections are held after the fill before collection. */
  holdSeconds: number;
  server: PlannedServer;
  clients: PlannedClient[];
  expectations: Expectation[];
}

export interface PlanOptions {
  runId: string;
  subnet: string;
  quick: boolean;
  /** Highest open-file limit a container may get on this engine. */
  nofileCeiling: number;
  /** Where the scenario came from, for error messages. */
  file: string;
  /** Fewer clients than the subnet holds, where the runtime keeps addresses of it for itself, and why. */
  clientRoom?: { clients: number; why: string };
}

/** Kernel default, used to size a 'fill' flood when the scenario leaves the range alone. */
const DEFAULT_PORT_RANGE = '32768 60999';
const DEFAULT_INFLIGHT = 256;
const DEFAULT_DEADLINE = { full: 600, quick: 120 };
const DEFAULT_READY_SECONDS = 30;

export function planCase(scenario: Scenario, index: number, options: PlanOptions): CasePlan {
  const spec = scenario.cases[index]!;
  const at = `cases[${index}]`;
  const merged = mergeCase(scenario, spec, options.quick);
  const capacity = Math.min(subnetCapacity(options.subnet), options.clientRoom?.clients ?? Infinity);
  if (merged.clients > capacity) {
    const why = options.clientRoom && options.clientRoom.clients < subnetCapacity(options.subnet) ? `: ${options.clientRoom.why}` : '';
    throw new InputError(options.file, `${at}.clients`, `${merged.clients} clients do not fit in ${options.subnet} (room for ${capacity} beside the server${why})`);
  }
  const nofile = (settings: { nofile?: number }, field: string) => {
    const wanted = settings.nofile ?? options.nofileCeiling;
    if (wanted > options.nofileCeiling) {
      throw new InputError(options.file, field, `${wanted} is above what this engine allows per process (${options.nofileCeiling})`);
    }
    return wanted;
  };
  const serverIps = Array.from({ length: merged.server.addresses ?? 1 }, (_, i) => hostAddress(options.subnet, 2 + i));
  const serverIp = serverIps[0]!;
  const ports = listenedPorts(merged.server);
  if (!ports.length) throw new InputError(options.file, `${at}.server.ports`, 'is missing (the ports the server listens on; or server.program.ports)');
  const serverProgram = merged.server.program;
  if (serverProgram) refuseLabServerOnly(scenario, index, options, merged);
  const deadlineSeconds = scenario.deadlineSeconds ?? (options.quick ? DEFAULT_DEADLINE.quick : DEFAULT_DEADLINE.full);
  const targets = serverIps.flatMap((ip) => ports.map((port) => `${ip}:${port}`));
  const holdPing = merged.client.holdPing;
  // Each program's own hard stop: the fill's deadline, the holds, and a minute to collect and stop.
  const clientDeadline = deadlineSeconds + merged.holdSeconds + (holdPing?.seconds ?? 0) + 60;

  const clients: PlannedClient[] = [];
  for (let i = 0; i < merged.clients; i++) {
    const clientNofile = nofile(merged.client, `${at}.client.nofile`);
    const sysctls = stringify(merged.client.sysctls);
    const churn = merged.client.churn;
    const custom = merged.client.program;
    const asked = churn ? churn.rate * churn.seconds : askedConnections(merged.client, sysctls, targets.length);
    const processes = churn ? 1 : merged.client.processes ?? clientProcessesFor(asked, clientNofile);
    const inflight = merged.client.inflight ?? DEFAULT_INFLIGHT;
    const bind = merged.client.bind ?? 'none';
    const ping = merged.client.ping ?? false;
    const socketPortRange = merged.client.socketPortRange ? parsePortRange(merged.client.socketPortRange) : undefined;
    const costPorts = merged.client.connectCost ? portsInReach(sysctls, socketPortRange) * targets.length : undefined;
    clients.push({
      name: `client-${i + 1}`,
      role: 'client',
      ip: hostAddress(options.subnet, FIRST_CLIENT + i),
      sysctls,
      nofile: clientNofile,
      capabilities: { ...merged.client.capabilities },
      extraAddresses: [],
      targets,
      asked,
      processes,
      inflight,
      bind,
      ...(socketPortRange ? { socketPortRange } : {}),
      ping,
      ...(holdPing && { holdPing }),
      ...(costPorts && { costPorts }),
      ...(custom && { customProgram: ownProgram(custom, options.file) }),
      program: custom ? bounded(clientDeadline, custom.command.map((arg) => substitute(arg, targets))) : churn ? labchurnArgv({
        targets,
        rate: churn.rate,
        seconds: churn.seconds,
        inflight,
        deadlineSeconds: clientDeadline,
        connectTimeoutMs: merged.client.connectTimeoutMs,
        // Against a server that closes first, read to its FIN before closing, as an HTTP/1.0 client would.
        waitEof: merged.server.closeFirst,
      }) : labclientArgv({
        targets,
        count: asked,
        processes,
        inflight,
        bind,
        socketPortRange,
        deadlineSeconds: clientDeadline,
        ping,
        // The round ends as soon as every Pong is in; the wait only bounds a lost answer.
        pingWaitMs: merged.client.pingWaitMs ?? 300_000,
        holdPing,
        sendBytes: merged.client.sendBytes,
        keepAsking: merged.client.keepAsking,
        connectTimeoutMs: merged.client.connectTimeoutMs,
        costPorts,
        // The clients speak what the server answers: Ping, or HTTP/1.1 keep-alive requests.
        http: (merged.server.program?.protocol ?? merged.server.protocol) === 'http',
      }),
    });
  }

  const serverNofile = nofile(merged.server, `${at}.server.nofile`);
  const expectedTotal = clients.reduce((sum, c) => sum + c.asked, 0);
  // A program of one's own has its own processes: the theory counts what it reports, not lab workers.
  const workers = serverProgram ? 0 : merged.server.workers ?? serverWorkersFor(expectedTotal, serverNofile, ports.length);
  const backlog = merged.server.backlog ?? 4096;
  const server: PlannedServer = {
    name: 'server',
    role: 'server',
    ip: serverIp,
    sysctls: stringify(merged.server.sysctls),
    nofile: serverNofile,
    capabilities: { ...merged.server.capabilities },
    extraAddresses: serverIps.slice(1).map((ip) => `${ip}/${parseSubnet(options.subnet).prefix}`),
    ips: serverIps,
    ports,
    backlog,
    workers,
    ...(serverProgram && {
      customProgram: ownProgram(serverProgram, options.file),
      ready: { ports: serverProgram.ready?.port ? [serverProgram.ready.port] : ports, timeoutSeconds: serverProgram.ready?.timeoutSeconds ?? DEFAULT_READY_SECONDS },
      ...(serverProgram.settings && { settings: serverProgram.settings }),
    }),
    // The server outlives the clients' deadline by the time it takes to collect.
    program: serverProgram ? bounded(clientDeadline + 30, serverProgram.command) : labserverArgv({
      ports,
      backlog,
      workers,
      deadlineSeconds: clientDeadline + 30,
      acceptPaused: merged.server.accept === 'paused',
      acceptDelayMs: typeof merged.server.accept === 'object' ? merged.server.accept.everyMs : undefined,
      closeAfterPong: merged.server.closeFirst,
      http: merged.server.protocol === 'http',
      noRead: merged.server.holdUnread,
      emfileBackoffMs: merged.server.emfileBackoffMs,
    }),
  };

  return {
    runId: options.runId,
    scenario: scenario.name,
    caseName: spec.name,
    ...(spec.about ? { about: spec.about } : {}),
    quick: options.quick,
    subnet: options.subnet,
    deadlineSeconds,
    holdSeconds: merged.holdSeconds,
    server,
    clients,
    expectations: [...(scenario.expect ?? []), ...(spec.expect ?? [])],
  };
}

export interface MergedCase {
  clients: number;
  holdSeconds: number;
  client: ClientSpec;
  server: ServerSpec;
}

/** A case's settings: the scenario's, under the case's, under the case's quick overrides with --quick. */
export function mergeCase(scenario: Scenario, spec: CaseSpec, quick: boolean): MergedCase {
  const layers = quick && spec.quick ? [spec, spec.quick] : [spec];
  let clients = 1;
  let holdSeconds = 0;
  let client: ClientSpec = { ...scenario.client, sysctls: { ...scenario.client?.sysctls } };
  let server: ServerSpec = { ...scenario.server, sysctls: { ...scenario.server.sysctls } };
  for (const layer of layers) {
    clients = layer.clients ?? clients;
    holdSeconds = layer.holdSeconds ?? holdSeconds;
    client = { ...client, ...layer.client, sysctls: { ...client.sysctls, ...layer.client?.sysctls } };
    server = { ...server, ...layer.server, sysctls: { ...server.sysctls, ...layer.server?.sysctls } };
  }
  return { clients, holdSeconds, client, server };
}

function askedConnections(client: ClientSpec, sysctls: Record<string, string>, destinations: number): number {
  if (typeof client.connections === 'number') return client.connections;
  // 'fill': ask for more than the range can give, so the flood ends on EADDRNOTAVAIL, not on its count.
  const [low, high] = parsePortRange(client.socketPortRange ?? sysctls['net.ipv4.ip_local_port_range'] ?? DEFAULT_PORT_RANGE);
  const perDestination = high - low + 1;
  return perDestination * destinations + 16 * destinations;
}

/** Ports connect() may pick per destination: the namespace's range, narrowed by a per-socket range where they overlap. */
function portsInReach(sysctls: Record<string, string>, socketPortRange: readonly [number, number] | undefined): number {
  const [low, high] = parsePortRange(sysctls['net.ipv4.ip_local_port_range'] ?? DEFAULT_PORT_RANGE);
  if (!socketPortRange) return high - low + 1;
  return Math.max(1, Math.min(high, socketPortRange[1]) - Math.max(low, socketPortRange[0]) + 1);
}

/** The ports the server listens on: its own program's, or those given for labserver. */
export function listenedPorts(server: ServerSpec): number[] {
  return server.program?.ports ?? server.ports ?? [];
}

/** A scenario's own program, its Dockerfile found relative to the scenario file. */
function ownProgram(program: { command: string[]; dockerfile?: string | undefined }, file: string): { command: string[]; dockerfile?: string } {
  return { command: program.command, ...(program.dockerfile && { dockerfile: resolve(dirname(file), program.dockerfile) }) };
}

/** A program of the scenario's own, bounded like every flood. */
function bounded(seconds: number, argv: string[]): string[] {
  // -k, not --kill-after: BusyBox's timeout (in the VMs) knows only the short form.
  return ['timeout', '-k', '5', String(seconds), ...argv];
}

/**
 * With a server program of one's own, labserver's settings mean nothing (the program has its own config),
 * and the Ping round and hold-ping need to know what it answers: each is refused, named where it was written.
 */
function refuseLabServerOnly(scenario: Scenario, index: number, options: PlanOptions, merged: MergedCase): void {
  const spec = scenario.cases[index]!;
  const layers: Array<[string, { server?: object; client?: object } | undefined]> = [
    ...(options.quick ? [[`cases[${index}].quick`, spec.quick] as [string, typeof spec.quick]] : []),
    [`cases[${index}]`, spec],
    ['', scenario],
  ];
  const origin = (role: 'server' | 'client', field: string) => {
    const found = layers.find(([, layer]) => layer?.[role] && field in layer[role]);
    return `${found?.[0] ? `${found[0]}.` : ''}${role}.${field}`;
  };
  for (const field of LAB_SERVER_SETTINGS) {
    if (merged.server[field] !== undefined) {
      throw new InputError(options.file, origin('server', field), "is a setting of the lab's server (labserver): a server program of your own sets its own (its config, its flags)");
    }
  }
  if (merged.server.program?.protocol) return;
  for (const field of ['ping', 'holdPing'] as const) {
    if (merged.client[field]) {
      throw new InputError(options.file, origin('client', field), "needs a server that answers: say what yours speaks with server.program.protocol ('http' or 'ping')");
    }
  }
}

function stringify(sysctls: Sysctls | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(sysctls ?? {}).map(([k, v]) => [k, String(v)]));
}

function substitute(arg: string, targets: readonly string[]): string {
  return arg.replaceAll('{targets}', targets.join(',')).replaceAll('{target}', targets[0]!).replaceAll('{url}', `http://${targets[0]}/`);
}
