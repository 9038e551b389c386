/**
 * One case of a scenario, phase by phase: hosts, server, what the clients' kernels hold before, the flood,
 * settling, collection, stopping, teardown. The CLI shows each phase as a task; tests call runCase().
 */
import { LabError, RuntimeFailure } from '../errors.ts';
import { planCase, type CasePlan, type PlannedClient } from '../plan/plan.ts';
import type { CaseResult, EndMemory, HoldPingFigures, HostResult, MemoryFigures, Milestone, SlabGrowth } from '../results/results.ts';
import type { CgroupMemory, SlabObjects } from '../collect/memory.ts';
import type { Host, LabNetwork, RunningProgram, Runtime } from '../runtime/runtime.ts';
import type { Scenario } from '../scenario/types.ts';
import { readKernelView, type KernelView } from '../collect/kernel-view.ts';
import { parseSsSummary } from '../collect/ss.ts';
import { Sampler, type Sample } from '../collect/sampler.ts';
import { failAfter, sleep, unlessAborted, within } from './abort.ts';
import { holdIfAsked } from './hold.ts';
import { clientTheory, evaluate, serverTheory } from './evaluate.ts';
import { kernelRelease, slabObjectsPerConnection } from '../scenario/theory.ts';
import { failuresIn, parseLine, type ClientLine, type ServerLine } from './program-lines.ts';

export interface CaseRunOptions {
  runId: string;
  quick: boolean;
  file: string;
  nofileCeiling: number;
  network: LabNetwork;
  /** The kernel's release (`uname -r`) the hosts run on. */
  kernel: string;
  /** `uname -v` there, where known. */
  kernelVersion?: string;
  signal?: AbortSignal;
}

/** A client's own progress line, or the kernel's count read inside a host. */
export type FloodProgress = { host: string; line: ClientLine; kernel?: undefined } | { host: string; kernel: Sample; line?: undefined };

const SERVER_READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const SETTLE_TIMEOUT_MS = 15_000;

interface ClientFlood {
  host: Host;
  plan: PlannedClient;
  program: RunningProgram;
  last?: ClientLine;
  filled?: ClientLine;
  /** The line after the Ping/Pong round, when the plan asks for one. */
  pinged?: ClientLine;
  /** The line after connscale's hold, when the plan asks for one. */
  held?: ClientLine;
  /** connscale's hold as it went: one point per progress line. */
  holdSeries: HoldPingFigures['series'];
  /** The program exited cleanly without printing its figures. */
  unreported?: boolean;
  /** The host vanished mid-flood (its container killed): its figures are gone, not zero. */
  lost?: boolean;
  startedAt: number;
  filledAt?: number;
}

export class CaseRun {
  readonly plan: CasePlan;
  readonly phases: Record<string, number> = {};
  private hosts: Host[] = [];
  private server?: { host: Host; program?: RunningProgram; last?: ServerLine; ready?: ServerLine };
  private floods: ClientFlood[] = [];
  private before = new Map<string, KernelView>();
  private sampler?: Sampler;
  private result?: CaseResult;

  constructor(
    private readonly runtime: Runtime,
    scenario: Scenario,
    index: number,
    private readonly options: CaseRunOptions,
  ) {
    this.plan = planCase(scenario, index, { ...options, subnet: options.network.subnet });
  }

