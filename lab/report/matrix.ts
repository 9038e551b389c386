/**
 * The kernel matrix: the same scenarios on several kernels in one report. Verdicts per scenario and kernel,
 * the time each case took to fill, the cost of one connect() as the range fills (where clients timed it),
 * bytes per connection and slab object sizes (where cases measured memory), what a new namespace starts with on each kernel, and every expectation whose measured value or verdict
 * differs between kernels. Pure: built from results into one list of blocks, which matrix-markdown.ts and
 * matrix-html.ts render (matrix.md, matrix.html).
 */
import type { ComparedRun, MatrixFailure } from '../results/runs.ts';
import { connectFigure } from '../results/connect-cost.ts';
import type { CaseResult, ConnectCost, ExpectationResult, Results } from '../results/results.ts';
import { CONNECT_FIGURES, type ConnectFigure } from '../scenario/metrics.ts';
import { PARITY_STEP_MIN } from '../scenario/theory/connect-cost.ts';
import { compareRuns, type Comparison, type ComparisonRow } from './compare.ts';
import { formatRatio } from './connect-cost-chart.ts';
import { expectationVerdict, formatCount, formatSeconds, measuredFigure, predictionText, sysctlShortName } from './facts.ts';
import { caseIn, caseNames, fillTimeChart, serverEstabChart } from './matrix-charts.ts';
import { connectCostBlocks, connectCostRoundsBlocks } from './matrix-connect-cost.ts';
import { churnRateBlocks } from './matrix-churn.ts';
import { columnsByCpus, matrixColumn } from './matrix-columns.ts';
import { memoryByKernelBlocks } from './matrix-memory.ts';
import { table } from './table.ts';
import type { Matrix, MatrixBlock } from './matrix-model.ts';

export type { Matrix, MatrixBlock } from './matrix-model.ts';

export function buildMatrix(runs: readonly ComparedRun[], failures: readonly MatrixFailure[] = []): Matrix {
  const byCpus = columnsByCpus(runs);
  const column = (r: ComparedRun) => matrixColumn(r.results, byCpus);
  const kernels = [...new Set(runs.map(column))].sort(compareReleases);
  const names = [...new Set(runs.map((r) => r.results.scenario))].sort();
  const scenarios = names.map((name) => {
    const own = runs.filter((r) => r.results.scenario === name);
    const rounds = kernels.map((k) => own.filter((r) => column(r) === k));
    const byKernel = rounds.map((list) => list[0]);
    const present = byKernel.filter((r): r is ComparedRun => !!r);
    return { name, claim: present[0]!.results.claim, runs: byKernel, rounds, comparison: compareRuns(present) };
  });
  return {
    kernels,
    byCpus,
    scenarios,
    failures: [...failures],
    pass: failures.length === 0 && runs.every((r) => r.results.pass),
    kernelsDiffer: scenarios.some((s) => s.comparison.rows.some((row) => row.measuredDiffer || row.verdictsDiffer)),
  };
}

/** "5.10.0-35-amd64" before "6.1.0-28-amd64" before "6.12.48+deb13-amd64"; "…, 1 vCPU" before "…, 2 vCPU". */
export function compareReleases(a: string, b: string): number {
  const parts = (s: string) => (/^(\d+)\.(\d+)(?:\.(\d+))?/.exec(s) ?? []).slice(1).map((p) => Number(p ?? 0));
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return a.localeCompare(b, 'en', { numeric: true });
}

type MatrixScenario = Matrix['scenarios'][number];

/** The report, top to bottom, as blocks that matrix.md and matrix.html each render in their own way. */
export function matrixBlocks(matrix: Matrix): MatrixBlock[] {
  return [
    { text: overallLine(matrix) },
    { heading: 'Verdicts', level: 2 },
    { table: verdictTable(matrix) },
    ...brokenRunBlocks(matrix),
    ...fillTimeBlocks(matrix),
    ...upgradeBlocks(matrix),
    ...namespaceDefaultBlocks(matrix),
    ...kernelsDifferBlocks(matrix),
    ...matrix.scenarios.flatMap((s) => everyExpectationBlocks(s, matrix.kernels)),
  ];
}

/**
 * What a kernel upgrade changes, in figures: connect()'s step at 50% per kernel (over rounds where there were
 * several), bytes per connection, and the churn rate against 6.12's. The nightly publishes these on their own.
 */
export function upgradeBlocks(matrix: Matrix): MatrixBlock[] {
  return [...connectCostBlocks(matrix), ...connectCostRoundsBlocks(matrix), ...memoryByKernelBlocks(matrix), ...churnRateBlocks(matrix)];
}

function verdictTable(matrix: Matrix): string[][] {
  return [
    ['scenario', ...matrix.kernels, 'kernels differ'],
    ...matrix.scenarios.map((s) => [s.name, ...s.rounds.map((runs) => roundsVerdict(runs)), differMark(s.comparison)]),
  ];
}

/** The first round's verdict, and with several rounds how many failed: "pass 1/1 (5 rounds, 2 FAIL)". */
function roundsVerdict(runs: readonly ComparedRun[]): string {
  if (!runs.length) return '-';
  const first = runVerdict(runs[0]!.results);
  if (runs.length === 1) return first;
  const failed = runs.filter((r) => !r.results.pass).length;
  return `${first} (${runs.length} rounds, ${failed ? `${failed} FAIL` : 'all pass'})`;
}

function brokenRunBlocks(matrix: Matrix): MatrixBlock[] {
  if (!matrix.failures.length) return [];
  return [
    { heading: 'Runs that broke', level: 2 },
    { table: [['kernel', 'scenario', 'error'], ...matrix.failures.map((f) => [f.kernel, f.scenario, f.error])] },
  ];
}

