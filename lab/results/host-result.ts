/**
 * A host's figures in the results, assembled from what was read inside it (its kernel's view before and
 * after the flood) and what its program reported in its last lines. A host that vanished gets no figures.
 */
import type { KernelView } from '../collect/kernel-view.ts';
import type { ConntrackReading } from '../collect/conntrack.ts';
import type { PlannedClient, PlannedHost } from '../plan/plan.ts';
import { stepHeld, type ClientLine, type RttPercentiles } from '../programs/lines.ts';
import { cgroupGrowth, slabGrowth } from './memory.ts';
import type { FloodFigures, HoldPingFigures, HostMachine, HostResult } from './results.ts';

export interface HostReading {
  plan: PlannedHost;
  /** The kernel's view after the flood; undefined when the host vanished. */
  view: KernelView | undefined;
  before: KernelView | undefined;
  errors: Record<string, number>;
  bindErrors: Record<string, number>;
  /** The server's accepted count, as it reported it. */
  accepted?: number;
  openFilesAtStart?: number;
  /** A client's established connections per local address, as its kernel counted them after the flood. */
  sources?: Record<string, number>;
  /** The server's own ports, whose listen backlog the results show. */
  serverPorts?: readonly number[];
  flood?: FloodFigures;
  machine?: HostMachine;
  /** Why the host-wide growth between the readings is not the case's (another run was active): it is left out. */
  hostWideNotMeasured?: string;
  /** Connection tracking in its own namespace, where it tracks (a gateway). */
  conntrack?: ConntrackReading;
  /** The server's connections per peer address, for the middle host's addresses. */
  peers?: Record<string, number>;
}

export function hostResult(reading: HostReading): HostResult {
  const { plan, view, before } = reading;
  if (!view) return { ...lostHost(plan), ...(reading.machine && { machine: reading.machine }) };
  return {
    name: plan.name,
    role: plan.role,
    ip: plan.ip,
    ...(plan.ip6 && { ip6: plan.ip6 }),
    ...(reading.machine && { machine: reading.machine }),
    estab: view.ss.estab,
    timewait: view.ss.timewait,
    errors: reading.errors,
    bindErrors: reading.bindErrors,
    ...(reading.accepted !== undefined && { accepted: reading.accepted }),
    ...(reading.openFilesAtStart !== undefined && { openFilesAtStart: reading.openFilesAtStart }),
    sysctls: view.sysctls,
    nofile: view.nofile,
    nstat: view.nstat,
    ...(view.ss.tcpSockets && { tcpSockets: view.ss.tcpSockets }),
    ...(plan.role === 'client' && before && { boundPortsBefore: before.listeningPorts }),
    ...(reading.sources && { sources: reading.sources }),
    programRssKiB: view.programRssKiB,
    ...(reading.serverPorts && { listenBacklog: listenBacklogOf(reading.serverPorts, before) }),
    hostWide: {
      ...view.ss.hostWide,
      ...(reading.hostWideNotMeasured
        ? { notMeasured: reading.hostWideNotMeasured }
        : before && { softnetDropped: view.softnetDropped - before.softnetDropped, slabObjectBytes: slabGrowth(before.slabObjects, view.slabObjects).reduce((sum, g) => sum + g.bytes, 0) }),
    },
    ...(before?.cgroupMemory && view.cgroupMemory && { cgroupMemory: cgroupGrowth(before.cgroupMemory, view.cgroupMemory) }),
    ...(reading.flood && { flood: reading.flood }),
    ...(reading.conntrack && { conntrack: reading.conntrack }),
    ...(reading.peers && { peers: reading.peers }),
    ...('ips' in plan && Array.isArray(plan.ips) && plan.ips.length > 1 && { ips: plan.ips as string[] }),
  };
}

/** A client's flood as its program reported it: the line that ended its fill, and its Ping round and hold. */
export interface FloodReading {
  plan: PlannedClient;
  /** The program as people know it (a scenario's own command, not the timeout(1) wrapper). */
  program: string;
  filled?: ClientLine;
  pinged?: ClientLine;
  held?: ClientLine;
  /** The program's latest line: the answers to held requests keep coming after the fill. */
  latest?: ClientLine;
  holdSeries: HoldPingFigures['series'];
  unreported?: boolean;
  fillSeconds: number;
}