  private async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    await holdIfAsked(name, this.options.signal);
    const started = performance.now();
    try {
      return await unlessAborted(work(), this.options.signal);
    } catch (error) {
      if (error instanceof LabError && error.kind === 'interrupted') throw error;
      await this.failIfEngineGone(name);
      throw error;
    } finally {
      this.phases[name] = Math.round(performance.now() - started);
    }
  }

  /** Hosts failing together usually means the engine itself went away: say that, not "host lost". */
  private async failIfEngineGone(phase: string): Promise<void> {
    if (await this.runtime.answers()) return;
    throw new RuntimeFailure(
      `the ${this.runtime.name} engine stopped answering during ${phase}`,
      "start it again, then run 'lab clean' to remove what this run left",
    );
  }

  /** The hosts the case started (for tools such as the benchmark that measure in them too). */
  get startedHosts(): readonly Host[] {
    return this.hosts;
  }

  private get serverHost(): Host {
    const host = this.hosts.find((h) => h.plan.role === 'server');
    if (!host) throw new Error('no server host started');
    return host;
  }

  /** Containers for the server and every client, on the run's network. */
  startHosts(): Promise<void> {
    return this.phase('hosts', async () => {
      // Containers outlive the flood deadline a little, then end by themselves whatever happens to the lab.
      const lifetime = this.plan.deadlineSeconds + this.plan.holdSeconds + 240;
      this.hosts = await this.runtime.startHosts(this.options.runId, this.options.network, [this.plan.server, ...this.plan.clients], lifetime);
    });
  }

  startServer(): Promise<void> {
    return this.phase('server', async () => {
      const host = this.serverHost;
      let ready!: (line: ServerLine) => void;
      const readyLine = new Promise<ServerLine>((resolve) => (ready = resolve));
      const state: { host: Host; program?: RunningProgram; last?: ServerLine; ready?: ServerLine } = { host };
      this.server = state;
      const program = await host.spawn(host.plan.program, (text) => {
        const line = parseLine<ServerLine>(text);
        if (!line) return;
        state.last = line;
        if (line.type === 'ready') state.ready = line;
        if (line.type === 'ready' || line.type === 'error') ready(line);
      });
      state.program = program;
      const exited = program.exited.then((code) => {
        throw new RuntimeFailure(`the server program on ${host.plan.ip} exited (code ${code}) before it was ready: ${program.stderr().trim() || state.last?.message || ''}`);
      });
      const timeout = failAfter(SERVER_READY_TIMEOUT_MS, () => new RuntimeFailure(`the server on ${host.plan.ip} was not ready within ${SERVER_READY_TIMEOUT_MS / 1000} s`));
      const line = await Promise.race([readyLine, exited, timeout]);
      if (line.type === 'error') throw new RuntimeFailure(`the server on ${host.plan.ip} could not listen: ${line.message}`);
    });
  }

  /** What each kernel holds before the flood: the ports the theory must leave out, memory in use. */
  observe(): Promise<void> {
    return this.phase('observe', async () => {
      const views = await Promise.all(this.hosts.map((h) => readKernelView(h)));
      this.hosts.forEach((h, i) => this.before.set(h.plan.name, views[i]!));
    });
  }

  /** Every client floods at once; resolves when all of them have filled what they could. */
  flood(onProgress: (p: FloodProgress) => void = () => {}): Promise<void> {
    return this.phase('flood', async () => {
      const clients = this.hosts.filter((h) => h.plan.role === 'client');
      const errorsOf = (name: string) => {
        const line = this.floods.find((f) => f.plan.name === name)?.last ?? (name === this.plan.server.name ? this.server?.last : undefined);
        return failuresIn(line);
      };
      this.sampler = new Sampler(this.serverHost, errorsOf, (kernel) => onProgress({ host: kernel.host, kernel }), {
        stopFile: `/tmp/lab-sampler-${this.options.runId}-${this.plan.server.name}.stop`,
        // The loop outlives no flood: at most the deadline, the hold and a margin, one reading a second.
        maxReadings: this.plan.deadlineSeconds + this.plan.holdSeconds + 120,
      });

      const fills = clients.map(async (host) => {
        const plan = this.plan.clients.find((c) => c.name === host.plan.name)!;
        let filled!: () => void;
        const filledLine = new Promise<void>((resolve) => (filled = resolve));
        let held!: () => void;
        const heldLine = new Promise<void>((resolve) => (held = resolve));
        const flood = { host, plan, startedAt: performance.now(), holdSeries: [] } as unknown as ClientFlood;
        let previous: ClientLine | undefined;
        flood.program = await host.spawn(host.plan.program, (text) => {
          const line = parseLine<ClientLine>(text);
          if (!line) return;
          flood.last = line;
          if (line.type === 'progress' || line.type === 'filled') {
            onProgress({ host: plan.name, line });
            this.sampler?.record(plan.name, line.established ?? 0, failuresIn(line));
          }
          if (line.type === 'filled') {
            flood.filled = line;
            flood.filledAt = performance.now();
          }
          if (line.type === 'ping') flood.pinged = line;
          if (line.type === 'held') flood.held = line;
          if (line.type === 'progress' && line.hold_ping && previous?.hold_ping && line.t_ms && previous.t_ms) {
            const seconds = (line.t_ms - previous.t_ms) / 1000;
            const window = line.hold_ping.window_rtt_us;
            if (window?.count) flood.holdSeries.push({ t: line.t_ms / 1000, perSecond: Math.round((line.hold_ping.pongs - previous.hold_ping.pongs) / seconds), p99: window.p99 / 1000 });
          }
          if (line.type === 'progress') previous = line;
          if (line.type === (plan.ping ? 'ping' : 'filled')) filled();
          if (line.type === 'held') held();
        });
        this.floods.push(flood);
        const exited = flood.program.exited.then(async (code) => {
          if (lastLineOf(flood)) return;
          // A scenario's own program need not speak the lab's lines: its clean exit ends its flood, and
          // what it did not report is not measured (never zero).
          if (plan.customProgram && code === 0) {
            flood.unreported = true;
            flood.filledAt = performance.now();
            return;
          }
          if (plan.customProgram && code === 124) throw new RuntimeFailure(`the program on ${plan.name} did not finish within the deadline (${this.plan.deadlineSeconds} s)`);
          if (await vanished(host)) {
            await this.failIfEngineGone('flood');
            flood.lost = true;
            return;
          }
          throw new RuntimeFailure(`the flood on ${plan.name} (${plan.ip}) exited (code ${code}) before it filled: ${flood.program.stderr().trim() || flood.last?.message || 'no output'}`);
        });
        await Promise.race([filledLine, exited]);
        return { flood, held: Promise.race([heldLine, exited]) };
      });
      const serverGone = this.server!.program!.exited.then((code) => {
        throw new RuntimeFailure(`the server ${this.plan.server.name} (${this.plan.server.ip}) stopped mid-flood (code ${code})`);
      });
      const holdPingSeconds = Math.max(0, ...this.plan.clients.map((c) => c.holdPing?.seconds ?? 0));
      const overdue = failAfter((this.plan.deadlineSeconds + holdPingSeconds + 15) * 1000, () => new RuntimeFailure(`the flood did not fill within its deadline of ${this.plan.deadlineSeconds} s`));
      this.sampler.start();
      // The sampler goes on through settle and hold; collect() stops it.
      const filled = await Promise.race([Promise.all(fills), serverGone, overdue]);
      // connscale's hold starts on every client at once, once all have filled: none pings while others connect.
      const holding = filled.filter((f) => f.flood.plan.holdPing && !f.flood.lost && !f.flood.unreported);
      if (!holding.length) return;
      await Promise.all(holding.map((f) => f.flood.program.signal('USR2')));
      await Promise.race([Promise.all(holding.map((f) => f.held)), serverGone, overdue]);
    });
  }

  /** Holds the connections for the case's hold time, the kernel still sampled, before collection. */
  hold(): Promise<void> {
    return this.phase('hold', async () => {
      const serverGone = this.server!.program!.exited.then((code) => {
        throw new RuntimeFailure(`the server ${this.plan.server.name} (${this.plan.server.ip}) stopped while holding (code ${code})`);
      });
      await Promise.race([sleep(this.plan.holdSeconds * 1000), serverGone]);
    });
  }

  /** Waits until the server's count stops moving: the last handshakes and accepts land after 'filled'. */
  settle(): Promise<void> {
    return this.phase('settle', async () => {
      const expected = this.floods.reduce((sum, f) => sum + (f.lost ? 0 : (f.filled?.established ?? 0)), 0);
      const deadline = performance.now() + SETTLE_TIMEOUT_MS;
      let previous = -1;
      while (performance.now() < deadline) {
        const ss = await this.serverHost.exec(['ss', '-s']);
        const estab = parseSsSummary(ss.stdout).estab;
        if (estab === expected || estab === previous) return;
        previous = estab;
        await sleep(300);
      }
    });
  }

  collect(): Promise<CaseResult> {
    return this.phase('collect', async () => {
      await this.sampler?.stop();
      const views = await Promise.all(this.hosts.map((h) => readKernelView(h, { listeners: false }).catch(async (error: Error) => {
        if (h.plan.role === 'client' && (await vanished(h))) return undefined;
        if (h.plan.role === 'server' && (await vanished(h))) throw new RuntimeFailure(`the server ${h.plan.name} (${h.plan.ip}) was lost before collection`);
        throw error;
      })));
      const results = this.hosts.map((host, i) => this.hostResult(host, views[i]));
      const server = results.find((r) => r.role === 'server')!;
      const clients = this.plan.clients.map((c) => results.find((r) => r.name === c.name)!);
      const context = {
        clients: this.plan.clients.map((c) => clientTheory(c, this.before.get(c.name)!, this.floods.find((f) => f.plan.name === c.name)?.filled)),
        server: serverTheory(this.plan.server, server, this.server?.ready, this.hosts.find((h) => h.plan.role === 'server')?.memoryCgroup?.tcpAccounted),
        slabObjectSizes: objectSizes(this.before.get(this.plan.server.name)),
        kernel: kernelRelease(this.options.kernel, this.options.kernelVersion),
      };
      const expectations = evaluate(this.plan.expectations, context, server, clients);
      const memory = memoryPerConnection(this.before, this.hosts, views, server.estab, results, this.runtimeTracks());
      this.result = {
        name: this.plan.caseName,
        ...(this.plan.about ? { about: this.plan.about } : {}),
        pass: expectations.every((e) => e.pass),
        subnet: this.plan.subnet,
        phases: this.phases,
        samples: this.sampler?.samples ?? [],
        milestones: milestones(this.sampler?.samples ?? [], this.plan.server.name),
        ...(memory ? { memory } : {}),
        expectations,
        hosts: results,
      };
      return this.result;
    });
  }

  private hostResult(host: Host, view: KernelView | undefined): HostResult {
    const flood = this.floods.find((f) => f.host === host);
    if (!view) return lostHost(host);
    const counts = host.plan.role === 'server' ? this.server?.last : flood && lastLineOf(flood);
    const openFilesAtStart = host.plan.role === 'server' ? this.server?.ready?.fds_at_start : flood?.filled?.fds_at_start;
    const before = this.before.get(host.plan.name);
    return {
      name: host.plan.name,
      role: host.plan.role,
      ip: host.plan.ip,
      estab: view.ss.estab,
      timewait: view.ss.timewait,
      errors: counts?.errors ?? {},
      bindErrors: (flood && lastLineOf(flood))?.bind_errors ?? {},
      ...(host.plan.role === 'server' && this.server?.last?.accepted !== undefined && { accepted: this.server.last.accepted }),
      ...(openFilesAtStart !== undefined && { openFilesAtStart }),
      sysctls: view.sysctls,
      nofile: view.nofile,
      nstat: view.nstat,
      ...(host.plan.role === 'client' && this.before.has(host.plan.name) && { boundPortsBefore: this.before.get(host.plan.name)!.listeningPorts }),
      programRssKiB: view.programRssKiB,
      ...(host.plan.role === 'server' && { listenBacklog: listenBacklogOf(this.plan.server.ports, this.before.get(host.plan.name)) }),
      hostWide: { ...view.ss.hostWide, ...(before && { softnetDropped: view.softnetDropped - before.softnetDropped, slabObjectBytes: slabGrowth(before.slabObjects, view.slabObjects).reduce((sum, g) => sum + g.bytes, 0) }) },
      ...(before?.cgroupMemory && view.cgroupMemory && { cgroupMemory: cgroupGrowth(before.cgroupMemory, view.cgroupMemory) }),
      ...(flood && {
        flood: {
          // A scenario's own program runs under timeout(1): name the program, not the wrapper.
          program: flood.plan.customProgram?.command.join(' ') ?? host.plan.program[0]!,
          asked: flood.plan.asked,
          processes: flood.plan.processes,
          established: flood.filled?.established ?? 0,
          failed: flood.filled?.failed ?? 0,
          fillSeconds: Math.round(((flood.filledAt ?? performance.now()) - flood.startedAt) / 100) / 10,
          ...(flood.plan.ping ? { pongs: flood.pinged?.pongs ?? 0 } : {}),
          ...(flood.unreported && { unreported: true as const }),
          ...(flood.filled?.fds_at_start !== undefined && { openFilesAtStart: flood.filled.fds_at_start }),
          ...(flood.filled?.sent_bytes !== undefined && { sentBytes: flood.filled.sent_bytes }),
          ...(flood.plan.holdPing && flood.held?.hold_ping && { holdPing: holdPingFigures(flood.plan.holdPing, flood.held, flood.holdSeries) }),
        },
      }),
    };
  }

  /** Whether connections take an entry in a host-wide tracking table (conntrack) on this runtime. */
  private runtimeTracks(): boolean {
    return this.runtime.connectionTracking !== undefined;
  }

  /** Clients first, so the server sees FINs rather than peers vanishing with their namespaces. */
  stopPrograms(): Promise<void> {
    return this.phase('stop', () => this.stopAll());
  }

  private async stopAll(): Promise<void> {
    const stop = async (program: RunningProgram | undefined) => {
      if (!program) return;
      await program.signal('TERM');
      // KILL only a program still running after the timeout: never later, into whatever runs there by then.
      if ((await within(program.exited.catch(() => undefined), STOP_TIMEOUT_MS)) === 'late') await program.signal('KILL');
    };
    await Promise.all(this.floods.map((f) => stop(f.program)));
    await stop(this.server?.program);
  }

  /**
   * Removes this case's hosts; safe to call after any failure. Removing a host kills what still runs in it,
   * server and clients together, so nothing is left to count wrongly. The run's network goes with the run.
   */
  async teardown(): Promise<void> {
    const started = performance.now();
    await this.sampler?.stop().catch(() => undefined);
    await Promise.all(this.hosts.map((h) => h.remove()));
    this.phases.teardown = Math.round(performance.now() - started);
  }
}