function fillTimeBlocks(matrix: Matrix): MatrixBlock[] {
  const k = matrix.kernels;
  return [
    { heading: 'Time to fill (flood phase, seconds)', level: 2 },
    {
      text: 'Wall time from the first connect() to the last client reporting its fill, per case. VMs run under software emulation unless KVM was used: compare kernels with each other, not with the host.',
    },
    {
      table: [
        ['scenario', 'case', ...k],
        ...matrix.scenarios.flatMap((s) => caseNames(s.runs).map((c) => [s.name, c, ...s.runs.map((r) => floodSeconds(r?.results, c))])),
      ],
    },
    ...matrix.scenarios.map((s) => ({ chart: fillTimeChart(s, k) })),
  ];
}

/** The sysctls a new namespace starts with, per kernel, where runs read them. */
function namespaceDefaultBlocks(matrix: Matrix): MatrixBlock[] {
  const k = matrix.kernels;
  const defaults = [...new Set(matrix.scenarios.flatMap((s) => s.runs.flatMap((r) => Object.keys(r?.results.environment.namespaceDefaults ?? {}))))];
  if (!defaults.length) return [];
  const kernelDefaults = k.map(
    (column) =>
      matrix.scenarios.flatMap((s) => s.runs).find((r) => r && matrixColumn(r.results, matrix.byCpus) === column)?.results.environment
        .namespaceDefaults ?? {},
  );
  return [
    { heading: 'What a new network namespace starts with', level: 2 },
    { table: [['sysctl', ...k], ...defaults.map((key) => [sysctlShortName(key), ...kernelDefaults.map((d) => d[key] ?? '-')])] },
  ];
}

/** Every expectation whose measured value or verdict differs between kernels, across scenarios. */
function kernelsDifferBlocks(matrix: Matrix): MatrixBlock[] {
  const heading: MatrixBlock = { heading: 'Where kernels differ', level: 2 };
  const differing = matrix.scenarios.flatMap((s) =>
    s.comparison.rows.filter((row) => row.measuredDiffer || row.verdictsDiffer).map((row) => ({ s, row })),
  );
  if (!differing.length) return [heading, { text: 'Nowhere: every expectation measured the same on every kernel.' }];
  return [
    heading,
    {
      table: [
        ['scenario', 'case', 'expectation', 'host', ...matrix.kernels],
        ...differing.map(({ s, row }) => [
          s.name,
          row.caseName,
          row.claim,
          row.host,
          ...s.runs.map((r) => {
            const e = expectationIn(r, row);
            return e ? `${measuredFigure(e)} (${predictionText(e.predicted)}) ${expectationVerdict(e)}` : '-';
          }),
        ]),
      ],
    },
  ];
}

function everyExpectationBlocks(s: MatrixScenario, kernels: string[]): MatrixBlock[] {
  return [
    { heading: `${s.name}: every expectation`, level: 3 },
    { text: s.claim },
    { chart: serverEstabChart(s, kernels) },
    {
      table: [
        ['case', 'expectation', 'host', ...kernels, ''],
        ...s.comparison.rows.map((row) => [
          row.caseName,
          row.claim,
          row.host,
          ...s.runs.map((r) => {
            const e = expectationIn(r, row);
            return e ? `${measuredFigure(e)} ${expectationVerdict(e)}` : '-';
          }),
          row.verdictsDiffer ? 'VERDICT DIFFERS' : row.measuredDiffer ? 'differs' : '',
        ]),
      ],
    },
  ];
}

/** A run's result for one row of the comparison (the run may lack the case, or be missing altogether). */
function expectationIn(run: ComparedRun | undefined, row: ComparisonRow): ExpectationResult | undefined {
  return caseIn(run, row.caseName)?.expectations.find((e) => e.claim === row.claim && e.host === row.host);
}

function overallLine(matrix: Matrix): string {
  const runs = matrix.scenarios.reduce((n, s) => n + s.runs.filter(Boolean).length, 0);
  const verdict = matrix.pass ? 'PASS: every expectation held on every kernel' : 'FAIL: an expectation failed or a run broke';
  return `${verdict} (${matrix.scenarios.length} scenario(s) x ${matrix.kernels.length} kernel(s), ${runs} run(s)${matrix.failures.length ? `, ${matrix.failures.length} broke` : ''}); kernels ${matrix.kernelsDiffer ? 'differ (see below)' : 'measured the same'}.`;
}

function runVerdict(results: Results): string {
  const passed = results.cases.filter((c) => c.pass).length;
  return `${results.pass ? 'pass' : 'FAIL'} ${passed}/${results.cases.length}`;
}

function differMark(c: Comparison): string {
  const verdicts = c.rows.filter((r) => r.verdictsDiffer).length;
  const measured = c.rows.filter((r) => r.measuredDiffer).length;
  if (c.runs.length < 2) return '-';
  return verdicts ? `verdicts in ${verdicts}` : measured ? `measured in ${measured}` : 'no';
}

function floodSeconds(results: Results | undefined, caseName: string): string {
  const ms = results?.cases.find((c) => c.name === caseName)?.phases.flood;
  return ms === undefined ? '-' : formatSeconds(ms).replace(/ s$/, '');
}

/** The terminal's view: the verdict line and the verdicts per scenario and kernel. */
export function renderMatrixSummary(matrix: Matrix): string {
  return [overallLine(matrix), '', ...table(verdictTable(matrix))].join('\n');
}
