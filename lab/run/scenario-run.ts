/**
 * A whole run of one scenario, the one lifecycle `lab run`, `lab matrix` and the benchmark go through:
 * reach the engine and plan every case (bad input stops here, nothing created), get the images, one
 * network for the run, the cases one after another, the results document; and, whatever happens, the
 * session's close, which removes every object of the run.
 */
import { readFileSync } from 'node:fs';
import type { CaseResult, Results } from '../results/results.ts';
import { RESULTS_SCHEMA } from '../results/results.ts';
import {
  SubnetTaken,
  type ConnectionTracking,
  type EnvironmentFingerprint,
  type LabNetwork,
  type MachineShell,
  type RunSession,
  type Runtime,
} from '../runtime/runtime.ts';
import type { Family, Scenario } from '../scenario/types.ts';
import { CaseRun } from './case-run.ts';
import { unlessAborted } from '../abort.ts';
import { holdIfAsked } from './hold.ts';
import { casesOverIpv6, planCase, plannedHosts, refuseGatewayWithout, refuseIpv6Without, refuseProxyWithout, type CasePlan } from '../plan/plan.ts';
import { benchmarkingSubnets, ipv6SubnetFor, overlaps } from '../subnet.ts';
import { EnvironmentError, InputError, Interrupted, LabError } from '../errors.ts';
import { newRunId } from '../run-id.ts';
import { markLive } from '../run-ledger.ts';
import type { CaseInfo, RunEvents } from './events.ts';
import { plannedContext } from './evaluate.ts';
import { Judge } from './judge.ts';
import { theoryData } from './judging.ts';
import { readMachineFacts } from '../collect/sysctls.ts';
import { readMachineMemory } from '../collect/meminfo.ts';
import { SLABINFO_SCRIPT, objectSizesOf, parseSlabinfo } from '../collect/memory.ts';
import { checkMemory, type ConnectionCost } from './memory-guard.ts';
import { measuredCost, recordCost } from './memory-costs.ts';
import { kernelRelease } from '../scenario/theory/kernel.ts';
import { connectionSlabBytes } from '../scenario/theory/memory.ts';
import { clientCeiling } from '../scenario/theory/ports.ts';
import { lowerForCase, putBackEarly, type LoweredCeiling } from './lowered-conntrack.ts';

export interface ScenarioRunOptions {
  file: string;
  quick: boolean;
  signal?: AbortSignal;
  /** Which cases run (indexes); all of them by default. */
  cases?: number[];
  /** The user allows raising the host's connection-tracking ceiling for the run (restored afterwards). */
  raiseConntrack?: boolean;
  /** The user asks for the run's subnet to be exempt from connection tracking (rules deleted afterwards). */
  notrack?: boolean;
  /** The user lets the lab raise fs.file-max for the run (--raise-file-max), where the runtime can. */
  raiseFileMax?: boolean;
  /** The user lets a case the memory check refuses run until available memory falls to the floor. */
  untilMemoryFloor?: boolean;
  /** The run's id, when the caller must know it before the run starts; a fresh one by default. */
  runId?: string;
  /** Every case over this IP family (--family), whatever the scenario says. */
  family?: Family;
}

const LAB_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Open files of the machine besides the sockets, as hosts start: the engine's, each container's shim and
 * runtime, the lab's own (measured: a one-client quick case met ENFILE with 600 to spare, the server's
 * collector failing to open anything).
 */
const OPEN_FILES_BESIDES = 16_384;

/** The whole run; events tell what happens as it happens. Resolves with the results, whatever the verdict. */
export async function runScenario(runtime: Runtime, scenario: Scenario, options: ScenarioRunOptions, events: RunEvents = {}): Promise<Results> {
  const run = new ScenarioRun(runtime, scenario, options, events);
  // Live from before anything is made until all of it is gone: `lab clean` leaves it alone meanwhile.
  const over = await markLive(run.runId);
  try {
    await run.connect();
    await run.prepare();
    await run.createNetwork();
    for (const index of run.caseIndexes) await run.runCase(index);
    // A signal in the last teardown interrupts the run all the same: it did not end as asked.
    if (options.signal?.aborted) throw new Interrupted(options.signal.reason as NodeJS.Signals);
    return run.results();
  } catch (error) {
    if (options.signal?.aborted && !(error instanceof Interrupted)) throw new Interrupted(options.signal.reason as NodeJS.Signals);
    throw error;
  } finally {
    await run.close();
    await over();
  }
}

