/**
 * `lab matrix <scenarios...> --kernels 5.10,6.1,6.12,host`: the scenarios on each kernel, one results file
 * per run under <out>/<kernel>/, then one combined report (matrix.md, matrix.html) marking where kernels
 * differ. `lab matrix --from <dir>` renders that report from results files already there (CI's last job).
 */
import { readdir, mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { InputError } from '../../errors.ts';
import { interruptible } from '../signals.ts';
import { matrixView } from '../matrix-view.ts';
import { buildMatrix, renderMatrixSummary } from '../../report/matrix.ts';
import type { ComparedRun, MatrixFailure } from '../../results/runs.ts';
import { readResults } from '../../report/read.ts';
import { resultsToJson } from '../../results/results.ts';
import { runMatrix, type MatrixJob } from '../../run/matrix-run.ts';
import { findScenario, loadScenario } from '../../scenario/load.ts';
import { writeViews } from '../../report/write.ts';
import { namedKernels, selectRuntime } from '../../runtime/select.ts';
import { EXIT } from '../exit-codes.ts';
import { checkOutputPath } from '../output-paths.ts';
import { projectRoot } from '../project.ts';

export interface MatrixFlags {
  kernels?: string;
  quick?: boolean;
  out?: string;
  from?: string;
  parallel?: number;
  rounds?: number;
  case?: string;
  cpus?: string;
  junit?: string;
}

export async function matrixCommand(files: string[], flags: MatrixFlags): Promise<number> {
  const out = flags.out ?? (flags.from ? flags.from : `results/matrix-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  checkOutputPath({
    flag: '--out',
    path: out,
    kind: 'dir',
    ...(flags.out ? {} : { note: flags.from ? 'the --from folder, the default' : 'the default' }),
  });
  if (flags.junit) checkOutputPath({ flag: '--junit', path: flags.junit, kind: 'file' });
  if (flags.from) {
    if (files.length) throw new InputError('--from', undefined, 'renders results already there: give no scenarios with it');
    const runs = await readAll(flags.from);
    if (!runs.length) throw new InputError(flags.from, undefined, 'no results JSON files under it');
    return writeMatrix(runs, [], out, flags.junit);
  }
  if (!files.length) throw new InputError('lab matrix', undefined, 'which scenarios? (lab matrix scenarios/*.ts --kernels 6.1,host)');
  const kernels = kernelList(flags.kernels ?? '');
  if (!kernels.length) throw new InputError('--kernels', undefined, 'needs a list, such as 5.10,6.1,6.12,host');
  // Bad input stops here, before anything starts: every scenario loads, every kernel is one the lab knows.
  const jobs = matrixJobs(kernels, cpusList(flags.cpus));
  const scenarios = await Promise.all(files.map(findScenario).map(async (file) => ({ file, scenario: await loadScenario(file) })));
  const parallel = flags.parallel ?? availableParallelism();
  if (!Number.isInteger(parallel) || parallel < 1) throw new InputError('--parallel', undefined, 'must be a whole number of at least 1');
  const rounds = flags.rounds ?? 1;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > MOST_ROUNDS)
    throw new InputError('--rounds', undefined, `must be a whole number from 1 to ${MOST_ROUNDS}`);
  if (flags.case !== undefined)
    for (const { file, scenario } of scenarios)
      if (!scenario.cases.some((c) => c.name === flags.case))
        throw new InputError(file, '--case', `no case named "${flags.case}" (cases: ${scenario.cases.map((c) => `"${c.name}"`).join(', ')})`);

  const outcome = await interruptible('stopping every run and removing what they created', (signal) =>
    runMatrix(scenarios, jobs, {
      quick: !!flags.quick,
      parallel,
      rounds,
      ...(flags.case !== undefined && { caseName: flags.case }),
      signal,
      onState: matrixView(!!process.stdout.isTTY && !process.env.CI),
      onResults: async (kernel, file, results, round) => {
        const dir = join(out, kernel);
        await mkdir(dir, { recursive: true });
        const path = join(dir, `${basename(file).replace(/\.[cm]?[jt]s$/, '')}${rounds > 1 ? `.round-${round}` : ''}.json`);
        await writeFile(path, resultsToJson(results));
        return path;
      },
    }),
  );
  if (!outcome.runs.length) {
    process.stderr.write(`lab: no run finished (${outcome.failures.map((f) => `${f.kernel}: ${f.error}`).join('; ')})\n`);
    return EXIT.runtime;
  }
  return writeMatrix(outcome.runs, outcome.failures, out, flags.junit);
}

async function writeMatrix(runs: ComparedRun[], failures: MatrixFailure[], out: string, junit: string | undefined): Promise<number> {
  const matrix = buildMatrix(runs, failures);
  const written = await writeViews({ matrix, runs: runs.map((r) => r.results) }, { folder: out, named: { junit } });
  process.stdout.write(`\n${renderMatrixSummary(matrix)}\nmatrix: ${written.join(', ')}\n`);
  if (failures.length) return EXIT.runtime;
  return matrix.pass ? EXIT.pass : EXIT.expectationFailed;
}

/** Every results JSON under a folder (CI downloads one folder per kernel). */
async function readAll(dir: string): Promise<ComparedRun[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => {
    throw new InputError(dir, undefined, 'no such folder');
  });
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
  return Promise.all(files.map(async (file) => ({ file, results: await readResults(file) })));
}

/** More rounds than this is a typo: each one is a full run of every scenario on every kernel. */
const MOST_ROUNDS = 50;

/**
 * One job per kernel and VM size: with --cpus every VM kernel once per count, its results under
 * "<kernel>-<n>vcpu"; host runs once on this machine's own cores. Each is checked before anything starts.
 */
export function matrixJobs(kernels: readonly string[], cpus: readonly number[] | undefined): MatrixJob[] {
  return kernels.flatMap((kernel) =>
    (kernel === 'host' || !cpus ? [undefined] : cpus).map((n) => {
      const choice = { kernel, ...(n !== undefined && { cpus: n }) };
      selectRuntime(choice, projectRoot, '--kernels');
      return { kernel: n === undefined ? kernel : `${kernel}-${n}vcpu`, runtime: () => selectRuntime(choice, projectRoot) };
    }),
  );
}

/** --cpus: whole numbers, comma-separated ("1,2"); left out, each runtime's usual. */
export function cpusList(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const counts = text.split(',').map((c) => c.trim());
  if (!counts.length || counts.some((c) => !/^[1-9]\d*$/.test(c)))
    throw new InputError('--cpus', undefined, `takes whole numbers of at least 1, comma-separated (1,2), not "${text}"`);
  return [...new Set(counts.map(Number))];
}

/** --kernels: names, paths and 'host', comma-separated; 'all' is every kernel a runtime knows by name, and this machine's. */
export function kernelList(text: string): string[] {
  const given = text
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  return [...new Set(given.flatMap((k) => (k === 'all' ? [...namedKernels(), 'host'] : [k])))];
}
