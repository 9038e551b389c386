/** Sets each expectation's prediction against what the kernel did. Pure: unit-tested on its own. */
import { addressingOf, type CasePlan, type PlannedClient, type PlannedHost, type PlannedMiddle, type PlannedServer } from '../plan/plan.ts';
import { InputError } from '../errors.ts';
import type { ExpectationResult, HostResult } from '../results/results.ts';
import { parsePortList, parsePortRange } from '../scenario/port-range.ts';
import { contains, doesNotApply, MissingFigure } from '../scenario/theory/prediction.ts';
import type {
  ClientTheory,
  Expectation,
  HostProcess,
  KernelRelease,
  Metric,
  MiddleTheory,
  Prediction,
  ProxyTheory,
  ServerTheory,
  TheoryContext,
} from '../scenario/types.ts';
import { addressesOf } from '../scenario/theory/addresses.ts';
import type { ClientLine, ServerLine } from '../programs/lines.ts';
import {
  CONNTRACK_FIGURES,
  PING_FIGURES,
  type ConnectFigure,
  type ConntrackFigure,
  type MemoryFigure,
  type PingFigure,
} from '../scenario/metrics.ts';
import { connectFigure } from '../results/connect-cost.ts';
import { heldCadence } from '../results/held-cadence.ts';
import type { KernelView } from '../collect/kernel-view.ts';

/**
 * What the theory knows of a client: its plan, what its kernel held before the flood, and what its program
 * reported of itself (the descriptors it held before its first socket).
 */
export function clientTheory(plan: PlannedClient, before: KernelView, filled?: ClientLine): ClientTheory {
  const range = before.sysctls['net.ipv4.ip_local_port_range'];
  const reserved = before.sysctls['net.ipv4.ip_local_reserved_ports'] ?? '';
  if (!range) throw new Error(`${plan.name}: ip_local_port_range was not read back`);
  return {
    name: plan.name,
    ip: plan.ip,
    portRange: parsePortRange(range),
    reservedPorts: parsePortList(reserved),
    boundPorts: before.listeningPorts,
    ...(before.listeners && { boundSockets: before.listeners.map(({ address, port }) => ({ address, port })) }),
    destinations: plan.targets.length,
    ...addressingOf(plan),
    ...(before.sysctls['net.ipv6.bindv6only'] !== undefined && { bindv6only: before.sysctls['net.ipv6.bindv6only'] === '1' }),
    asked: plan.asked,
    bind: plan.bind,
    ...(plan.socketPortRange ? { socketPortRange: plan.socketPortRange } : {}),
    nofile: before.nofile,
    processes: plan.processes,
    ...(filled?.fds_at_start !== undefined && { openFilesAtStart: filled.fds_at_start }),
    ...(plan.holdPing && { holdPing: plan.holdPing }),
    ...(plan.requests && { requests: plan.requests }),
  };
}

/** What the theory knows of the server: its plan, the backlog its kernel gave, what its program reported. */
export function serverTheory(
  plan: PlannedServer,
  measured: HostResult,
  ready?: ServerLine,
  socketsAccounted?: boolean,
  processes?: readonly HostProcess[],
  listeners?: ServerTheory['listeners'],
): ServerTheory {
  return {
    ip: plan.ip,
    ports: plan.ports,
    backlog: measured.listenBacklog ?? plan.backlog,
    workers: plan.workers,
    nofile: measured.nofile,
    ...(ready?.fds_at_start !== undefined && { openFilesAtStart: ready.fds_at_start }),
    ...(socketsAccounted !== undefined && { socketsAccounted }),
    ...(processes && { processes }),
    ...(listeners && { listeners }),
    ...(plan.settings && { settings: plan.settings }),
  };
}

/**
 * What the theory knows of the middle host: its plan, the conntrack ceiling read inside it, and (a proxy) what
 * its kernel held before the flood: its port range read back, the ports its sockets held.
 */