/** The client's last line with figures: the one that ended its flood, or undefined if none came. */
function lastLineOf(flood: ClientFlood): ClientLine | undefined {
  return flood.plan.holdPing ? flood.held : flood.plan.ping ? flood.pinged : flood.filled;
}

function holdPingFigures(settings: NonNullable<PlannedClient['holdPing']>, line: ClientLine, series: HoldPingFigures['series']): HoldPingFigures {
  const hold = line.hold_ping!;
  const ms = (us: number) => Math.round(us) / 1000;
  const seconds = hold.hold_ms / 1000;
  return {
    intervalMs: settings.intervalMs,
    timeoutMs: settings.timeoutMs,
    seconds,
    sent: hold.sent,
    pongs: hold.pongs,
    timeouts: hold.timeouts,
    perSecond: Math.round(hold.pongs / seconds),
    askedPerSecond: Math.round(((line.established ?? 0) * 1000) / settings.intervalMs),
    rttMs: { count: hold.rtt_us.count, p50: ms(hold.rtt_us.p50), p90: ms(hold.rtt_us.p90), p99: ms(hold.rtt_us.p99), p999: ms(hold.rtt_us.p999), max: ms(hold.rtt_us.max) },
    series,
  };
}

/** A host whose container vanished: no figure can be read, so none is made up. */
function lostHost(host: Host): HostResult {
  return {
    name: host.plan.name,
    role: host.plan.role,
    ip: host.plan.ip,
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

/** The engine may report a killed container as running for a moment after its processes died. */
async function vanished(host: Host): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    if (!(await host.alive())) return true;
    await sleep(200);
  }
  return false;
}

