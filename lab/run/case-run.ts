/**
 * One case of a scenario, phase by phase: hosts, server, what the clients' kernels hold before, the flood,
 * settling, holding, collection, stopping, teardown. The run (scenario-run.ts) drives the phases in order
 * and tells its subscribers; the figures are assembled by lab/results.
 */
import { LabError, RuntimeFailure } from '../errors.ts';
import { holdPingSeconds, plannedHosts, type CasePlan } from '../plan/plan.ts';
import type { CaseResult, ExpectationResult, HostResult } from '../results/results.ts';
import type { Host, LabNetwork, NodeFacts, RunningProgram, RunSession } from '../runtime/runtime.ts';
import { readKernelView, type KernelView } from '../collect/kernel-view.ts';
import { readSources } from '../collect/sources.ts';
import { readMiddle, type MiddleReading } from '../collect/middle.ts';
import { parseSsSummary } from '../collect/ss.ts';
import { Sampler, type Sample } from '../collect/sampler.ts';
import { failAfter, sleep, unlessAborted, within } from '../abort.ts';
import { holdIfAsked } from './hold.ts';
import { clientTheory, evaluate, middleTheory, serverTheory } from './evaluate.ts';
import { theoryOf, type KernelSource, type TheoryData } from './judging.ts';
import { failuresIn, parseLine, type ClientLine, type ServerLine } from '../programs/lines.ts';
import { proxySettled, startProxy } from './proxy-middle.ts';
import { caseHostResult, removedFromOutside, serverTitle, vanished } from './case-hosts.ts';
import { memoryPerConnection, objectSizes } from '../results/memory.ts';
import { milestones } from '../results/milestones.ts';
import { hostMachine, oneKernel } from '../results/machines.ts';
import { ClientFlood } from './client-flood.ts';
import { endHoldsOnceHeld } from './hold-steps.ts';
import { MemoryWatch, type MemoryStop } from './memory-guard.ts';
import { parseListeningPorts, type Listener } from '../collect/listeners.ts';
import { awaitOwnServer } from './own-server.ts';
import type { HostProcess, ServerTheory } from '../scenario/types.ts';
import { NeighbourWatch } from './neighbours.ts';

export interface CaseRunOptions {
  /** What one host is, for the phases' titles: "container", "namespace". */
  hostKind: string;
  /** The kernel's release (`uname -r`) the hosts run on. */
  kernel: string;
  /** `uname -v` there, where known. */
  kernelVersion?: string;
  /** Whether connections take an entry in a machine-wide tracking table (conntrack) in this run. */
  tracked: boolean;
  /** Whether the runtime gives each host a memory cgroup of its own (RuntimeAbilities.hostMemoryCgroups). */
  hostMemoryCgroups: boolean;
  /** Whether the run's hosts run on a machine booted for it alone (RuntimeAbilities.machineOfItsOwn): no run is a neighbour there. */
  machineOfItsOwn?: boolean;
  /** The run's nodes, where it spans several engines: each host's results name its node's facts. */
  nodes?: readonly NodeFacts[];
  signal?: AbortSignal;
  /**
   * Sets the plan's expectations against the figures: the run's judge, bounded in time (judge.ts). By default
   * here, unbounded: for a scenario whose predict() is its caller's own.
   */
  judge?: (context: TheoryData, server: HostResult, clients: readonly HostResult[], middle?: HostResult) => Promise<ExpectationResult[]>;
}

/** A client's own progress line, or the kernel's count read inside a host. */
export type FloodProgress = { host: string; line: ClientLine; kernel?: undefined } | { host: string; kernel: Sample; line?: undefined };

export type PhaseName = 'hosts' | 'server' | 'observe' | 'flood' | 'settle' | 'hold' | 'collect' | 'stop' | 'teardown';

export interface CasePhase {
  name: PhaseName;
  title: string;
  run(): Promise<void>;
}

const SERVER_READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const SETTLE_TIMEOUT_MS = 15_000;
/** The hold waits at most this long for the server's accepts, and gives up once they stop growing for the other. */
const CATCH_UP_LIMIT_MS = 60_000;
const CATCH_UP_STALL_MS = 3_000;