export function middleTheory(
  plan: PlannedMiddle,
  conntrackMax?: number,
  before?: KernelView,
  namespaceDefaults: Readonly<Record<string, string>> = {},
): MiddleTheory {
  const nat = plan.nat;
  const clientsOf: Record<string, string[]> = {};
  for (const [client, address] of Object.entries(nat?.addressOf ?? {})) (clientsOf[address] ??= []).push(client);
  return {
    name: plan.name,
    role: plan.role,
    ips: plan.ips,
    backends: plan.backends.length,
    ...(nat && {
      nat: {
        clientsOf,
        ...(nat.ports && { ports: nat.ports }),
        randomFully: nat.randomFully,
        ...(nat.conntrackMax !== undefined && { conntrackMax: nat.conntrackMax }),
      },
    }),
    ...(conntrackMax !== undefined && { conntrackMax }),
    ...(plan.proxy && { proxy: proxyTheory(plan, plan.proxy, before, namespaceDefaults) }),
  };
}

/** A proxy's theory: its settings as planned, its kernel's as read back before the flood (as planned where not read). */
function proxyTheory(
  plan: PlannedMiddle,
  proxy: NonNullable<PlannedMiddle['proxy']>,
  before: KernelView | undefined,
  defaults: Readonly<Record<string, string>>,
): ProxyTheory {
  const sysctl = (name: string, fallback: string) => before?.sysctls[name] ?? plan.sysctls[name] ?? defaults[name] ?? fallback;
  return {
    software: proxy.software,
    portRange: parsePortRange(sysctl('net.ipv4.ip_local_port_range', '32768 60999')),
    reservedPorts: parsePortList(sysctl('net.ipv4.ip_local_reserved_ports', '')),
    boundPorts: before?.listeningPorts ?? [],
    sources: proxy.config.sources,
    keepalive: proxy.config.keepalive,
    workers: proxy.config.workers,
    twReuse: Number(sysctl('net.ipv4.tcp_tw_reuse', '2')),
  };
}

/** A figure nobody measured: why, instead of a number that would look like one. */
export interface NotMeasured {
  notMeasured: string;
}

/**
 * A figure known only from below: a round-trip percentile that falls on Pings given up unanswered (counted at
 * the time they waited). Above the prediction's max it fails, within an open-ended one it holds; anywhere
 * else it is not measured.
 */
export interface AtLeast {
  atLeast: number;
  why: string;
}

export type Measurement = number | NotMeasured | AtLeast;

const notMeasured = (why: string): NotMeasured => ({ notMeasured: why });

/** The figure an expectation is about, or why there is none: only the kernel and the programs' own lines count. */
export function measure(host: HostResult, metric: Metric): Measurement {
  if (metric === 'estab') return host.estab;
  if (metric === 'timewait') return host.timewait;
  if (metric === 'listen.backlog') return host.listenBacklog ?? notMeasured('no listener backlog was read');
  if (metric.startsWith('conntrack.')) return conntrackFigure(host, metric.slice('conntrack.'.length));
  if (metric === 'fromMiddle') {
    if (!host.peers) return notMeasured(`${host.name}'s connections per peer were not read (the case has no middle host)`);
    return Object.values(host.peers).reduce((a, b) => a + b, 0);
  }
  if (metric.startsWith('nstat.')) {
    const counter = metric.slice('nstat.'.length);
    return host.nstat[counter] ?? notMeasured(`the kernel has no counter ${counter}`);
  }
  // The rest is what the host's program reported: a program that said nothing measured nothing.
  if (host.flood?.unreported) return notMeasured(`${host.flood.program} exited without reporting its figures`);
  if (metric === 'pongs') return host.flood?.pongs ?? 0;
  if (metric === 'opened') return host.flood?.established ?? 0;
  if (metric === 'accepted') return host.accepted ?? notMeasured('the host is not a server that reported accepts');
  if (metric.startsWith('ping.')) return pingFigure(host, metric.slice('ping.'.length));
  if (metric.startsWith('memory.')) return memoryFigure(host, metric.slice('memory.'.length));
  if (metric.startsWith('connect.')) return connectCostFigure(host, metric.slice('connect.'.length) as ConnectFigure);
  if (metric.startsWith('http.')) {
    const requests = host.flood?.requests;
    if (!requests) return notMeasured(`${host.name} sent no HTTP requests (client.request)`);
    return requests.statuses[metric.slice('http.'.length)] ?? 0;
  }
  const errno = metric.slice('errors.'.length);
  return (host.errors[errno] ?? 0) + (host.bindErrors[errno] ?? 0);
}

