/** `lab run <scenario>`: flags → the run's API, with the terminal view subscribed; then a table per case and the verdict. */
import { mkdir, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { dirname, join, resolve } from 'node:path';
import { InputError } from '../../errors.ts';
import { unlessAborted } from '../../abort.ts';
import { renderResults } from '../../report/table.ts';
import { writeReport } from '../../report/write.ts';
import { resultsToJson, type Results } from '../../results/results.ts';
import type { CaseInfo, RunEvents } from '../../run/events.ts';
import { allOf } from '../../run/events.ts';
import { runScenario } from '../../run/scenario-run.ts';
import { selectRuntime } from '../../runtime/select.ts';
import { loadScenario } from '../../scenario/load.ts';
import { EXIT } from '../exit-codes.ts';
import { projectRoot } from '../project.ts';
import { terminalView } from '../run-view.ts';
import { interruptible } from '../signals.ts';

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
  const cases = selectCases(scenario.cases.map((c) => c.name), flags.case, file);
  const tty = !!process.stdout.isTTY && !process.env.CI;
  const results = await interruptible('stopping and removing what this run created', (signal) => {
    const views: RunEvents[] = [terminalView(tty), ...(flags.step ? [stepPauses(signal)] : [])];
    return runScenario(runtime, scenario, { file, quick: !!flags.quick, signal, cases, raiseConntrack: !!flags.raiseConntrack }, allOf(...views));
  });
  process.stdout.write(renderResults(results, tty) + '\n');
  const written = await writeResults(results, flags);
  process.stdout.write(`results: ${written.join(', ')}\n`);
  return results.pass ? EXIT.pass : EXIT.expectationFailed;
}

/** --step: says what the next case will show, then waits for Enter (or goes on at once without a terminal). */
function stepPauses(signal: AbortSignal): RunEvents {
  return {
    async caseStarting(info: CaseInfo) {
      const { plan } = info;
      const range = plan.clients[0]?.sysctls['net.ipv4.ip_local_port_range'];
      process.stdout.write(`\nNext: case ${info.index + 1}/${info.total}: ${info.name}\n`);
      if (info.about) process.stdout.write(`  ${info.about}\n`);
      process.stdout.write(`  ${plan.clients.length} client(s)${range ? ` with port range ${range}` : ''} against ${plan.server.ip} port(s) ${plan.server.ports.join(', ')}\n`);
      if (!process.stdin.isTTY) return;
      process.stdout.write('  Press Enter to start it. ');
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        await unlessAborted(new Promise<void>((resolve) => rl.once('line', () => resolve())), signal);
      } finally {
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
