/**
 * A whole run of one scenario: prepare the runtime, one network for the run, the cases one after another,
 * the results document, and the cleanup that removes every object labelled with the run's id.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CaseResult, Results } from '../results/results.ts';
import { RESULTS_SCHEMA } from '../results/results.ts';
import type { EnvironmentFingerprint, LabNetwork, Log, Runtime } from '../runtime/runtime.ts';
import type { Scenario } from '../scenario/types.ts';
import { CaseRun, type FloodProgress } from './case-run.ts';
import { unlessAborted } from './abort.ts';

export interface ScenarioRunOptions {
  file: string;
  quick: boolean;
  signal?: AbortSignal;
}

export function newRunId(): string {
  return `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
}

const LAB_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export class ScenarioRun {
  readonly runId = newRunId();
  readonly startedAt = new Date();
  readonly cases: CaseResult[] = [];
  private environment?: EnvironmentFingerprint;
  private nofileCeiling = 0;
  private network?: LabNetwork;

  constructor(
    readonly runtime: Runtime,
    readonly scenario: Scenario,
    readonly options: ScenarioRunOptions,
  ) {}

  async prepare(log: Log): Promise<void> {
    await unlessAborted(this.runtime.prepare(log), this.options.signal);
    this.environment = await this.runtime.fingerprint();
    this.nofileCeiling = await this.runtime.nofileCeiling();
  }

  async createNetwork(): Promise<LabNetwork> {
    this.network = await unlessAborted(this.runtime.createNetwork(this.runId, this.scenario.subnet), this.options.signal);
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
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    });
  }

  /** Every phase of one case; the hosts are removed whatever happens. */
  async runCase(index: number, onProgress?: (p: FloodProgress) => void): Promise<CaseResult> {
    const run = this.caseRun(index);
    try {
      await run.startHosts();
      await run.startServer();
      await run.observe();
      await run.flood(onProgress);
      await run.settle();
      const result = await run.collect();
      await run.stopPrograms();
      this.cases.push(result);
      return result;
    } finally {
      await run.teardown();
    }
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
      pass: this.cases.length === this.scenario.cases.length && this.cases.every((c) => c.pass),
    };
  }

  /** Removes everything labelled with this run's id (containers, then the network). */
  cleanup(): Promise<string[]> {
    return this.runtime.removeRun(this.runId);
  }
}

/** The whole run without a UI: what the tests and other programs call. */
export async function runScenario(runtime: Runtime, scenario: Scenario, options: ScenarioRunOptions, log: Log = () => {}): Promise<Results> {
  const run = new ScenarioRun(runtime, scenario, options);
  await run.prepare(log);
  try {
    await run.createNetwork();
    for (let i = 0; i < scenario.cases.length; i++) await run.runCase(i);
    return run.results();
  } finally {
    await run.cleanup();
  }
}