class ScenarioRun {
  readonly runId: string;
  readonly caseIndexes: number[];
  private readonly startedAt = new Date();
  private readonly session: RunSession;
  private readonly cases: CaseResult[] = [];
  private environment?: EnvironmentFingerprint;
  private nofileCeiling = 0;
  private subnet = '';
  private plans = new Map<number, CasePlan>();
  private network?: LabNetwork;
  private machineFacts?: ReturnType<typeof readMachineFacts>;
  /** Whether the run's network carries IPv6: some case it runs connects over it. */
  private ipv6 = false;
  /** Whether the run's connections take entries in a machine-wide tracking table. */
  private tracked = false;
  /** Calls the scenario's predict(), bounded in time: on the plan, then on each case's figures. */
  private readonly judge: Judge;

  constructor(
    private readonly runtime: Runtime,
    private readonly scenario: Scenario,
    private readonly options: ScenarioRunOptions,
    private readonly events: RunEvents,
  ) {
    this.runId = options.runId ?? newRunId();
    this.caseIndexes = options.cases ?? [...scenario.cases.keys()];
    this.session = runtime.open(this.runId);
    this.judge = new Judge(scenario, (line) => this.log(line));
    this.judge.warm();
  }

  private log = (line: string) => this.events.log?.(line);

  private guard<T>(work: Promise<T>): Promise<T> {
    return unlessAborted(work, this.options.signal);
  }

  /** Reaches the engine and plans every case against its limits: bad input stops here, nothing created. */
  async connect(): Promise<void> {
    // A case over IPv6 where the runtime's networks carry none: refused before the runtime is even reached.
    const overIpv6 = casesOverIpv6(this.scenario, this.caseIndexes, this.options.quick, this.options.family);
    refuseIpv6Without({ name: this.runtime.name, ipv6: this.runtime.can.ipv6 }, this.scenario, this.options.file, overIpv6, this.options.family);
    this.ipv6 = overIpv6.length > 0;
    refuseGatewayWithout(
      { name: this.runtime.name, natGateway: this.runtime.can.natGateway },
      this.scenario,
      this.options.file,
      this.caseIndexes,
      this.options.quick,
    );
    refuseProxyWithout(
      { name: this.runtime.name, programImages: this.runtime.can.programImages, natGateway: this.runtime.can.natGateway },
      this.scenario,
      this.options.file,
      this.caseIndexes,
      this.options.quick,
    );
    await this.guard(this.session.connect(this.log));
    this.environment = await this.fingerprint();
    this.nofileCeiling = await this.session.nofileCeiling();
    const used = await this.session.subnetsInUse();
    const wanted = this.scenario.subnet;
    if (wanted) {
      const clash = used.find((u) => overlaps(u, wanted));
      if (clash) throw new InputError(this.options.file, 'subnet', `${wanted} overlaps the engine's network ${clash}`);
    }
    this.planAll(wanted ?? freeSubnet(used));
    this.refuseLoweringWithout();
    await this.checkPredictions();
    // Every check that can refuse runs before any of them changes the machine: a case refused for memory
    // must not have raised nf_conntrack_max (or fs.file-max) first, only to put it back.
    const tracking = await this.readTracking();
    await this.checkMemory();
    const raises = [this.checkTracking(tracking), await this.checkOpenFiles()];
    for (const raise of raises) await raise?.();
    await this.events.connected?.({ runId: this.runId, environment: this.environment });
  }

  /** A case that needs the machine's conntrack ceiling lowered, where the session cannot: refused before anything is made. */
  private refuseLoweringWithout(): void {
    if (this.session.connectionTracking?.lower) return;
    const index = this.caseIndexes.find((i) => this.plan(i).middle?.nat?.conntrackMax !== undefined);
    if (index === undefined) return;
    throw new EnvironmentError(
      `case ${index + 1} (${this.scenario.cases[index]!.name}) needs this machine's nf_conntrack_max lowered for it (middle.conntrackMax), which the ${this.runtime.name} runtime cannot do here`,
      'run it on docker with the engine on this machine, as root',
    );
  }

