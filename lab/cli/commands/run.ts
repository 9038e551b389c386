/** `lab run <scenario>`: flags → the run's API, with the terminal view subscribed; then a table per case and the verdict. */
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { InputError } from '../../errors.ts';
import { unlessAborted } from '../../abort.ts';
import { renderResults } from '../../report/table.ts';
import { runSources, writeViews } from '../../report/write.ts';
import type { Results } from '../../results/results.ts';
import type { CaseInfo, RunEvents } from '../../run/events.ts';
import { allOf } from '../../run/events.ts';
import { runScenario } from '../../run/scenario-run.ts';
import { selectRuntime } from '../../runtime/select.ts';
import { findScenario, loadScenario } from '../../scenario/load.ts';
import { FAMILIES, type Family } from '../../scenario/theory/context.ts';
import { EXIT } from '../exit-codes.ts';
import { projectRoot } from '../project.ts';
import { terminalView } from '../run-view.ts';
import { checkOutputPaths, type OutputPath } from '../output-paths.ts';
import { interruptible, type Interrupt } from '../signals.ts';

export interface RunFlags {
  quick?: boolean;
  json?: string;
  case?: string;
  step?: boolean;
  report?: string;
  raiseConntrack?: boolean;
  notrack?: boolean;
  raiseFileMax?: boolean;
  untilMemoryFloor?: boolean;
  runtime?: string;
  swarm?: boolean;
  kernel?: string;
  family?: string;
  junit?: string;
}

export async function runCommand(nameOrFile: string, flags: RunFlags): Promise<number> {
  const file = findScenario(nameOrFile);
  checkOutputPaths(outputsOf(file, flags));
  if (flags.swarm && flags.runtime) throw new InputError('--swarm', undefined, `is the swarm runtime: not with --runtime ${flags.runtime}`);
  const runtime = selectRuntime({ runtime: flags.swarm ? 'swarm' : flags.runtime, kernel: flags.kernel }, projectRoot);
  const family = familyOf(flags.family);
  const scenario = await loadScenario(file);
  const cases = selectCases(
    scenario.cases.map((c) => c.name),
    flags.case,
    file,
  );
  const tty = !!process.stdout.isTTY && !process.env.CI;
  let leftBehind = false;
  const teardown: RunEvents = { closed: (_removed, _interrupted, left) => void (leftBehind = !!left) };
  const results = await interruptible('stopping and removing what this run created', (signal, interrupt) => {
    const views: RunEvents[] = [terminalView(tty), teardown, ...(flags.step ? [stepPauses(signal, interrupt)] : [])];
    return runScenario(
      runtime,
      scenario,
      {
        file,
        quick: !!flags.quick,
        signal,
        cases,
        raiseConntrack: !!flags.raiseConntrack,
        notrack: !!flags.notrack,
        raiseFileMax: !!flags.raiseFileMax,
        untilMemoryFloor: !!flags.untilMemoryFloor,
        ...(family && { family }),
      },
      allOf(...views),
    );
  });
  process.stdout.write(renderResults(results, tty) + '\n');
  const written = await writeResults(results, flags);
  process.stdout.write(`results: ${written.join(', ')}\n`);
  // Objects of the run still there (the view has named them): the lab broke its promise, whatever the verdict.
  if (leftBehind) return EXIT.runtime;
  return results.pass ? EXIT.pass : EXIT.expectationFailed;
}

/** --family, checked: one of the families a case can say. */
function familyOf(flag: string | undefined): Family | undefined {
  if (flag === undefined) return undefined;
  const family = FAMILIES.find((f) => f === flag);
  if (!family) throw new InputError('--family', undefined, `must be one of ${FAMILIES.join(', ')}, not "${flag}"`);
  return family;
}

/**
 * --step: says what the next case will show, then waits for Enter (or goes on at once without a terminal).
 * Ctrl-C there (raw mode: no signal comes) and Ctrl-D (stdin closed) interrupt the run like SIGINT.
 */
function stepPauses(signal: AbortSignal, interrupt: Interrupt): RunEvents {
  return {
    async caseStarting(info: CaseInfo) {
      const { plan } = info;
      const range = plan.clients[0]?.sysctls['net.ipv4.ip_local_port_range'];
      process.stdout.write(`\nNext: case ${info.index + 1}/${info.total}: ${info.name}\n`);
      if (info.about) process.stdout.write(`  ${info.about}\n`);
      process.stdout.write(
        `  ${plan.clients.length} client(s)${range ? ` with port range ${range}` : ''} against ${plan.server.ip} port(s) ${plan.server.ports.join(', ')}\n`,
      );
      if (!process.stdin.isTTY) return;
      process.stdout.write('  Press Enter to start it. ');
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      let answered = false;
      try {
        await unlessAborted(
          new Promise<void>((resolve) => {
            rl.once('line', () => ((answered = true), resolve()));
            rl.on('SIGINT', () => interrupt('SIGINT'));
            rl.once('close', () => answered || interrupt('end of input at the --step prompt'));
          }),
          signal,
        );
      } finally {
        answered = true;
        rl.close();
      }
    },
  };
}

function selectCases(names: string[], wanted: string | undefined, file: string): number[] {
  if (wanted === undefined) return names.map((_, i) => i);
  const index = names.indexOf(wanted);
  if (index < 0) throw new InputError(file, '--case', `no case named "${wanted}" (cases: ${names.map((n) => `"${n}"`).join(', ')})`);
  return [index];
}

/** Where the run will write (checked before it starts): --report or its default folder, and --json. */
function outputsOf(file: string, flags: RunFlags): OutputPath[] {
  const report: OutputPath = flags.report
    ? { flag: '--report', path: flags.report, kind: 'dir' }
    : { flag: '--report', path: join(process.cwd(), 'results'), kind: 'dir', note: 'where results go by default' };
  const scenarioFile = [{ path: file, what: 'the scenario file' }];
  const json: OutputPath[] = flags.json ? [{ flag: '--json', path: flags.json, kind: 'file', inputs: scenarioFile }] : [];
  const junit: OutputPath[] = flags.junit ? [{ flag: '--junit', path: flags.junit, kind: 'file', inputs: scenarioFile }] : [];
  return [report, ...json, ...junit];
}

/**
 * The run's views: into --report <dir>, else ./results/<scenario>-<run id>/ (where the user ran the lab);
 * --json adds a copy of the results, --junit the expectations as JUnit test cases.
 */
async function writeResults(results: Results, flags: RunFlags): Promise<string[]> {
  const folder = resolve(flags.report ?? join(process.cwd(), 'results', `${results.scenario}-${results.runId}`));
  return writeViews(await runSources(results), { folder, named: { results: flags.json, junit: flags.junit } });
}