interface ServerProgram {
  host: Host;
  program?: RunningProgram;
  last?: ServerLine;
  ready?: ServerLine;
  /** A program of the scenario's own: its processes once it listened. */
  processes?: HostProcess[];
  /** A program of the scenario's own: its listeners once it listened, as the kernel listed them. */
  listeners?: ServerTheory['listeners'];
}

export class CaseRun {
  readonly phases: Record<string, number> = {};
  /** Set by the collect phase. */
  result?: CaseResult;
  private hosts: Host[] = [];
  private server?: ServerProgram;
  private floods: ClientFlood[] = [];
  /** The reverse proxy's program, where the case has one in the middle. */
  private proxyProgram?: RunningProgram;
  private before = new Map<string, KernelView>();
  private sampler?: Sampler;
  private memoryWatch?: MemoryWatch;
  /** When connscale's hold began, against the server's accepts. */
  private holdStart?: CaseResult['holdStart'];
  /** Where the flood was stopped for the machine's memory, if it was. */
  private memoryStop?: MemoryStop & { connections: number };
  /** The other runs alive on this machine from the readings before the flood to those after it. */
  private neighbours: NeighbourWatch;

  constructor(
    private readonly session: RunSession,
    private readonly network: LabNetwork,
    readonly plan: CasePlan,
    private readonly options: CaseRunOptions,
    private readonly onProgress: (p: FloodProgress) => void = () => {},
  ) {
    this.neighbours = new NeighbourWatch(session.runId);
  }

  /**
   * The phases in order, titled for people. The last, teardown, must also run when an earlier one fails:
   * the run puts it in a finally.
   */
  get phaseList(): readonly CasePhase[] {
    const plan = this.plan;
    const kind = this.options.hostKind;
    const asked = plan.clients.reduce((sum, c) => sum + c.asked, 0);
    const phases: CasePhase[] = [
      {
        name: 'hosts',
        title: `Start ${plannedHosts(plan).length} ${kind}s (server ${plan.server.ip}${plan.middle ? `, ${plan.middle.name} ${plan.middle.ip}` : ''}, ${plan.clients.length} client(s))`,
        run: () => this.startHosts(),
      },
      { name: 'server', title: serverTitle(plan), run: () => this.startServer() },
      { name: 'observe', title: "Read the clients' kernels before the flood", run: () => this.observe() },
      { name: 'flood', title: `Flood: ${asked} connects asked, bounded by ${plan.deadlineSeconds} s`, run: () => this.flood() },
      { name: 'settle', title: 'Let the server settle', run: () => this.settle() },
      { name: 'hold', title: `Hold the connections for ${plan.holdSeconds} s`, run: () => this.hold() },
      { name: 'collect', title: `Collect ss -s and nstat inside every ${kind}`, run: () => this.collect() },
      { name: 'stop', title: 'Stop the floods, then the server', run: () => this.stopPrograms() },
      { name: 'teardown', title: `Tear down the ${kind}s`, run: () => this.teardown() },
    ];
    return phases.filter((p) => p.name !== 'hold' || plan.holdSeconds > 0);
  }

  private async phase<T>(name: PhaseName, work: () => Promise<T>): Promise<T> {
    await holdIfAsked(name, this.options.signal);
    const started = performance.now();
    try {
      return await unlessAborted(work(), this.options.signal);
    } catch (error) {
      if (error instanceof LabError && error.kind === 'interrupted') throw error;
      await this.failIfEngineGone(name);
      await this.failIfRemovedFromOutside(name);
      throw error;
    } finally {
      this.phases[name] = Math.round(performance.now() - started);
    }
  }

  /** Hosts failing together usually means the engine itself went away: say that, not "host lost". */
  private async failIfEngineGone(phase: string): Promise<void> {
    const silent = await this.session.silentEngine();
    if (!silent) return;
    throw new RuntimeFailure(`${silent} stopped answering during ${phase}`, "start it again, then run 'lab clean' to remove what this run left");
  }