const MILESTONE_STEP = 100_000;
const MEMORY_MIN_CONNECTIONS = 10_000;

/** When the server's kernel first counted each 100k established connections, from the samples. */
export function milestones(samples: readonly Sample[], server: string): Milestone[] {
  const reached: Milestone[] = [];
  for (const s of samples.filter((x) => x.host === server).sort((a, b) => a.t - b.t)) {
    while (s.estab >= (reached.length + 1) * MILESTONE_STEP) reached.push({ connections: (reached.length + 1) * MILESTONE_STEP, seconds: s.t / 1000 });
  }
  return reached;
}

/**
 * Memory per connection, from the differences between before the flood and after it. Kernel: slab and TCP
 * buffer pages, host-wide (both ends of every connection live in this one kernel). User space: the resident
 * memory of the lab's programs. Undefined when no connection was held.
 */
export function memoryPerConnection(
  before: Map<string, KernelView>,
  hosts: readonly Host[],
  after: readonly (KernelView | undefined)[],
  connections: number,
  results: readonly HostResult[],
  tracked: boolean,
): MemoryFigures | undefined {
  // Below this the host-wide slab figures are noise from everything else the machine does.
  if (connections < MEMORY_MIN_CONNECTIONS) return undefined;
  // The server runs before the flood, so its growth is measured; the clients start with it.
  const rssDelta = (role: 'server' | 'client') =>
    hosts.reduce((sum, h, i) => (h.plan.role === role && after[i] ? sum + (after[i]!.programRssKiB - (before.get(h.plan.name)?.programRssKiB ?? 0)) : sum), 0);
  const serverIndex = hosts.findIndex((h) => h.plan.role === 'server');
  const was = before.get(hosts[serverIndex]!.plan.name)?.hostMemory;
  const now = after[serverIndex]?.hostMemory;
  if (!was || !now) return undefined;
  const kernelBytes = (now.slabKiB - was.slabKiB) * 1024 + (now.tcpMemPages - was.tcpMemPages) * 4096;
  const serverBefore = before.get(hosts[serverIndex]!.plan.name)!;
  const perEnd = {
    ...endMemory(results.filter((r) => r.role === 'server'), 'server'),
    ...endMemory(results.filter((r) => r.role === 'client'), 'client'),
  };
  const slabCaches = slabCachesPerConnection(serverBefore.slabObjects, after[serverIndex]!.slabObjects, connections, tracked);
  return {
    connections,
    kernelBytesPerConnection: Math.round(kernelBytes / connections),
    tcpMemPages: now.tcpMemPages - was.tcpMemPages,
    serverUserBytesPerConnection: Math.round((rssDelta('server') * 1024) / connections),
    clientRssBytesPerConnection: Math.round((rssDelta('client') * 1024) / connections),
    ...(Object.keys(perEnd).length && { perEnd }),
    ...(slabCaches.length && { slabCaches }),
  };
}

