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
import { writeReport } from '../../report/write.ts';
import { unlessAborted } from '../../run/abort.ts';
import { createInterface } from 'node:readline';
import { selectRuntime } from '../../runtime/select.ts';
import { EXIT } from '../exit-codes.ts';
import { projectRoot } from '../project.ts';

export interface RunFlags {
  quick?: boolean;
  json?: string;
  case?: string;
  step?: boolean;
  report?: string;
  raiseConntrack?: boolean;
  runtime?: string;
  kernel?: string;
}

export async function runCommand(file: string, flags: RunFlags): Promise<number> {
  const runtime = selectRuntime({ runtime: flags.runtime, kernel: flags.kernel }, projectRoot);
  const scenario = await loadScenario(file);
  const caseIndexes = selectCases(scenario.cases.map((c) => c.name), flags.case, file);
  const aborter = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (aborter.signal.aborted) return;
    process.stderr.write(`\nlab: ${signal}: stopping and removing what this run created...\n`);
    aborter.abort(signal);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  const run = new ScenarioRun(runtime, scenario, { file, quick: !!flags.quick, signal: aborter.signal, cases: caseIndexes, raiseConntrack: !!flags.raiseConntrack });
  const tty = !!process.stdout.isTTY && !process.env.CI;
  const listrOptions = {
    renderer: tty ? 'default' : 'simple',
    rendererOptions: { collapseSubtasks: false, timer: PRESET_TIMER },
    fallbackRendererOptions: { timer: PRESET_TIMER, timestamp: PRESET_TIMESTAMP },
    fallbackRendererCondition: !tty,
    registerSignalListeners: false,
    exitOnError: true,
  } as const;
  try {
    await run.connect((line) => process.stdout.write(`lab: ${line}\n`));
    await new Listr(
      [
        { title: 'Images (built when missing or when their sources changed)', task: (_, task) => run.prepare((line) => (task.output = line)) },
        { title: 'Create the lab network (internal, no egress)', task: async (_, task) => {
          const network = await run.createNetwork();
          task.title = `Network ${network.name} ${network.subnet} (internal, no egress)`;
        } },
      ],
      listrOptions,
    ).run();
    for (const index of caseIndexes) {
      if (flags.step) await pauseBefore(run, index, aborter.signal);
      await new Listr([caseTask(run, index, tty)], listrOptions).run();
    }
  } catch (error) {
    if (aborter.signal.aborted) throw new Interrupted(aborter.signal.reason as NodeJS.Signals);
    throw error;
  } finally {
    const removed = await run.cleanup().catch(() => []);
    if (aborter.signal.aborted && removed.length) process.stderr.write(`lab: removed ${removed.join(', ')}\n`);
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
  const results = run.results();
  process.stdout.write(renderResults(results, tty) + '\n');
  const written = await writeResults(results, flags);
  process.stdout.write(`results: ${written.join(', ')}\n`);
  return results.pass ? EXIT.pass : EXIT.expectationFailed;
}

/** --step: says what the next case will show, then waits for Enter (or goes on at once without a terminal). */
async function pauseBefore(run: ScenarioRun, index: number, signal: AbortSignal): Promise<void> {
  const spec = run.scenario.cases[index]!;
  const plan = run.caseRun(index).plan;
  const range = plan.clients[0]?.sysctls['net.ipv4.ip_local_port_range'];
  process.stdout.write(`\nNext: case ${index + 1}/${run.scenario.cases.length}: ${spec.name}\n`);
  if (spec.about) process.stdout.write(`  ${spec.about}\n`);
  process.stdout.write(`  ${plan.clients.length} client(s)${range ? ` with port range ${range}` : ''} against ${plan.server.ip} port(s) ${plan.server.ports.join(', ')}\n`);
  if (!process.stdin.isTTY) return;
  process.stdout.write('  Press Enter to start it. ');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    await unlessAborted(new Promise<void>((resolve) => rl.once('line', () => resolve())), signal);
  } finally {
    rl.close();
  }
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
        ...(phase.name === 'flood' ? { rendererOptions: { outputBar: caseRun.plan.clients.length + 1, persistentOutput: true } } : {}),
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
  let serverText = '';
  return ({ host, line, kernel }) => {
    const now = Date.now();
    if (kernel) {
      // The kernel's own count: shown for the server; a client's program line already says its count.
      if (host !== caseRun.plan.server.name) return;
      serverText = `${host}: ${kernel.estab} established (ss -s inside it)`;
    } else {
      const estab = line.established ?? 0;
      const samples = [...(history.get(host) ?? []), { at: now, estab }].filter((s) => now - s.at <= RATE_WINDOW_MS);
      history.set(host, samples);
      const first = samples[0]!;
      const rate = now > first.at ? ((estab - first.estab) * 1000) / (now - first.at) : 0;
      // bind() failures apart from connect()'s, as the reports show them: the same errno in both is two figures.
      const errors = [...Object.entries(line.errors ?? {}), ...Object.entries(line.bind_errors ?? {}).map(([k, v]): [string, number] => [`bind ${k}`, v])].map(([k, v]) => `${k} ${v}`).join(', ');
      const state = line.type === 'filled' ? 'filled' : `${line.inflight ?? 0} in flight, ${Math.round(rate)}/s`;
      latest.set(host, `${host}: ${estab} established, ${state}${errors ? `, ${errors}` : ''}`);
    }
    if (!tty && now - shownAt < 5000 && line?.type !== 'filled') return;
    shownAt = now;
    const clients = caseRun.plan.clients.map((c) => latest.get(c.name) ?? `${c.name}: starting`);
    show([...clients, ...(serverText ? [serverText] : [])].join('\n'));
  };
}

/** Results JSON and reports: into --report <dir>, else results/<scenario>-<run id>/; --json adds a copy. */
async function writeResults(results: Results, flags: RunFlags): Promise<string[]> {
  const dir = resolve(flags.report ?? join(projectRoot, 'results', `${results.scenario}-${results.runId}`));
  const written = await writeReport(results, dir);
  if (flags.json) {
    await mkdir(dirname(resolve(flags.json)), { recursive: true });
    await writeFile(resolve(flags.json), resultsToJson(results));
    written.push(resolve(flags.json));
  }
  return written;
}
