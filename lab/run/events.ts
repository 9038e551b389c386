/**
 * What a run tells its subscribers (the terminal view, the matrix, the benchmark), in order. The run knows
 * nothing of terminals or reports. A handler that returns a promise holds the run until it settles: --step
 * waits for Enter before a case, the benchmark measures in the hosts between phases.
 */
import type { CasePlan } from '../plan/plan.ts';
import type { CaseResult } from '../results/results.ts';
import type { EnvironmentFingerprint, Host } from '../runtime/runtime.ts';
import type { FloodProgress, PhaseName } from './case-run.ts';

/** The run's own steps before its cases. */
export type RunStep = 'images' | 'network';

export interface PhaseInfo {
  name: PhaseName;
  title: string;
}

export interface CaseInfo {
  /** The case's index among the scenario's cases, and their number. */
  index: number;
  total: number;
  name: string;
  about?: string;
  plan: CasePlan;
  phases: readonly PhaseInfo[];
  /** Each client's predicted ceiling (its usable ports toward its destinations, at most what it asks). */
  ceilings: Readonly<Record<string, number>>;
}

export interface PhaseOutcome {
  /** The hosts the case has started by then. */
  hosts: readonly Host[];
  /** The case's results, once collected. */
  result?: CaseResult;
  error?: unknown;
}

type Handled = void | Promise<void>;

export interface RunEvents {
  /** The engine answers and every case is planned: nothing was wrong with the input. */
  connected?(run: { runId: string; environment: EnvironmentFingerprint }): Handled;
  /** What the runtime says it does (starting an engine, building an image), within a step or before them. */
  log?(line: string, step?: RunStep): void;
  stepStarted?(step: RunStep, title: string): Handled;
  /** title: what the step ended with ("Network lab-xyz 198.18.3.0/24 (internal, no egress)"). */
  stepFinished?(step: RunStep, outcome: { title: string; error?: unknown }): Handled;
  caseStarting?(info: CaseInfo): Handled;
  phaseStarted?(info: CaseInfo, phase: PhaseInfo, hosts: readonly Host[]): Handled;
  phaseFinished?(info: CaseInfo, phase: PhaseInfo, outcome: PhaseOutcome): Handled;
  progress?(info: CaseInfo, progress: FloodProgress): void;
  caseFinished?(info: CaseInfo, outcome: { result?: CaseResult; error?: unknown }): Handled;
  /**
   * The run's teardown is over (removed: what was still there); interrupted: by a signal; left: what the
   * runtime could not remove, in one line (the run then did not clean up after itself).
   */
  closed?(removed: readonly string[], interrupted: boolean, left?: string): Handled;
}

/** Several subscribers as one: each hears every event, in the order given. */
export function allOf(...subscribers: RunEvents[]): RunEvents {
  const each =
    <K extends keyof RunEvents>(key: K) =>
    async (...args: Parameters<NonNullable<RunEvents[K]>>): Promise<void> => {
      for (const s of subscribers) await (s[key] as ((...a: typeof args) => Handled) | undefined)?.(...args);
    };
  return {
    connected: each('connected'),
    log: (line, step) => subscribers.forEach((s) => s.log?.(line, step)),
    stepStarted: each('stepStarted'),
    stepFinished: each('stepFinished'),
    caseStarting: each('caseStarting'),
    phaseStarted: each('phaseStarted'),
    phaseFinished: each('phaseFinished'),
    progress: (info, p) => subscribers.forEach((s) => s.progress?.(info, p)),
    caseFinished: each('caseFinished'),
    closed: each('closed'),
  };
}