/** The host's own connection tracking (a gateway's namespace), as read at collection. */
function conntrackFigure(host: HostResult, name: string): Measurement {
  if (!host.conntrack) return notMeasured(`${host.name}'s own connection tracking was not read (only a gateway's is)`);
  if (!CONNTRACK_FIGURES.includes(name as ConntrackFigure)) return notMeasured(`no conntrack figure '${name}'`);
  return host.conntrack[name as ConntrackFigure];
}

function pingFigure(host: HostResult, name: string): Measurement {
  const ping = host.flood?.holdPing;
  if (!ping) return notMeasured('the host held no connscale-style ping');
  const figure = name as PingFigure;
  if (figure === 'sent' || figure === 'pongs' || figure === 'timeouts' || figure === 'perSecond') return ping[figure];
  if (figure === 'heldPerSecond') return heldCadence(ping)?.askedPerSecond ?? 0;
  if (!PING_FIGURES.includes(figure)) return notMeasured(`no ping figure '${name}'`);
  // A percentile of no round trip is none, never 0 (older results carry zeros with a count of 0).
  if (!ping.rttMs?.count)
    return notMeasured(`no Pong came back (${ping.sent} Pings sent, ${ping.timeouts} timed out): no round trip to take a percentile of`);
  const value = ping.rttMs[figure];
  // Unanswered Pings are in the histogram at the time they were given up (above the timeout): a figure there
  // is only a lower bound of the round trip.
  if (ping.unanswered && (figure === 'max' || value > ping.timeoutMs)) {
    return { atLeast: value, why: `${ping.unanswered} Pings had no Pong when given up past the ${ping.timeoutMs} ms timeout` };
  }
  return value;
}

/** The memory figures read from the host's own memory cgroup: a runtime whose hosts have none cannot measure them. */
const OWN_CGROUP_FIGURES: readonly string[] = ['cgroupBytesPerConnection', 'tcpBufferBytesPerConnection'] satisfies MemoryFigure[];

/** Why a metric does not apply on this runtime, where it does not: one read from a memory cgroup its hosts lack. */
export function notOnThisRuntime(metric: Metric, context: Pick<TheoryContext, 'hostMemoryCgroups'>): string | undefined {
  if (context.hostMemoryCgroups !== false || !metric.startsWith('memory.')) return undefined;
  return OWN_CGROUP_FIGURES.includes(metric.slice('memory.'.length))
    ? 'does not apply on this runtime: its hosts have no memory cgroup of their own'
    : undefined;
}

/** Kernel memory per connection the host holds: its own cgroup's growth, or the machine's slab growth. */
function memoryFigure(host: HostResult, name: string): Measurement {
  if (!host.estab) return notMeasured(`${host.name} holds no connection to divide by`);
  const per = (bytes: number) => Math.round(bytes / host.estab);
  if (name === 'slabBytesPerConnection') {
    // The machine's slab is every run's: with another run active between the readings its growth is not this case's.
    if (host.hostWide.notMeasured) return notMeasured(host.hostWide.notMeasured);
    return host.hostWide.slabObjectBytes === undefined ? notMeasured('no slabinfo was read') : per(host.hostWide.slabObjectBytes);
  }
  if (!OWN_CGROUP_FIGURES.includes(name)) return notMeasured(`no memory figure '${name}'`);
  if (!host.cgroupMemory) return notMeasured(`${host.name} has no memory cgroup of its own`);
  if (name === 'cgroupBytesPerConnection') return per(host.cgroupMemory.kernelBytes);
  if (name === 'tcpBufferBytesPerConnection') {
    return host.cgroupMemory.tcpBufferBytes === undefined
      ? notMeasured(`socket buffers are not accounted to ${host.name}'s cgroup`)
      : per(host.cgroupMemory.tcpBufferBytes);
  }
  return notMeasured(`no memory figure '${name}'`);
}

