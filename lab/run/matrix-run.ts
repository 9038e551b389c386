/**
 * Runs scenarios on several kernels: one job per kernel (its scenarios one after another), jobs in parallel
 * as the machine's cores allow (each VM is one emulated CPU). A run that breaks is recorded and the others
 * go on; the caller renders the matrix from what came back.
 */
import type { ComparedRun } from '../report/compare.ts';
import type { MatrixFailure } from '../report/matrix.ts';
import type { Results } from '../results/results.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { mergeCase } from '../plan/plan.ts';
import type { Scenario } from '../scenario/types.ts';
import { ScenarioRun } from './scenario-run.ts';

export interface MatrixJob {
  kernel: string;
  runtime: () => Runtime;
}

export interface MatrixOptions {
  quick: boolean;
  parallel: number;
  signal: AbortSignal;
  /** Called with each finished run, so results are on disk before the matrix ends. */
  onResults(kernel: string, file: string, results: Results): Promise<string>;
  log(kernel: string, line: string): void;
}

export async function runMatrix(
  scenarios: ReadonlyArray<{ file: string; scenario: Scenario }>,
  jobs: readonly MatrixJob[],
  options: MatrixOptions,
): Promise<{ runs: ComparedRun[]; failures: MatrixFailure[] }> {
  const runs: ComparedRun[] = [];
  const failures: MatrixFailure[] = [];
  const queue = [...jobs];
  const worker = async () => {
    for (let job = queue.shift(); job && !options.signal.aborted; job = queue.shift()) {
      for (const { file, scenario } of scenarios) {
        if (options.signal.aborted) break;
        const runtime = job.runtime();
        const cases = runnableCases(scenario, runtime, options.quick);
        const skipped = scenario.cases.length - cases.length;
        if (!cases.length) {
          options.log(job.kernel, `${scenario.name}: skipped (every case needs the docker runtime)`);
          continue;
        }
        try {
          const results = await runOne(runtime, scenario, file, cases, options, (line) => options.log(job!.kernel, `${scenario.name}: ${line}`));
          const written = await options.onResults(job.kernel, file, results);
          runs.push({ file: written, results });
          options.log(job.kernel, `${scenario.name}: ${results.pass ? 'PASS' : 'FAIL'} on ${results.environment.kernel}${skipped ? ` (${skipped} case(s) skipped: they need the docker runtime)` : ''}`);
        } catch (error) {
          if (options.signal.aborted) throw error;
          const message = (error as Error).message.split('\n')[0]!;
          failures.push({ kernel: job.kernel, scenario: scenario.name, error: message });
          options.log(job.kernel, `${scenario.name}: BROKE: ${message}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.parallel, jobs.length)) }, worker));
  return { runs, failures };
}

async function runOne(runtime: Runtime, scenario: Scenario, file: string, cases: number[], options: MatrixOptions, log: (line: string) => void): Promise<Results> {
  const run = new ScenarioRun(runtime, scenario, { file, quick: options.quick, signal: options.signal, cases });
  try {
    await run.prepare(log);
    await run.createNetwork();
    for (const index of cases) {
      const result = await run.runCase(index);
      log(`case ${index + 1}/${scenario.cases.length} "${result.name}": ${result.pass ? 'as predicted' : 'NOT as predicted'}`);
    }
    return run.results();
  } finally {
    await run.cleanup();
  }
}

/** A scenario's own client program is an image built from a Dockerfile: only the docker runtime has those. */
function runnableCases(scenario: Scenario, runtime: Runtime, quick: boolean): number[] {
  return [...scenario.cases.keys()].filter((i) => runtime.name === 'docker' || !mergeCase(scenario, scenario.cases[i]!, quick).client.program?.dockerfile);
}