  /** A host that is gone while the run still needs it was removed by someone else: say that, not what broke next. */
  private async failIfRemovedFromOutside(phase: string): Promise<void> {
    const gone = await Promise.all(this.hosts.map((h) => removedFromOutside(h).catch(() => false)));
    const names = this.hosts.filter((_, i) => gone[i]).map((h) => h.plan.name);
    if (!names.length) return;
    throw new RuntimeFailure(
      `${names.join(', ')} ${names.length === 1 ? 'was' : 'were'} removed from outside the run during ${phase} (lab clean --force in another shell, or docker rm?)`,
    );
  }

  /** The hosts the case started (for subscribers such as the benchmark that measure in them too). */
  get startedHosts(): readonly Host[] {
    return this.hosts;
  }

  private get serverHost(): Host {
    const host = this.hosts.find((h) => h.plan.role === 'server');
    if (!host) throw new Error('no server host started');
    return host;
  }

  /** Containers for the server and every client, on the run's network. */
  private startHosts(): Promise<void> {
    return this.phase('hosts', async () => {
      // Containers outlive the flood deadline a little, then end by themselves whatever happens to the lab.
      const lifetime = this.plan.deadlineSeconds + this.plan.holdSeconds + 240;
      this.hosts = await this.session.startHosts(this.network, plannedHosts(this.plan), lifetime);
    });
  }

  private startServer(): Promise<void> {
    return this.phase('server', async () => {
      const host = this.serverHost;
      let ready!: (line: ServerLine) => void;
      const readyLine = new Promise<ServerLine>((resolve) => (ready = resolve));
      const state: ServerProgram = { host };
      this.server = state;
      const program = await host.spawn(host.plan.program, (text) => {
        const line = parseLine<ServerLine>(text);
        if (!line) return;
        state.last = line;
        if (line.type === 'ready') state.ready = line;
        if (line.type === 'ready' || line.type === 'error') ready(line);
      });
      state.program = program;
      if (host.plan.customProgram) {
        Object.assign(state, await awaitOwnServer(host, program, this.plan.server.ready!));
        return;
      }
      const exited = program.exited.then((code) => {
        throw new RuntimeFailure(
          `the server program on ${host.plan.ip} exited (code ${code}) before it was ready: ${program.stderr().trim() || state.last?.message || ''}`,
        );
      });
      const timeout = failAfter(
        SERVER_READY_TIMEOUT_MS,
        () => new RuntimeFailure(`the server on ${host.plan.ip} was not ready within ${SERVER_READY_TIMEOUT_MS / 1000} s`),
      );
      const line = await Promise.race([readyLine, exited, timeout]);
      if (line.type === 'error') throw new RuntimeFailure(`the server on ${host.plan.ip} could not listen: ${line.message}`);
      this.proxyProgram = await startProxy(this.plan, this.hosts);
    });
  }

  /** The server's ports that no listener holds now, as its kernel lists them. */
  private async portsNotListening(ports: readonly number[]): Promise<number[]> {
    const listening = parseListeningPorts((await this.serverHost.exec(['ss', '-Htln'])).stdout);
    return ports.filter((port) => !listening.includes(port));
  }

  /**
   * What each kernel holds before the flood: the ports the theory must leave out, memory in use. From just
   * before these readings, the other runs on the machine are watched; the kernels read here are told to them.
   */
  private observe(): Promise<void> {
    return this.phase('observe', async () => {
      await this.neighbours.start();
      const views = await Promise.all(this.hosts.map((h) => readKernelView(h)));
      this.hosts.forEach((h, i) => this.before.set(h.plan.name, views[i]!));
      await this.neighbours.readOn(views);
    });
  }