function connectCostFigure(host: HostResult, figure: ConnectFigure): Measurement {
  const cost = host.flood?.connectCost;
  if (!cost) return notMeasured(`${host.name} did not time its connect() calls (client.connectCost)`);
  const value = connectFigure(cost, figure);
  return typeof value === 'number' ? value : notMeasured(value.missing);
}

function sum(values: readonly Measurement[]): Measurement {
  const missing = values.find((v): v is NotMeasured => typeof v !== 'number' && 'notMeasured' in v);
  if (missing) return missing;
  const total = values.reduce<number>((a, b) => a + (typeof b === 'number' ? b : (b as AtLeast).atLeast), 0);
  const bound = values.find((v): v is AtLeast => typeof v !== 'number');
  return bound ? { atLeast: total, why: bound.why } : total;
}

/** What predict() returned, as a prediction; or why it is none (a Promise, NaN, a string, min above max). */
export function checkedPrediction(value: unknown): Prediction | { problem: string } {
  const problem = (why: string) => ({ problem: why });
  if (typeof value === 'number') return Number.isNaN(value) ? problem('returned NaN') : { min: value, max: value };
  if (value instanceof Promise || typeof (value as { then?: unknown } | null)?.then === 'function')
    return problem('returned a Promise: it must return at once');
  if (typeof value !== 'object' || value === null) return problem(`returned ${value === null ? 'null' : typeof value}, not a number or { min, max }`);
  const { min, max } = value as { min?: unknown; max?: unknown };
  if (typeof min !== 'number' || typeof max !== 'number' || Number.isNaN(min) || Number.isNaN(max))
    return problem('returned an object without numbers min and max');
  if (min > max) return problem(`returned min ${min} above max ${max}`);
  return value as Prediction;
}

/** A prediction the theory cannot make (it needs a figure nobody reported) makes the row invalid, not a crash. */
function predictOrWhy(e: Expectation, context: TheoryContext): Prediction | NotMeasured {
  try {
    const prediction = checkedPrediction(e.predict(context));
    return 'problem' in prediction ? notMeasured(`predict() ${prediction.problem}`) : prediction;
  } catch (error) {
    return notMeasured(`no prediction: ${(error as Error)?.message ?? String(error)}`);
  }
}

/**
 * The theory's context as far as the plan knows it before anything runs: the ranges and limits the hosts
 * are given, nothing any program reported yet. A scenario's predict() is tried on it before the flood.
 */