/** One end's kernel memory per connection it holds, from its hosts' own cgroups (summed over clients). */
function endMemory(hosts: readonly HostResult[], end: 'server' | 'client'): Partial<Record<'server' | 'client', EndMemory>> {
  const cgroups = hosts.flatMap((h) => (h.cgroupMemory && !h.lost ? [{ ...h.cgroupMemory, estab: h.estab }] : []));
  const held = cgroups.reduce((sum, c) => sum + c.estab, 0);
  if (!held) return {};
  const perConnection = (bytes: number) => Math.round(bytes / held);
  const kernelBytes = perConnection(cgroups.reduce((sum, c) => sum + c.kernelBytes, 0));
  // Socket buffers only where every host of the end counts them.
  const tcp = cgroups.every((c) => c.tcpBufferBytes !== undefined) ? perConnection(cgroups.reduce((sum, c) => sum + c.tcpBufferBytes!, 0)) : undefined;
  return { [end]: { kernelBytes, ...(tcp !== undefined && { tcpBufferBytes: tcp }), source: cgroups[0]!.source } };
}

/** Object size per slab cache, as the theory reads it. */
function objectSizes(view: KernelView | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(view?.slabObjects ?? {}).map(([cache, s]) => [cache, s.size]));
}

export function slabGrowth(before: SlabObjects, after: SlabObjects): Array<{ cache: string; objects: number; size: number; bytes: number }> {
  return Object.entries(after).map(([cache, now]) => {
    const objects = now.objects - (before[cache]?.objects ?? 0);
    return { cache, objects, size: now.size, bytes: objects * now.size };
  });
}

