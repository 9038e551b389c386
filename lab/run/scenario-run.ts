/**
 * A whole run of one scenario: prepare the runtime, one network for the run, the cases one after another,
 * the results document, and the cleanup that removes every object labelled with the run's id.
 */
import { newRunId } from './run-id.ts';
import { readFileSync } from 'node:fs';
import type { CaseResult, Results } from '../results/results.ts';
import { RESULTS_SCHEMA } from '../results/results.ts';
import type { EnvironmentFingerprint, LabNetwork, Log, Runtime } from '../runtime/runtime.ts';
import type { Scenario } from '../scenario/types.ts';
import { CaseRun, type FloodProgress } from './case-run.ts';
import { unlessAborted } from './abort.ts';
import { holdIfAsked } from './hold.ts';
import { planCase, type CasePlan } from '../plan/plan.ts';
import { overlaps } from '../plan/subnet.ts';
import { EnvironmentError, InputError } from '../errors.ts';

/** Runs get a /24 unless the scenario names a subnet: plans are checked against one before it is chosen. */
const PLACEHOLDER_SUBNET = '198.18.0.0/24';

export interface CasePhase {
  name: string;
  title: string;
  run: () => Promise<void>;
}

export interface ScenarioRunOptions {
  file: string;
  quick: boolean;
  signal?: AbortSignal;
  /** Which cases run (indexes); all of them by default. */
  cases?: number[];
  /** The user allows raising the host's connection-tracking ceiling for the run (restored afterwards). */
  raiseConntrack?: boolean;
}