  /** Every client floods at once; resolves when all of them have filled what they could. */
  private flood(): Promise<void> {
    return this.phase('flood', async () => {
      const clients = this.hosts.filter((h) => h.plan.role === 'client');
      const errorsOf = (name: string) =>
        name === this.plan.server.name ? failuresIn(this.server?.last) : (this.floods.find((f) => f.plan.name === name)?.failures ?? 0);
      this.sampler = new Sampler(this.serverHost, errorsOf, (kernel) => this.onProgress({ host: kernel.host, kernel }), {
        stopFile: `/tmp/lab-sampler-${this.session.runId}-${this.plan.server.name}.stop`,
        // The loop outlives no flood: at most the deadline, the hold and a margin, one reading a second.
        maxReadings: this.plan.deadlineSeconds + this.plan.holdSeconds + 120,
      });

      const fills = clients.map(async (host) => {
        const plan = this.plan.clients.find((c) => c.name === host.plan.name)!;
        const flood = new ClientFlood(host, plan, (line) => {
          this.onProgress({ host: plan.name, line });
          this.sampler?.record(plan.name, line.established ?? 0, failuresIn(line));
        });
        await flood.start();
        this.floods.push(flood);
        const exited = flood.program.exited.then(async (code) => {
          if (flood.lastFigures) return;
          // A scenario's own program need not speak the lab's lines: its clean exit ends its flood, and
          // what it did not report is not measured (never zero).
          if (plan.customProgram && code === 0) return flood.endUnreported();
          if (plan.customProgram && code === 124)
            throw new RuntimeFailure(`the program on ${plan.name} did not finish within the deadline (${this.plan.deadlineSeconds} s)`);
          if (await vanished(host)) {
            await this.failIfEngineGone('flood');
            flood.lost = true;
            return;
          }
          throw new RuntimeFailure(
            `the flood on ${plan.name} (${plan.ip}) exited (code ${code}) before it filled: ${flood.program.stderr().trim() || flood.last?.message || 'no output'}`,
          );
        });
        await Promise.race([flood.ended, exited]);
        return { flood, held: Promise.race([flood.heldOver, exited]) };
      });
      const serverGone = this.serverExit('stopped mid-flood');
      const overdue = failAfter(
        (this.plan.deadlineSeconds + this.longestHoldPing + 15) * 1000,
        () => new RuntimeFailure(`the flood did not fill within its deadline of ${this.plan.deadlineSeconds} s`),
      );
      this.sampler.start();
      this.watchMemory();
      // The sampler and the memory watch go on through settle and hold; collect() stops them.
      const filled = await Promise.race([Promise.all(fills), serverGone, overdue]);
      // connscale's hold starts on every client at once, once all have filled: none pings while others connect.
      const holding = filled.filter((f) => f.flood.plan.holdPing && !f.flood.lost && !f.flood.unreported);
      if (!holding.length) return;
      this.holdStart = await Promise.race([this.serverCaughtUp(filled.reduce((sum, f) => sum + (f.flood.filled?.established ?? 0), 0)), serverGone]);
      await Promise.all(holding.map((f) => f.flood.program.signal('USR2')));
      const held = Promise.all(holding.map((f) => f.held));
      if (holding.some((f) => f.flood.plan.holdPing?.stepDownMs))
        void endHoldsOnceHeld(
          holding.map((f) => f.flood),
          held,
        );
      await Promise.race([held, serverGone, overdue]);
    });
  }

  /** The longest any client's connscale hold lasts. */
  private get longestHoldPing(): number {
    return Math.max(0, ...this.plan.clients.map((c) => holdPingSeconds(c.holdPing)));
  }

  /**
   * Until the server's program has accepted what the clients hold, or its count has stopped growing for a
   * few seconds: a Ping on a connection still in an accept queue waits for that accept, and at two million
   * the accepts trailed the handshakes by seconds (22,911 of the hold's Pings timed out in its first 6 s,
   * with no packet lost). A program of one's own that does not report its accepts is not waited for.
   */
  private async serverCaughtUp(held: number): Promise<CaseResult['holdStart']> {
    if (this.server?.last?.accepted === undefined) return undefined;
    const started = performance.now();
    const accepted = () => this.server?.last?.accepted ?? 0;
    let previous = -1;
    let grewAt = started;
    while (accepted() < held && performance.now() - started < CATCH_UP_LIMIT_MS) {
      if (accepted() !== previous) [previous, grewAt] = [accepted(), performance.now()];
      else if (performance.now() - grewAt > CATCH_UP_STALL_MS) break;
      await sleep(100);
    }
    return { waitedSeconds: Math.round((performance.now() - started) / 100) / 10, serverAccepted: accepted(), clientsHeld: held };
  }

