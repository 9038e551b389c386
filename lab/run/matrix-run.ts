/**
 * Runs scenarios on several kernels: one job per kernel and VM size (its scenarios one after another, each as
 * many rounds as asked), jobs in parallel as the machine's cores allow, except that a timed scenario (connect()'s
 * cost, a churn's rate) runs alone (turns.ts), and so does one that judges host-wide memory on a machine other
 * runs share. A run that breaks is recorded and the others go on; the caller renders the matrix from what came
 * back.
 */
import type { ComparedRun, MatrixFailure } from '../results/runs.ts';
import type { Results } from '../results/results.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { mergeCase } from '../plan/plan.ts';
import type { Scenario } from '../scenario/types.ts';
import { runScenario } from './scenario-run.ts';
import { Turns } from './turns.ts';

export interface MatrixJob {
  /** The kernel as asked, with the VM's CPUs where --cpus gives them ("6.12-2vcpu"): the results' folder. */
  kernel: string;
  runtime: () => Runtime;
}

/** Where one scenario on one kernel stands, for a view that shows a line per pair. */
export interface MatrixState {
  kernel: string;
  scenario: string;
  state: 'waiting' | 'running' | 'passed' | 'failed' | 'broke' | 'skipped';
  /** What it does or did last, for people ("booting the VM", "case 2/5 as predicted", the error). */
  text: string;
  /** A case finished: a line worth keeping in a log, not only the latest state. */
  milestone?: boolean;
}

export interface MatrixOptions {
  quick: boolean;
  parallel: number;
  /** Each scenario runs this many times on each kernel, one run after another (a spread, not one sample); 1 if left out. */
  rounds?: number;
  /** Only the case of this name, in each scenario (the caller checked that each has it). */
  caseName?: string;
  signal: AbortSignal;
  /** Called with each finished run (round counts from 1), so results are on disk before the matrix ends. */
  onResults(kernel: string, file: string, results: Results, round: number): Promise<string>;
  onState(state: MatrixState): void;
}

export async function runMatrix(
  scenarios: ReadonlyArray<{ file: string; scenario: Scenario }>,
  jobs: readonly MatrixJob[],
  options: MatrixOptions,
): Promise<{ runs: ComparedRun[]; failures: MatrixFailure[] }> {
  const runs: ComparedRun[] = [];
  const failures: MatrixFailure[] = [];
  const queue = [...jobs];
  const turns = new Turns();
  const count = options.rounds ?? 1;
  const rounds = Array.from({ length: count }, (_, i) => i + 1);
  const label = (name: string, round: number) => (count > 1 ? `${name} (round ${round}/${count})` : name);
  for (const job of jobs)
    for (const { scenario } of scenarios)
      for (const round of rounds)
        options.onState({ kernel: job.kernel, scenario: label(scenario.name, round), state: 'waiting', text: 'waiting for a free core' });
  const worker = async () => {
    for (let job = queue.shift(); job && !options.signal.aborted; job = queue.shift()) {
      for (const { file, scenario, round } of scenarios.flatMap((s) => rounds.map((round) => ({ ...s, round })))) {
        if (options.signal.aborted) break;
        const runtime = job.runtime();
        const cases = runnableCases(scenario, runtime, options.quick).filter(
          (i) => options.caseName === undefined || scenario.cases[i]!.name === options.caseName,
        );
        const skipped = scenario.cases.length - cases.length;
        const say = (state: MatrixState['state'], text: string, milestone?: boolean) =>
          options.onState({ kernel: job!.kernel, scenario: label(scenario.name, round), state, text, ...(milestone && { milestone }) });
        if (!cases.length && options.caseName !== undefined) {
          say('skipped', `skipped: case "${options.caseName}" needs a scenario's own program image, which the ${runtime.name} runtime cannot run`);
          continue;
        }
        if (!cases.length) {
          say('skipped', `skipped: every case needs a scenario's own program image, which the ${runtime.name} runtime cannot run`);
          continue;
        }
        const timed = cases.some((i) => timesItself(mergeCase(scenario, scenario.cases[i]!, options.quick).client));
        // On a machine shared with the other runs, a run still booting a VM has not said which kernel it uses: a neighbour.
        const alone = timed || (!runtime.can.machineOfItsOwn && cases.some((i) => readsHostWideMemory(scenario, i)));
        say('running', waitingFor(timed, alone));
        await turns.enter(alone);
        say('running', 'starting');
        try {
          const results = await runScenario(
            runtime,
            scenario,
            { file, quick: options.quick, signal: options.signal, cases },
            {
              log: (line) => say('running', line),
              caseStarting: (info) => say('running', `case ${info.index + 1}/${info.total} "${info.name}"`),
              caseFinished: (info, { result }) => {
                if (result)
                  say('running', `case ${info.index + 1}/${info.total} "${result.name}": ${result.pass ? 'as predicted' : 'NOT as predicted'}`, true);
              },
            },
          );
          const written = await options.onResults(job.kernel, file, results, round);
          runs.push({ file: written, results });
          say(
            results.pass ? 'passed' : 'failed',
            `${results.pass ? 'PASS' : 'FAIL'} on ${results.environment.kernel}${skipped && options.caseName === undefined ? ` (${skipped} case(s) skipped: they need a program image)` : ''}`,
          );
        } catch (error) {
          if (options.signal.aborted) throw error;
          const message = (error as Error).message.split('\n')[0]!;
          failures.push({ kernel: job.kernel, scenario: label(scenario.name, round), error: message });
          say('broke', `BROKE: ${message}`);
        } finally {
          turns.leave(alone);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, jobs.length)) }, worker));
  return { runs, failures };
}

/** A case whose figures are timings: connect()'s cost, or how fast a churn went (the matrix compares its rate). */
function timesItself(client: { connectCost?: boolean; churn?: unknown }): boolean {
  return !!client.connectCost || !!client.churn;
}

function waitingFor(timed: boolean, alone: boolean): string {
  if (timed) return 'waiting to have the machine alone (it is timed: a neighbour would stretch its timings)';
  return alone ? 'waiting to have the machine alone (it reads host-wide memory, which a neighbour would add to)' : 'waiting for its turn';
}

/**
 * Whether a case judges the machine's slab growth: that figure is the case's only where no other run was alive
 * on its kernel meanwhile, and a neighbour that has not said where its hosts are counts (neighbours.ts).
 */
function readsHostWideMemory(scenario: Scenario, caseIndex: number): boolean {
  return [...(scenario.expect ?? []), ...(scenario.cases[caseIndex]!.expect ?? [])].some((e) => e.metric === 'memory.slabBytesPerConnection');
}

/** A scenario's own client or server program is an image built from a Dockerfile: only some runtimes can run those. */
function runnableCases(scenario: Scenario, runtime: Runtime, quick: boolean): number[] {
  return [...scenario.cases.keys()].filter((i) => {
    const merged = mergeCase(scenario, scenario.cases[i]!, quick);
    return runtime.can.programImages || !(merged.client.program?.dockerfile || merged.server.program?.dockerfile);
  });
}