  /** What runs the hosts, and what their machine says of itself. */
  private async fingerprint(): Promise<EnvironmentFingerprint> {
    this.machineFacts ??= readMachineFacts(this.session.machineShell());
    return { ...(await this.session.fingerprint()), ...(await this.machineFacts) };
  }

  /** Every case is planned here, once, against the subnet the run will have (all of them: bad input is found whichever run). */
  private planAll(subnet: string): void {
    this.subnet = subnet;
    const room = this.session.clientRoom?.(subnet);
    const context = {
      runId: this.runId,
      quick: this.options.quick,
      file: this.options.file,
      nofileCeiling: this.nofileCeiling,
      subnet,
      ...(room && { clientRoom: room }),
      ...(this.options.family && { family: this.options.family }),
      ...(this.ipv6 && { ipv6: true }),
    };
    this.plans = new Map(this.scenario.cases.map((_, index) => [index, planCase(this.scenario, index, context)]));
  }

  /**
   * Every expectation's predict() on what the plan knows: one that cannot predict, or does not return, is
   * refused before anything starts.
   */
  private async checkPredictions(): Promise<void> {
    const shared = this.scenario.expect?.length ?? 0;
    const kernel = { release: this.environment?.kernel ?? '', ...(this.environment?.kernelVersion && { version: this.environment.kernelVersion }) };
    for (const [index, plan] of this.plans) {
      const fieldOf = (j: number) => (j < shared ? `expect[${j}].predict` : `cases[${index}].expect[${j - shared}].predict`);
      await this.judge.check(index, plan.expectations, theoryData(this.plannedTheory(plan), kernel), this.options.file, fieldOf, this.options.signal);
    }
  }

  /** What each client should reach, as the theory predicts it from the plan alone. */
  private ceilings(plan: CasePlan): Record<string, number> {
    const context = this.plannedTheory(plan);
    return Object.fromEntries(context.clients.map((c) => [c.name, Math.min(c.asked, clientCeiling(c, context.kernel).max)]));
  }

  /** The theory's context as the plan and the engine's kernel give it, before any host starts. */
  private plannedTheory(plan: CasePlan) {
    const kernel = kernelRelease(this.environment?.kernel ?? '', this.environment?.kernelVersion);
    return plannedContext(plan, kernel, this.environment?.namespaceDefaults);
  }

  private plan(index: number): CasePlan {
    return this.plans.get(index)!;
  }

  /** Whether the run's connections take entries in the host's conntrack table, and its state when they do. */
  private async readTracking(): Promise<TrackingState | undefined> {
    const tracking = this.session.connectionTracking;
    if (!tracking) return undefined;
    await tracking.reclaim(this.log);
    const state = await tracking.read();
    this.tracked = state.tracked && !this.options.notrack;
    return this.tracked ? { tracking, ...state } : undefined;
  }

  /**
   * Every connection of a case takes an entry in the host's conntrack table when bridged traffic is tracked;
   * past its ceiling new SYNs vanish. Refuse a run that would cross it, unless the user lets the lab raise it:
   * then the raise is returned, made once every check has passed.
   */
  private checkTracking(state: TrackingState | undefined): (() => Promise<void>) | undefined {
    if (!state) return undefined;
    // A connection through a middle host crosses the bridge twice (clients -> middle, middle -> server): two entries.
    const needed = Math.max(...this.caseIndexes.map((i) => this.asked(i) * this.plan(i).legs.length));
    // Room for what is tracked already (other traffic, TIME_WAIT entries of earlier cases) and a margin.
    const wanted = Math.ceil((state.count + needed) * 1.1);
    if (wanted <= state.max) return undefined;
    if (!this.options.raiseConntrack) {
      throw new EnvironmentError(
        `a case needs about ${needed} connections but the host tracks bridged connections and nf_conntrack_max is ${state.max} (${state.count} in use): past it new SYNs are dropped`,
        `run again with --notrack to exempt the run's subnet from tracking, or --raise-conntrack to let the lab raise the ceiling to ${wanted} for the run and restore it afterwards`,
      );
    }
    return () => state.tracking.raise(wanted, this.log);
  }

  private asked(index: number): number {
    return this.plan(index).clients.reduce((sum, c) => sum + c.asked, 0);
  }