  /**
   * Both ends of every connection live on the hosts' machine: once its available memory falls under the
   * floor, every flood is told to ask for no more (labclient: SIGHUP) and reports what it holds.
   */
  private watchMemory(): void {
    const shell = this.session.machineShell();
    if (!shell) return;
    this.memoryWatch = new MemoryWatch(
      shell,
      async (stop) => {
        this.memoryStop ??= { ...stop, connections: this.floods.reduce((sum, f) => sum + (f.last?.established ?? 0), 0) };
        await Promise.all(this.floods.filter((f) => !f.filled).map((f) => f.program.signal('HUP')));
      },
      this.plan.deadlineSeconds + this.plan.holdSeconds + this.longestHoldPing + 120,
    );
    this.memoryWatch.start();
  }

  /** Rejects once the server program exits: it must outlive the flood and the hold. */
  private serverExit(when: string): Promise<never> {
    return this.server!.program!.exited.then(async (code) => {
      const { name, ip } = this.plan.server;
      if (await removedFromOutside(this.serverHost))
        throw new RuntimeFailure(
          `the server ${name} (${ip}) was removed from outside the run ${when.replace(/^stopped /, '')} (lab clean --force in another shell, or docker rm?)`,
        );
      throw new RuntimeFailure(`the server ${name} (${ip}) ${when} (code ${code})`);
    });
  }

  /** Holds the connections for the case's hold time, the kernel still sampled, before collection. */
  private hold(): Promise<void> {
    return this.phase('hold', async () => {
      await Promise.race([sleep(this.plan.holdSeconds * 1000), this.serverExit('stopped while holding')]);
    });
  }