/**
 * Host-wide slab growth per connection, cache by cache: the caches the theory names, and any other that grew
 * by half an object per connection or more. Largest first.
 */
export function slabCachesPerConnection(before: SlabObjects, after: SlabObjects, connections: number, tracked: boolean): SlabGrowth[] {
  const predicted = new Map(slabObjectsPerConnection(Object.fromEntries(Object.entries(after).map(([c, s]) => [c, s.size])), tracked).map((p) => [p.cache, p]));
  return slabGrowth(before, after)
    .filter((g) => predicted.has(g.cache) || g.objects / connections >= 0.5)
    .map((g) => ({
      cache: g.cache,
      objectSize: g.size,
      objectsPerConnection: Math.round((g.objects / connections) * 100) / 100,
      bytesPerConnection: Math.round(g.bytes / connections),
      ...(predicted.has(g.cache) && { predictedObjects: predicted.get(g.cache)!.objects, why: predicted.get(g.cache)!.why }),
    }))
    .sort((a, b) => b.bytesPerConnection - a.bytesPerConnection);
}

function cgroupGrowth(before: CgroupMemory, after: CgroupMemory): NonNullable<HostResult['cgroupMemory']> {
  return {
    kernelBytes: after.kernelBytes - before.kernelBytes,
    ...(after.tcpBufferBytes !== undefined && before.tcpBufferBytes !== undefined && { tcpBufferBytes: after.tcpBufferBytes - before.tcpBufferBytes }),
    source: after.source,
  };
}

/** The smallest backlog among the server's own ports (they all get the same listen() call). */
function listenBacklogOf(ports: readonly number[], view: KernelView | undefined): number {
  const backlogs = ports.map((p) => view?.listenBacklogs[String(p)]).filter((b): b is number => b !== undefined);
  return backlogs.length ? Math.min(...backlogs) : NaN;
}