  /**
   * A case whose connections would take the machine's memory under the floor the lab keeps free is refused
   * here (exit 3), before anything starts. Both ends of every connection live on the machine the hosts run on.
   */
  private async checkMemory(): Promise<void> {
    const shell = this.session.machineShell();
    const memory = shell && (await readMachineMemory(shell));
    if (!shell || !memory) return this.log("memory: not checked before the run (no shell on the hosts' machine); the flood is not watched either");
    const cost = await this.connectionCost(shell);
    if (!cost) return this.log('memory: not checked before the run (no slab sizes could be read); the flood is still watched');
    const needs = this.caseIndexes.map((i) => ({ connections: this.asked(i), cost, label: `case ${i + 1} (${this.scenario.cases[i]!.name})` }));
    checkMemory(needs, memory, !!this.options.untilMemoryFloor, this.log, this.tracked);
  }

  /**
   * fs.file-max bounds the open files of the whole machine, and every held connection is two of them here
   * (both ends in its one kernel): past it socket() and accept() fail with ENFILE, and so does every exec
   * the lab would read the kernel with. Refused unless the user lets the lab raise it for the run: then the
   * raise is returned, made once every check has passed.
   */
  private async checkOpenFiles(): Promise<(() => Promise<void>) | undefined> {
    const shell = this.session.machineShell();
    const fileNr = shell && (await shell(['cat', '/proc/sys/fs/file-nr']).catch(() => undefined));
    const [inUse, , now] = (fileNr?.exitCode === 0 ? fileNr.stdout : '').trim().split(/\s+/).map(Number);
    if (!shell || !Number.isFinite(inUse) || !now) return undefined;
    const limit = this.session.fileMax;
    const max = (await limit?.lasting()) ?? now;
    const [index, needed] = this.caseIndexes
      .map((i) => [i, Math.ceil(this.asked(i) * 2 * 1.05) + OPEN_FILES_BESIDES + inUse!] as const)
      .reduce((most, one) => (one[1] > most[1] ? one : most));
    if (needed <= max) return undefined;
    if (limit && this.options.raiseFileMax) return () => limit.raise(needed, this.log);
    const connections = this.asked(index);
    throw new EnvironmentError(
      `case ${index + 1} (${this.scenario.cases[index]!.name}) needs about ${needed.toLocaleString('en-US')} open files on this machine (${connections.toLocaleString('en-US')} connections x 2 ends in its one kernel, + 5%, + ${OPEN_FILES_BESIDES.toLocaleString('en-US')} for the engine, its shims and the lab as hosts start, + ${inUse!.toLocaleString('en-US')} open now) but fs.file-max is ${max.toLocaleString('en-US')}: past it socket() and accept() fail with ENFILE`,
      limit
        ? `run again with --raise-file-max to let the lab raise it to ${needed} for the run and restore it afterwards, or ask for fewer connections`
        : `raise it for the run (sysctl -w fs.file-max=${needed}) on the machine the hosts run on, or ask for fewer connections`,
    );
  }

  /** What one connection costs: as last measured on this machine and kernel, else the theory's most. */
  private async connectionCost(shell: MachineShell): Promise<ConnectionCost | undefined> {
    const kernel = this.environment?.kernel ?? '';
    const measured = await measuredCost(kernel, this.tracked);
    if (measured) return measured;
    const sizes = objectSizesOf(parseSlabinfo((await shell(['sh', '-c', SLABINFO_SCRIPT])).stdout));
    const slab = connectionSlabBytes(sizes, this.tracked);
    return (
      slab && {
        bytes: slab.max,
        source: `the theory's most on Linux ${kernel}: ${slab.terms} = ${slab.bytes} B, + 40% it does not name; not yet measured on this machine`,
      }
    );
  }

  /** Images and whatever else the runtime needs before hosts can start. */
  async prepare(): Promise<void> {
    await this.step('images', 'Images (built when missing or when their sources changed)', async () => {
      await holdIfAsked('images', this.options.signal);
      const hosts = this.caseIndexes.flatMap((i) => plannedHosts(this.plan(i)));
      const dockerfiles = hosts.flatMap((h) => (h.customProgram?.dockerfile ? [h.customProgram.dockerfile] : []));
      await this.guard(this.session.prepare((line) => this.events.log?.(line, 'images'), dockerfiles));
      this.environment = await this.fingerprint();
      return 'Images (built when missing or when their sources changed)';
    });
  }