  /** Waits until the server's count stops moving: the last handshakes and accepts land after 'filled'. */
  private settle(): Promise<void> {
    return this.phase('settle', async () => {
      // A server that stopped while the clients still filled may be closing its sockets when they finish: its
      // listeners are gone first. Wait for its end, to say how it ended.
      const silent = await this.portsNotListening(this.plan.server.ports);
      if (silent.length) {
        await Promise.race([this.serverExit('stopped mid-flood'), sleep(SETTLE_TIMEOUT_MS)]);
        const { name, ip } = this.plan.server;
        throw new RuntimeFailure(`the server ${name} (${ip}) stopped listening on port(s) ${silent.join(', ')} mid-flood`);
      }
      await proxySettled(this.plan, this.serverHost, this.floods);
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

  private collect(): Promise<void> {
    return this.phase('collect', async () => {
      await this.sampler?.stop();
      await this.memoryWatch?.end();
      const views = await Promise.all(
        this.hosts.map((h) =>
          readKernelView(h, { listeners: false }).catch(async (error: Error) => {
            if (h.plan.role === 'client' && (await vanished(h))) return undefined;
            if (h.plan.role !== 'client' && (await vanished(h)))
              throw new RuntimeFailure(`the ${h.plan.role} ${h.plan.name} (${h.plan.ip}) was lost before collection`);
            throw error;
          }),
        ),
      );
      // Host-wide growth is the case's only where no other run was alive on its kernels between the readings.
      const spoiled = this.options.machineOfItsOwn ? void (await this.neighbours.stop()) : await this.neighbours.stopAndTell();
      const sources = await readSources(this.hosts, views, this.plan);
      const middleReadings = await readMiddle(this.hosts, this.plan);
      const results = this.hosts.map((host, i) =>
        this.resultOf(host, views[i], spoiled, sources.get(host.plan.name), middleReadings.get(host.plan.name)),
      );
      const server = results.find((r) => r.role === 'server')!;
      const middle = this.plan.middle && results.find((r) => r.name === this.plan.middle!.name);
      const clients = this.plan.clients.map((c) => results.find((r) => r.name === c.name)!);
      // As data: predict() runs where it can be stopped (judge.ts), which rebuilds the kernels from their strings.
      const context: TheoryData = {
        clients: this.plan.clients.map((c) => ({
          ...clientTheory(c, this.before.get(c.name)!, this.floods.find((f) => f.plan.name === c.name)?.filled),
          kernel: this.kernelOf(c.name),
        })),
        server: serverTheory(
          this.plan.server,
          server,
          this.server?.ready,
          this.serverHost.memoryCgroup?.tcpAccounted,
          this.server?.processes,
          this.server?.listeners,
        ),
        ...(this.plan.middle && {
          middle: middleTheory(this.plan.middle, middleReadings.get(this.plan.middle.name)?.conntrack?.max, this.before.get(this.plan.middle.name)),
        }),
        slabObjectSizes: objectSizes(this.before.get(this.plan.server.name)),
        tracked: this.options.tracked,
        hostMemoryCgroups: this.options.hostMemoryCgroups,
        kernel: this.kernelOf(this.plan.server.name),
      };
      const judge =
        this.options.judge ??
        (async (data: TheoryData, s: HostResult, c: readonly HostResult[], m?: HostResult) =>
          evaluate(this.plan.expectations, theoryOf(data), s, c, m));
      const expectations = await judge(context, server, clients, middle);
      const sharedKernel = oneKernel(results.map((r) => r.machine));
      const memory = memoryPerConnection(this.before, this.hosts, views, server.estab, results, this.options.tracked, {
        oneKernel: sharedKernel,
        hostWideNotMeasured: spoiled,
      });
      const samples = this.sampler?.samples ?? [];
      this.result = {
        name: this.plan.caseName,
        ...(this.plan.about ? { about: this.plan.about } : {}),
        pass: expectations.every((e) => e.pass),
        subnet: this.plan.subnet,
        phases: this.phases,
        samples,
        milestones: milestones(samples, this.plan.server.name),
        ...(memory ? { memory } : {}),
        ...(this.memoryWatch && { machineMemory: this.machineMemory(this.memoryWatch, !!spoiled) }),
        ...(this.holdStart && { holdStart: this.holdStart }),
        ...(sharedKernel !== undefined && { oneKernel: sharedKernel }),
        legs: this.plan.legs,
        expectations,
        hosts: results,
      };
    });
  }

  /** The kernel a host ran on, as read inside it before the flood; the run's where it was not read. */
  private kernelOf(host: string): KernelSource {
    const read = this.before.get(host)?.machine;
    return read
      ? { release: read.release, version: read.version }
      : { release: this.options.kernel, ...(this.options.kernelVersion && { version: this.options.kernelVersion }) };
  }

  /** What the memory watch saw; the lowest MemAvailable only where no other run shared the machine meanwhile. */
  private machineMemory(watch: MemoryWatch, shared: boolean): NonNullable<CaseResult['machineMemory']> {
    return {
      ...(Number.isFinite(watch.lowestBytes) && !shared && { lowestAvailableBytes: watch.lowestBytes }),
      ...(watch.floorBytes !== undefined && { floorBytes: watch.floorBytes }),
      ...(this.memoryStop && { stopped: this.memoryStop }),
    };
  }

  private resultOf(host: Host, view: KernelView | undefined, spoiled?: string, sources?: Record<string, number>, middle?: MiddleReading): HostResult {
    const before = this.before.get(host.plan.name);
    return caseHostResult(host, view, {
      before,
      machine: hostMachine(host.node, (before ?? view)?.machine, this.options.nodes),
      hostWideNotMeasured: spoiled,
      server: this.server,
      serverPorts: this.plan.server.ports,
      flood: this.floods.find((f) => f.host === host),
      sources,
      middle,
    });
  }

  /** Clients first, so the server sees FINs rather than peers vanishing with their namespaces. */
  private stopPrograms(): Promise<void> {
    return this.phase('stop', async () => {
      const stop = async (program: RunningProgram | undefined) => {
        if (!program) return;
        await program.signal('TERM');
        // KILL only a program still running after the timeout: never later, into whatever runs there by then.
        if (
          (await within(
            program.exited.catch(() => undefined),
            STOP_TIMEOUT_MS,
          )) === 'late'
        )
          await program.signal('KILL');
      };
      await Promise.all(this.floods.map((f) => stop(f.program)));
      await stop(this.proxyProgram);
      await stop(this.server?.program);
    });
  }

  /**
   * Removes this case's hosts; safe to call after any failure. Removing a host kills what still runs in it,
   * server and clients together, so nothing is left to count wrongly. The run's network goes with the run.
   */
  private async teardown(): Promise<void> {
    const started = performance.now();
    await this.sampler?.stop().catch(() => undefined);
    await this.memoryWatch?.end();
    await this.neighbours.stop().catch(() => undefined);
    await Promise.all(this.hosts.map((h) => h.remove()));
    this.phases.teardown = Math.round(performance.now() - started);
  }
}