export function floodFigures(flood: FloodReading): FloodFigures {
  const { plan, filled } = flood;
  return {
    program: flood.program,
    asked: plan.asked,
    processes: plan.processes,
    established: filled?.established ?? 0,
    failed: filled?.failed ?? 0,
    fillSeconds: flood.fillSeconds,
    ...(plan.ping ? { pongs: flood.pinged?.pongs ?? 0 } : {}),
    ...(flood.unreported && { unreported: true as const }),
    ...(filled?.fds_at_start !== undefined && { openFilesAtStart: filled.fds_at_start }),
    ...(filled?.sent_bytes !== undefined && { sentBytes: filled.sent_bytes }),
    ...(plan.holdPing && flood.held?.hold_ping && { holdPing: holdPingFigures(plan, flood.held, flood.holdSeries) }),
    ...(filled?.connect_cost && { connectCost: filled.connect_cost }),
    ...(plan.requests && { requests: requestFigures(flood.latest?.requests !== undefined ? flood.latest : filled) }),
  };
}

/** A client's requests as its line counts them: sent, answered, cut short, the answers per HTTP status. */
function requestFigures(line: ClientLine | undefined): NonNullable<FloodFigures['requests']> {
  return { sent: line?.requests ?? 0, answered: line?.answered ?? 0, cutShort: line?.cut_short ?? 0, statuses: line?.statuses ?? {} };
}

function holdPingFigures(plan: PlannedClient, line: ClientLine, series: HoldPingFigures['series']): HoldPingFigures {
  const settings = plan.holdPing!;
  const hold = line.hold_ping!;
  const asked = (intervalMs: number) => Math.round(((line.established ?? 0) * 1000) / intervalMs);
  const totals = {
    timeoutMs: settings.timeoutMs,
    sent: hold.sent,
    pongs: hold.pongs,
    timeouts: hold.timeouts,
    ...(hold.unanswered !== undefined && { unanswered: hold.unanswered }),
    series,
  };
  if (!hold.steps?.length) {
    const seconds = hold.hold_ms / 1000;
    return {
      ...totals,
      intervalMs: settings.intervalMs,
      seconds,
      perSecond: Math.round(hold.pongs / seconds),
      askedPerSecond: asked(settings.intervalMs),
      ...roundTrips(hold.rtt_us, hold.unanswered ?? 0),
    };
  }
  const steps = hold.steps.map((s) => {
    const seconds = s.hold_ms / 1000;
    return {
      intervalMs: s.interval_ms,
      askedPerSecond: asked(s.interval_ms),
      perSecond: seconds > 0 ? Math.round(s.pongs / seconds) : 0,
      seconds,
      sent: s.sent,
      pongs: s.pongs,
      timeouts: s.timeouts,
      unanswered: s.unanswered,
      processes: s.entered,
      behind: s.behind,
      held: stepHeld(s, plan.processes),
      ...roundTrips(s.rtt_us, s.unanswered),
    };
  });
  const last = steps.at(-1)!;
  return {
    ...totals,
    intervalMs: last.intervalMs,
    seconds: last.seconds,
    perSecond: last.perSecond,
    askedPerSecond: last.askedPerSecond,
    ...(last.rttMs && { rttMs: last.rttMs }),
    steps,
  };
}

/** Round-trip percentiles in ms; none where no Pong came back (the histogram holds the unanswered Pings too). */
function roundTrips(rtt: RttPercentiles, unanswered: number): { rttMs?: HoldPingFigures['rttMs'] } {
  const ms = (us: number) => Math.round(us) / 1000;
  if (rtt.count - unanswered <= 0) return {};
  return { rttMs: { count: rtt.count, p50: ms(rtt.p50), p90: ms(rtt.p90), p99: ms(rtt.p99), p999: ms(rtt.p999), max: ms(rtt.max) } };
}

/** A host whose container vanished: no figure can be read, so none is made up. */
export function lostHost(plan: PlannedHost): HostResult {
  return {
    name: plan.name,
    role: plan.role,
    ip: plan.ip,
    lost: true,
    estab: 0,
    timewait: 0,
    errors: {},
    bindErrors: {},
    sysctls: {},
    nofile: 0,
    nstat: {},
    hostWide: { total: 0, tcp: 0, closed: 0, orphaned: 0 },
  };
}

/** The smallest backlog among the server's own ports (they all get the same listen() call). */
function listenBacklogOf(ports: readonly number[], view: KernelView | undefined): number {
  const backlogs = ports.map((p) => view?.listenBacklogs[String(p)]).filter((b): b is number => b !== undefined);
  return backlogs.length ? Math.min(...backlogs) : NaN;
}