  /** The run's network, in the subnet its cases were planned for; a subnet taken meanwhile means planning again. */
  async createNetwork(): Promise<void> {
    await this.step('network', 'Create the lab network (internal, no egress)', async () => {
      await holdIfAsked('network', this.options.signal);
      const taken: string[] = [];
      for (;;) {
        try {
          this.network = await this.guard(this.session.createNetwork(this.subnet, this.ipv6 ? ipv6SubnetFor(this.subnet) : undefined));
          if (this.options.notrack) await this.session.connectionTracking?.exempt(this.network.subnet, this.log);
          return `Network ${this.network.name} ${[this.network.subnet, this.network.subnet6].filter(Boolean).join(' ')} (internal, no egress${this.options.notrack && this.session.connectionTracking ? ', not tracked' : ''})`;
        } catch (error) {
          if (!(error instanceof SubnetTaken)) throw error;
          if (this.scenario.subnet)
            throw new InputError(this.options.file, 'subnet', `${this.scenario.subnet} overlaps a network the engine made meanwhile`);
          taken.push(error.subnet);
          this.planAll(freeSubnet([...(await this.session.subnetsInUse()), ...taken]));
        }
      }
    });
  }

  private async step(step: 'images' | 'network', title: string, work: () => Promise<string>): Promise<void> {
    await this.events.stepStarted?.(step, title);
    let done: string;
    try {
      done = await work();
    } catch (error) {
      await this.events.stepFinished?.(step, { title, error });
      throw error;
    }
    await this.events.stepFinished?.(step, { title: done });
  }

  /**
   * A case whose gateway asks for a small table: the machine's ceiling lowered for it alone (lowered-conntrack.ts),
   * its traffic exempt from the machine's tracking meanwhile. Resolves with what puts both back. Not raced
   * against Ctrl-C (guard): raced, a lowering under way would finish after the session closed and stay
   * lowered; lowerForCase stops at Ctrl-C itself, putting back what it set.
   */
  private async lowerFor(index: number): Promise<LoweredCeiling | undefined> {
    const max = this.plan(index).middle?.nat?.conntrackMax;
    const tracking = this.session.connectionTracking;
    if (max === undefined || !tracking) return undefined;
    const shell = this.session.machineShell();
    const bootId = shell && (await shell(['cat', '/proc/sys/kernel/random/boot_id']).catch(() => undefined));
    return lowerForCase(tracking, {
      runId: this.runId,
      max,
      label: `case ${index + 1} (${this.scenario.cases[index]!.name})`,
      subnet: this.network!.subnet,
      exemptAlready: !!this.options.notrack,
      ...(bootId?.exitCode === 0 && bootId.stdout.trim() && { bootId: bootId.stdout.trim() }),
      log: this.log,
      ...(this.options.signal && { signal: this.options.signal }),
    });
  }

  /** One case, with the machine changed for it where it asks (and put back whatever happens). */
  async runCase(index: number): Promise<void> {
    const lowered = await this.lowerFor(index);
    let failure: unknown;
    try {
      await this.runPhases(index, lowered);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // A put-back that fails after the case did must not hide why the case failed: it is said instead.
      await lowered?.putBack().catch((error: Error) => {
        if (failure === undefined) throw error;
        this.log(`could not put nf_conntrack_max back: ${error.message}`);
      });
    }
  }