export function plannedContext(
  plan: CasePlan,
  kernel: KernelRelease,
  namespaceDefaults: Readonly<Record<string, string>> = {},
): Omit<TheoryContext, 'client'> {
  const sysctl = (host: PlannedHost, name: string, fallback: string) => String(host.sysctls[name] ?? namespaceDefaults[name] ?? fallback);
  const clients = plan.clients.map((c): ClientTheory => ({
    name: c.name,
    ip: c.ip,
    portRange: parsePortRange(sysctl(c, 'net.ipv4.ip_local_port_range', '32768 60999')),
    reservedPorts: parsePortList(sysctl(c, 'net.ipv4.ip_local_reserved_ports', '')),
    boundPorts: [],
    destinations: c.targets.length,
    ...addressingOf(c),
    bindv6only: sysctl(c, 'net.ipv6.bindv6only', '0') === '1',
    asked: c.asked,
    bind: c.bind,
    ...(c.socketPortRange ? { socketPortRange: c.socketPortRange } : {}),
    nofile: c.nofile,
    processes: c.processes,
    ...(c.holdPing && { holdPing: c.holdPing }),
    ...(c.requests && { requests: c.requests }),
  }));
  const somaxconn = Number(sysctl(plan.server, 'net.core.somaxconn', '4096'));
  return {
    kernel,
    clients,
    server: {
      ip: plan.server.ip,
      ports: plan.server.ports,
      backlog: Math.min(plan.server.backlog, somaxconn),
      workers: plan.server.workers,
      nofile: plan.server.nofile,
      ...(plan.server.settings && { settings: plan.server.settings }),
    },
    ...(plan.middle && { middle: middleTheory(plan.middle, undefined, undefined, namespaceDefaults) }),
  };
}

/**
 * Tries every expectation's predict() on the planned context: one that throws (other than for a figure only
 * the run reads) or returns no prediction is refused before anything starts, naming its field.
 */
export function checkPredictions(
  plan: Pick<CasePlan, 'expectations'>,
  context: Omit<TheoryContext, 'client'>,
  file: string,
  fieldOf: (index: number) => string,
): void {
  plan.expectations.forEach((e, index) => {
    const problem = predictionProblem(e, context);
    if (problem) throw new InputError(file, fieldOf(index), problem);
  });
}

/** Why one expectation's predict() cannot be used on the planned context, if it cannot (see checkPredictions). */
export function predictionProblem(e: Expectation, context: Omit<TheoryContext, 'client'>): string | undefined {
  const contexts =
    e.subject === 'each client'
      ? context.clients.map((client) => ({ ...context, client }))
      : e.subject === 'each address'
        ? addressContexts(context)
        : [context];
  for (const ctx of contexts) {
    let value: unknown;
    try {
      value = e.predict(ctx);
    } catch (error) {
      if (MissingFigure.is(error)) continue;
      return `predict() threw: ${(error as Error)?.message ?? String(error)}`;
    }
    const checked = checkedPrediction(value);
    if ('problem' in checked) return `predict() ${checked.problem}`;
  }
  return undefined;
}

/**
 * The rows of an expectation that could not be judged (its predict() never returned, say), one per host as
 * evaluate() would make them: INVALID, saying why, with neither a prediction nor a verdict.
 */
export function unjudgedRows(
  e: Pick<Expectation, 'claim' | 'subject' | 'metric'>,
  server: string,
  clients: readonly string[],
  why: string,
  middle?: string,
): ExpectationResult[] {
  const hosts =
    e.subject === 'server' ? [server] : e.subject === 'all clients' ? ['all clients'] : e.subject === 'middle' ? [middle ?? 'middle'] : clients;
  return hosts.map((host) => ({
    claim: e.claim,
    subject: e.subject,
    host,
    metric: e.metric,
    predicted: { min: NaN, max: NaN },
    measured: NaN,
    pass: false,
    invalid: why,
  }));
}

/** One context per address of each client, for subject 'each address'. */
function addressContexts(context: Omit<TheoryContext, 'client'>): TheoryContext[] {
  return context.clients.flatMap((client) =>
    addressesOf(client).map((address) => ({ ...context, client, address, kernel: client.kernel ?? context.kernel })),
  );
}

/** The kernel's count of a client's connections from one address, read inside it after the flood. */
function measureAddress(host: HostResult, address: string): Measurement {
  if (host.flood?.unreported) return notMeasured(`${host.flood.program} exited without reporting its figures`);
  return host.sources?.[address] ?? notMeasured(`no count per address was read inside ${host.name}`);
}

/**
 * The one host a 'server' or 'middle' row is about, and its figure: they depend on every client, as the
 * clients' sum does. A case without a middle host has nothing to measure there.
 */
