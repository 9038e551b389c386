/** `lab run <scenario>`: the scenario's cases as live tasks, then a table per case and the verdict. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Listr, PRESET_TIMER, PRESET_TIMESTAMP, type ListrTask } from 'listr2';
import { InputError, Interrupted } from '../../errors.ts';
import { renderResults } from '../../report/table.ts';
import { resultsToJson, type Results } from '../../results/results.ts';
import { type CaseRun, type FloodProgress } from '../../run/case-run.ts';
import { ScenarioRun } from '../../run/scenario-run.ts';
import { loadScenario } from '../../scenario/load.ts';
import { DockerRuntime } from '../../runtime/docker/docker-runtime.ts';
import { EXIT } from '../exit-codes.ts';
import { projectRoot } from '../project.ts';

export interface RunFlags {
  quick?: boolean;
  json?: string;
  case?: string;
}

export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const scenario = await loadScenario(file);
  const caseIndexes = selectCases(scenario.cases.map((c) => c.name), flags.case, file);
  const aborter = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (aborter.signal.aborted) return;
    process.stderr.write(`\nlab: ${signal}: stopping and removing what this run created...\n`);
    aborter.abort(signal);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const run = new ScenarioRun(new DockerRuntime(projectRoot), scenario, { file, quick: !!flags.quick, signal: aborter.signal });
  const tty = !!process.stdout.isTTY && !process.env.CI;
  try {
    await run.connect((line) => process.stdout.write(`lab: ${line}\n`));
    const tasks = new Listr(
      [
        { title: 'Images (built when missing or when their sources changed)', task: (_, task) => run.prepare((line) => (task.output = line)) },
        { title: 'Create the lab network (internal, no egress)', task: async (_, task) => {
          const network = await run.createNetwork();
          task.title = `Network ${network.name} ${network.subnet} (internal, no egress)`;
        } },
        ...caseIndexes.map((index) => caseTask(run, index, tty)),
      ],
      {
        renderer: tty ? 'default' : 'simple',
        rendererOptions: { collapseSubtasks: false, timer: PRESET_TIMER },
        fallbackRendererOptions: { timer: PRESET_TIMER, timestamp: PRESET_TIMESTAMP },
        fallbackRendererCondition: !tty,
        registerSignalListeners: false,
        exitOnError: true,
      },
    );
    await tasks.run();
  } catch (error) {
    if (aborter.signal.aborted) throw new Interrupted(aborter.signal.reason as NodeJS.Signals);
    throw error;
  } finally {
    const removed = await run.cleanup().catch(() => []);
    if (aborter.signal.aborted && removed.length) process.stderr.write(`lab: removed ${removed.join(', ')}\n`);
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  const results = run.results();
  if (caseIndexes.length !== scenario.cases.length) results.pass = results.cases.every((c) => c.pass);
  process.stdout.write(renderResults(results, tty) + '\n');
  const written = await writeResults(results, flags.json);
  process.stdout.write(`results: ${written.join(', ')}\n`);
  return results.pass ? EXIT.pass : EXIT.expectationFailed;
}

function selectCases(names: string[], wanted: string | undefined, file: string): number[] {
  if (wanted === undefined) return names.map((_, i) => i);
  const index = names.indexOf(wanted);
  if (index < 0) throw new InputError(file, '--case', `no case named "${wanted}" (cases: ${names.map((n) => `"${n}"`).join(', ')})`);
  return [index];
}

function caseTask(run: ScenarioRun, index: number, tty: boolean): ListrTask {
  const spec = run.scenario.cases[index]!;
  const total = run.scenario.cases.length;
  return {
    title: `Case ${index + 1}/${total}: ${spec.name}`,
    task: (_, parent) => {
      const caseRun = run.caseRun(index);
      let floodOutput = '';
      const phases = run.phasesOf(caseRun, progressReporter(caseRun, (text) => (floodOutput = text), tty));
      const teardown = phases.at(-1)!;
      const tasks: ListrTask[] = phases.map((phase) => ({
        title: phase.title,
        task: async (_, task) => {
          let shown = '';
          const show = () => {
            if (floodOutput && floodOutput !== shown) task.output = shown = floodOutput;
          };
          const ticker = phase.name === 'flood' ? setInterval(show, 250) : undefined;
          try {
            await phase.run();
          } catch (error) {
            // A failed phase still removes the case's hosts; the run's cleanup by label follows anyway.
            if (phase !== teardown) await teardown.run().catch(() => undefined);
            throw error;
          } finally {
            if (ticker) {
              clearInterval(ticker);
              show();
            }
          }
          if (phase.name === 'collect') {
            parent.title = `Case ${index + 1}/${total}: ${spec.name}: ${run.cases.at(-1)?.pass ? 'as predicted' : 'NOT as predicted'}`;
          }
        },
        ...(phase.name === 'flood' ? { rendererOptions: { outputBar: caseRun.plan.clients.length, persistentOutput: true } } : {}),
      }));
      return parent.newListr(tasks, { exitOnError: true });
    },
  };
}

/** Per client: established, in flight, rate over the last few seconds, errors. Every 5 s without a terminal. */
function progressReporter(caseRun: CaseRun, show: (text: string) => void, tty: boolean): (p: FloodProgress) => void {
  const RATE_WINDOW_MS = 3000;
  const history = new Map<string, Array<{ at: number; estab: number }>>();
  const latest = new Map<string, string>();
  let shownAt = 0;
  return ({ host, line }) => {
    const now = Date.now();
    const estab = line.established ?? 0;
    const samples = [...(history.get(host) ?? []), { at: now, estab }].filter((s) => now - s.at <= RATE_WINDOW_MS);
    history.set(host, samples);
    const first = samples[0]!;
    const rate = now > first.at ? ((estab - first.estab) * 1000) / (now - first.at) : 0;
    const errors = Object.entries({ ...line.errors, ...line.bind_errors }).map(([k, v]) => `${k} ${v}`).join(', ');
    const state = line.type === 'filled' ? 'filled' : `${line.inflight ?? 0} in flight, ${Math.round(rate)}/s`;
    latest.set(host, `${host}: ${estab} established, ${state}${errors ? `, ${errors}` : ''}`);
    if (!tty && now - shownAt < 5000 && line.type !== 'filled') return;
    shownAt = now;
    show(caseRun.plan.clients.map((c) => latest.get(c.name) ?? `${c.name}: starting`).join('\n'));
  };
}

async function writeResults(results: Results, jsonPath: string | undefined): Promise<string[]> {
  const defaultPath = join(projectRoot, 'results', `${results.scenario}-${results.runId}.json`);
  const paths = [defaultPath, ...(jsonPath ? [resolve(jsonPath)] : [])];
  for (const path of paths) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, resultsToJson(results));
  }
  return paths;
}