  /** Every phase of one case; the hosts are removed whatever happens. */
  private async runPhases(index: number, ceiling?: LoweredCeiling): Promise<void> {
    const plan = this.plan(index);
    const spec = this.scenario.cases[index]!;
    let info: CaseInfo | undefined;
    const lowered = plan.middle?.nat?.conntrackMax !== undefined;
    const caseRun = new CaseRun(
      this.session,
      this.network!,
      plan,
      {
        hostKind: this.runtime.hostKind,
        kernel: this.environment?.kernel ?? '',
        // A case that lowers the ceiling has its traffic exempt from the machine's tracking.
        tracked: this.tracked && !lowered,
        hostMemoryCgroups: this.runtime.can.hostMemoryCgroups,
        machineOfItsOwn: this.runtime.can.machineOfItsOwn,
        ...(this.environment?.kernelVersion ? { kernelVersion: this.environment.kernelVersion } : {}),
        ...(this.environment?.nodes && { nodes: this.environment.nodes }),
        ...(this.options.signal ? { signal: this.options.signal } : {}),
        judge: async (context, server, clients, middle) =>
          putBackEarly(
            await this.judge.judge(index, plan.expectations, context, server, clients, this.options.signal, middle),
            ceiling?.putBackEarly,
          ),
      },
      (progress) => this.events.progress?.(info!, progress),
    );
    const phases = caseRun.phaseList;
    info = {
      index,
      total: this.scenario.cases.length,
      name: spec.name,
      ...(spec.about ? { about: spec.about } : {}),
      plan,
      phases: phases.map(({ name, title }) => ({ name, title })),
      ceilings: this.ceilings(plan),
    };
    await this.guard(Promise.resolve(this.events.caseStarting?.(info)));
    const outcome = (error?: unknown) => ({
      hosts: caseRun.startedHosts,
      ...(caseRun.result && { result: caseRun.result }),
      ...(error !== undefined && { error }),
    });
    const teardown = phases.at(-1)!;
    let failure: unknown;
    try {
      for (const phase of phases.slice(0, -1)) {
        const about = info.phases.find((p) => p.name === phase.name)!;
        await this.events.phaseStarted?.(info, about, caseRun.startedHosts);
        try {
          await phase.run();
        } catch (error) {
          await this.events.phaseFinished?.(info, about, outcome(error));
          throw error;
        }
        await this.events.phaseFinished?.(info, about, outcome());
      }
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      const about = info.phases.at(-1)!;
      await this.events.phaseStarted?.(info, about, caseRun.startedHosts);
      // A teardown that fails after a phase failed (the engine gone, say) must not hide why the case failed.
      const teardownFailure = await teardown.run().then(
        () => undefined,
        (error: unknown) => error ?? new Error('teardown failed'),
      );
      await this.events.phaseFinished?.(info, about, outcome(teardownFailure));
      if (caseRun.result) {
        this.cases.push(caseRun.result);
        await this.recordMemory(caseRun.result);
      }
      failure ??= teardownFailure;
      await this.events.caseFinished?.(info, { ...(caseRun.result && { result: caseRun.result }), ...(failure !== undefined && { error: failure }) });
      if (teardownFailure !== undefined && failure === teardownFailure) throw teardownFailure;
    }
  }

  /** What a connection cost here, for the memory check of later runs (large floods only). */
  private async recordMemory(result: CaseResult): Promise<void> {
    const memory = result.memory;
    // A growth other runs added to is not what a connection costs here.
    if (!memory || memory.hostWideNotMeasured || !this.session.machineShell()) return;
    await recordCost(this.environment?.kernel ?? '', this.tracked, {
      bytesPerConnection: memory.kernelBytesPerConnection,
      connections: memory.connections,
      scenario: this.scenario.name,
    });
  }

  results(): Results {
    if (!this.environment) throw new Error('connect() before results()');
    return {
      schema: RESULTS_SCHEMA,
      scenario: this.scenario.name,
      claim: this.scenario.claim,
      file: this.options.file,
      runId: this.runId,
      quick: this.options.quick,
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      environment: { ...this.environment, lab: LAB_VERSION, node: process.version, nofileCeiling: this.nofileCeiling },
      cases: this.cases,
      pass: this.cases.length === this.caseIndexes.length && this.cases.every((c) => c.pass),
    };
  }

  /** Removes everything of the run (hosts, then the network), undoes host tuning, lets go of a VM. */
  async close(): Promise<void> {
    await this.judge.close();
    let left: string | undefined;
    const removed = await this.session.close().catch((error: Error) => {
      left = error instanceof LabError && error.hint ? `${error.message}: ${error.hint}` : error.message;
      return [] as string[];
    });
    await this.events.closed?.(removed, !!this.options.signal?.aborted, left);
  }
}

/** The host's conntrack table as read before the run, where the run's connections take entries in it. */
type TrackingState = { tracking: ConnectionTracking; max: number; count: number };

/** The first /24 of the benchmarking range that no network uses. */
function freeSubnet(used: readonly string[]): string {
  for (const subnet of benchmarkingSubnets()) if (!used.some((u) => overlaps(u, subnet))) return subnet;
  throw new EnvironmentError('no free /24 left in 198.18.0.0/15 for a lab network');
}