function oneHost(e: Expectation, server: HostResult, middle: HostResult | undefined): [string | undefined, Measurement?] {
  if (e.subject !== 'server' && e.subject !== 'middle') return [undefined];
  const host = e.subject === 'server' ? server : middle;
  return host ? [host.name, measure(host, e.metric)] : ['middle', notMeasured('the case has no middle host')];
}

export function evaluate(
  expectations: readonly Expectation[],
  context: Omit<TheoryContext, 'client'>,
  server: HostResult,
  clients: readonly HostResult[],
  middle?: HostResult,
): ExpectationResult[] {
  const rows: ExpectationResult[] = [];
  const lostClients = clients.filter((c) => c.lost).map((c) => c.name);
  const row = (e: Expectation, host: string, prediction: Prediction | NotMeasured, measurement: Measurement, dependsOn: readonly string[]) => {
    if ('doesNotApply' in prediction && prediction.doesNotApply) {
      const why = prediction.why ?? 'the theory says so';
      rows.push({
        claim: e.claim,
        subject: e.subject,
        host,
        metric: e.metric,
        predicted: { min: NaN, max: NaN, why },
        measured: NaN,
        pass: true,
        notApplicable: why,
      });
      return;
    }
    const lost = dependsOn.filter((name) => lostClients.includes(name));
    const bound = typeof measurement !== 'number' && 'atLeast' in measurement ? measurement : undefined;
    const predicted = 'notMeasured' in prediction ? { min: NaN, max: NaN } : prediction;
    // A lower bound decides a row only where all above it falls on one side: past the max (it fails), or
    // within a prediction with no max (it holds). Elsewhere it is no measurement, and shows none.
    const decided = bound && (bound.atLeast > predicted.max || (predicted.max === Infinity && contains(predicted, bound.atLeast)));
    const measured = typeof measurement === 'number' ? measurement : decided ? bound.atLeast : NaN;
    const invalid = lost.length
      ? `${lost.join(', ')} lost mid-run`
      : typeof measurement !== 'number' && 'notMeasured' in measurement
        ? `not measured: ${measurement.notMeasured}`
        : 'notMeasured' in prediction
          ? prediction.notMeasured
          : bound && !decided
            ? `not measured: only known to be at least ${bound.atLeast}: ${bound.why}`
            : undefined;
    rows.push({
      claim: e.claim,
      subject: e.subject,
      host,
      metric: e.metric,
      predicted,
      measured,
      pass: !invalid && contains(predicted, measured),
      ...(invalid ? { invalid } : {}),
    });
  };
  const everyClient = clients.map((c) => c.name);
  // A figure this runtime cannot measure is no claim about the kernel: its rows do not apply, whatever predict() says.
  const predict = (e: Expectation, ctx: TheoryContext): Prediction | NotMeasured => {
    const why = notOnThisRuntime(e.metric, ctx);
    return why ? doesNotApply(why) : predictOrWhy(e, ctx);
  };
  for (const e of expectations) {
    const [name, figure] = oneHost(e, server, middle);
    if (name) row(e, name, predict(e, context), figure!, everyClient);
    if (e.subject === 'all clients') {
      row(e, 'all clients', predict(e, context), sum(clients.map((c) => measure(c, e.metric))), everyClient);
    }
    if (e.subject === 'each client') {
      context.clients.forEach((theory, i) => {
        // A client's claims are about its own kernel: its node's, in a swarm.
        row(e, theory.name, predict(e, { ...context, client: theory, kernel: theory.kernel ?? context.kernel }), measure(clients[i]!, e.metric), [
          theory.name,
        ]);
      });
    }
    if (e.subject === 'each address') {
      for (const ctx of addressContexts(context)) {
        const i = context.clients.indexOf(ctx.client!);
        row(e, `${ctx.client!.name} ${ctx.address!.address}`, predict(e, ctx), measureAddress(clients[i]!, ctx.address!.address), [ctx.client!.name]);
      }
    }
  }
  return rows;
}