const LAB_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export class ScenarioRun {
  readonly runId = newRunId();
  readonly startedAt = new Date();
  readonly cases: CaseResult[] = [];
  private environment?: EnvironmentFingerprint;
  private nofileCeiling = 0;
  private network?: LabNetwork;
  private restoreTracking?: () => Promise<void>;

  constructor(
    readonly runtime: Runtime,
    readonly scenario: Scenario,
    readonly options: ScenarioRunOptions,
  ) {}

  /** Reaches the engine and plans every case against its limits: bad input stops here, nothing created. */
  async connect(log: Log): Promise<void> {
    await unlessAborted(this.runtime.connect(log), this.options.signal);
    this.environment = await this.runtime.fingerprint();
    this.nofileCeiling = await this.runtime.nofileCeiling();
    this.checkPlans();
    await this.checkSubnet();
    await this.checkTracking(log);
  }

  /**
   * Every connection of a case takes an entry in the host's conntrack table when bridged traffic is tracked;
   * past its ceiling new SYNs vanish. Refuse a run that would cross it, unless the user lets the lab raise it.
   */
  private async checkTracking(log: Log): Promise<void> {
    const tracking = this.runtime.connectionTracking;
    if (!tracking) return;
    await tracking.reclaim(log);
    const state = await tracking.read();
    if (!state.tracked) return;
    const needed = Math.max(...this.selectedCases().map((i) => this.plan(i).clients.reduce((sum, c) => sum + c.asked, 0)));
    // Room for what is tracked already (other traffic, TIME_WAIT entries of earlier cases) and a margin.
    const wanted = Math.ceil((state.count + needed) * 1.1);
    if (wanted <= state.max) return;
    if (!this.options.raiseConntrack) {
      throw new EnvironmentError(
        `a case needs about ${needed} connections but the host tracks bridged connections and nf_conntrack_max is ${state.max} (${state.count} in use): past it new SYNs are dropped`,
        `run again with --raise-conntrack to let the lab raise it to ${wanted} for the run and restore it afterwards`,
      );
    }
    this.restoreTracking = await tracking.raise(this.runId, wanted, log);
  }

  private selectedCases(): number[] {
    return this.options.cases ?? [...this.scenario.cases.keys()];
  }

  private async checkSubnet(): Promise<void> {
    const wanted = this.scenario.subnet;
    if (!wanted) return;
    const clash = (await this.runtime.subnetsInUse()).find((used) => overlaps(used, wanted));
    if (clash) throw new InputError(this.options.file, 'subnet', `${wanted} overlaps the engine's network ${clash}`);
  }

  /** Images and whatever else the runtime needs before hosts can start. */
  async prepare(log: Log): Promise<void> {
    if (!this.environment) await this.connect(log);
    await holdIfAsked('images', this.options.signal);
    const dockerfiles = this.selectedCases().flatMap((i) => this.plan(i).clients.flatMap((c) => (c.customProgram?.dockerfile ? [c.customProgram.dockerfile] : [])));
    await unlessAborted(this.runtime.prepare(log, dockerfiles), this.options.signal);
    this.environment = await this.runtime.fingerprint();
  }

  private checkPlans(): void {
    this.scenario.cases.forEach((_, index) => this.plan(index));
  }

  /** The case's plan against a placeholder subnet: what a case asks, before the network exists. */
  private plan(index: number): CasePlan {
    const subnet = this.scenario.subnet ?? PLACEHOLDER_SUBNET;
    return planCase(this.scenario, index, { runId: this.runId, quick: this.options.quick, file: this.options.file, nofileCeiling: this.nofileCeiling, subnet });
  }

  async createNetwork(): Promise<LabNetwork> {
    await holdIfAsked('network', this.options.signal);
    this.network = await unlessAborted(this.runtime.createNetwork(this.runId, this.scenario.subnet, this.options.file), this.options.signal);
    return this.network;
  }

  /** The case's run, planned against this run's network (planning errors are input errors). */
  caseRun(index: number): CaseRun {
    if (!this.network) throw new Error('createNetwork() before caseRun()');
    return new CaseRun(this.runtime, this.scenario, index, {
      runId: this.runId,
      quick: this.options.quick,
      file: this.options.file,
      nofileCeiling: this.nofileCeiling,
      network: this.network,
      kernel: this.environment?.kernel ?? '',
      ...(this.environment?.kernelVersion ? { kernelVersion: this.environment.kernelVersion } : {}),
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    });
  }

  /**
   * The phases of one case in order, titled for a progress view. The last one, teardown, must also run
   * when an earlier one fails: callers put it in a finally (runCase does).
   */
  phasesOf(caseRun: CaseRun, onProgress?: (p: FloodProgress) => void): CasePhase[] {
    const plan = caseRun.plan;
    const asked = plan.clients.reduce((sum, c) => sum + c.asked, 0);
    return [
      { name: 'hosts', title: `Start ${plan.clients.length + 1} ${this.runtime.hostKind}s (server ${plan.server.ip}, ${plan.clients.length} client(s))`, run: () => caseRun.startHosts() },
      { name: 'server', title: `Start the server on port(s) ${plan.server.ports.join(', ')} (${plan.server.workers} worker(s))`, run: () => caseRun.startServer() },
      { name: 'observe', title: "Read the clients' kernels before the flood", run: () => caseRun.observe() },
      { name: 'flood', title: `Flood: ${asked} connects asked, bounded by ${plan.deadlineSeconds} s`, run: () => caseRun.flood(onProgress) },
      { name: 'settle', title: 'Let the server settle', run: () => caseRun.settle() },
      ...(plan.holdSeconds > 0 ? [{ name: 'hold', title: `Hold the connections for ${plan.holdSeconds} s`, run: () => caseRun.hold() }] : []),
      { name: 'collect', title: `Collect ss -s and nstat inside every ${this.runtime.hostKind}`, run: async () => void this.cases.push(await caseRun.collect()) },
      { name: 'stop', title: 'Stop the floods, then the server', run: () => caseRun.stopPrograms() },
      { name: 'teardown', title: `Tear down the ${this.runtime.hostKind}s`, run: () => caseRun.teardown() },
    ];
  }

  /** Every phase of one case without a UI; the hosts are removed whatever happens. */
  async runCase(index: number): Promise<CaseResult> {
    const caseRun = this.caseRun(index);
    const phases = this.phasesOf(caseRun);
    try {
      for (const phase of phases.slice(0, -1)) await phase.run();
    } finally {
      await phases.at(-1)!.run();
    }
    return this.cases.at(-1)!;
  }

  results(): Results {
    if (!this.environment) throw new Error('prepare() before results()');
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
      pass: this.cases.length === (this.options.cases ?? this.scenario.cases).length && this.cases.every((c) => c.pass),
    };
  }

  /** Removes everything labelled with this run's id (containers, then the network); undoes host tuning. */
  async cleanup(): Promise<string[]> {
    try {
      return await this.runtime.removeRun(this.runId);
    } finally {
      await this.restoreTracking?.();
      this.restoreTracking = undefined;
      await this.runtime.close?.();
    }
  }
}

/** The whole run without a UI: what the tests and other programs call. */
export async function runScenario(runtime: Runtime, scenario: Scenario, options: ScenarioRunOptions, log: Log = () => {}): Promise<Results> {
  const run = new ScenarioRun(runtime, scenario, options);
  await run.prepare(log);
  try {
    await run.createNetwork();
    for (const index of options.cases ?? scenario.cases.keys()) await run.runCase(index);
    return run.results();
  } finally {
    await run.cleanup();
  }
}
