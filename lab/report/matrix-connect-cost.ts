/**
 * The matrix's cost of one connect() as the range fills, for each case whose client timed it: a curve per
 * kernel and the figures per kernel; with several rounds per kernel (lab matrix --rounds), each figure's
 * median and spread over them, and in how many rounds the cost stepped up at 50%.
 */
import type { ComparedRun } from '../results/runs.ts';
import { connectFigure } from '../results/connect-cost.ts';
import type { CaseResult, ConnectCost } from '../results/results.ts';
import { CONNECT_FIGURES, type ConnectFigure } from '../scenario/metrics.ts';
import { PARITY_STEP_MIN } from '../scenario/theory/connect-cost.ts';
import { formatRatio } from './connect-cost-chart.ts';
import { expectationVerdict, formatCount } from './facts.ts';
import type { Matrix, MatrixBlock } from './matrix-model.ts';
import { caseConnectCost, caseIn, caseNames, connectCostChart } from './matrix-charts.ts';

const COST_COLUMNS: Record<ConnectFigure, string> = { sparseUs: 'sparse µs', at10: '×10%', at50: '×50%', at90: '×90%', at99: '×99%' };
/**
 * A step at 50% in use: connect() costs at least the theory's least step, against the almost empty range, both
 * just past 50% and at 90% (one window alone can fall into a fast or slow mode).
 */
const STEP = { column: 'step at 50%', after: ['at50', 'at90'], factor: PARITY_STEP_MIN } as const;

/** Per case whose client timed connect() on some kernel: its curve per kernel, and the figures per kernel. */
export function connectCostBlocks(matrix: Matrix): MatrixBlock[] {
  const timed = matrix.scenarios.flatMap((s) =>
    caseNames(s.runs)
      .map((caseName, caseIndex) => ({ s, caseName, caseIndex }))
      .filter(({ s, caseName }) => s.runs.some((r) => caseConnectCost(caseIn(r, caseName)))),
  );
  if (!timed.length) return [];
  const header = ['kernel', ...CONNECT_FIGURES.map((f) => COST_COLUMNS[f]), STEP.column];
  return [
    { heading: 'The cost of one connect() as the range fills', level: 2 },
    {
      text: `Each figure is the median time of one connect() in its window of the range in use: sparse µs while less than half the range is in use, the others as multiples of it in the same run. Under emulation only these ratios, not the µs, compare between kernels. '${STEP.column}': yes where ${STEP.after.map((f) => COST_COLUMNS[f]).join(' and ')} are both ${formatRatio(STEP.factor)} or more (the least of them in brackets).`,
    },
    ...timed.flatMap(({ s, caseName, caseIndex }): MatrixBlock[] => [
      { heading: `${s.name}: ${caseName}`, level: 3 },
      { chart: connectCostChart(s, caseName, caseIndex, matrix.kernels) },
      { table: [header, ...matrix.kernels.flatMap((kernel, k) => (s.runs[k] ? [costRow(kernel, caseIn(s.runs[k], caseName))] : []))] },
    ]),
  ];
}

/** A kernel's figures for the case, or why it has none. */
function costRow(kernel: string, c: CaseResult | undefined): string[] {
  const cost = caseConnectCost(c);
  if (!cost) return [kernel, ...CONNECT_FIGURES.map(() => '-'), c ? notTimed(c) : 'case not run'];
  const figures = CONNECT_FIGURES.map((f) => costFigure(cost, f));
  return [kernel, ...figures.map((n) => (n === undefined ? '-' : formatCount(n))), stepText(STEP.after.map((f) => costFigure(cost, f)))];
}

function costFigure(cost: ConnectCost, figure: ConnectFigure): number | undefined {
  const value = connectFigure(cost, figure);
  return typeof value === 'number' ? value : undefined;
}

/** "yes (×2.6)": whether the cost stepped up past 50%, and by how much at least. */
function stepText(after: ReadonlyArray<number | undefined>): string {
  if (after.some((n) => n === undefined)) return '-';
  const least = Math.min(...(after as number[]));
  return `${least >= STEP.factor ? 'yes' : 'no'} (${formatRatio(least)})`;
}

/** A case without figures: why its connect.* expectations do not apply, where the theory said so. */
function notTimed(c: CaseResult): string {
  const notApplicable = c.expectations.find((e) => e.metric.startsWith('connect.') && e.notApplicable);
  return notApplicable ? expectationVerdict(notApplicable) : 'not measured';
}

/** The figures the rounds table gives: the sparse cost, the two after the step, and the step itself. */
const ROUND_FIGURES = ['sparseUs', 'at50', 'at90'] as const satisfies readonly ConnectFigure[];

/** Per timed case that some kernel ran more than once: each figure's median and spread over the rounds, per kernel. */
export function connectCostRoundsBlocks(matrix: Matrix): MatrixBlock[] {
  const repeated = matrix.scenarios.flatMap((s) =>
    caseNames(s.runs)
      .filter((caseName) => s.rounds.some((runs) => runs.filter((r) => caseConnectCost(caseIn(r, caseName))).length > 1))
      .map((caseName) => ({ s, caseName })),
  );
  if (!repeated.length) return [];
  const header = [
    'kernel',
    'rounds',
    ...ROUND_FIGURES.map((f) => COST_COLUMNS[f]),
    `least of ${STEP.after.map((f) => COST_COLUMNS[f]).join(', ')}`,
    STEP.column,
  ];
  return [
    { heading: 'The cost of one connect() over several rounds', level: 2 },
    {
      text: `Each kernel ran the case in several rounds, one after another with the machine to itself: per figure the median over the rounds and, in brackets, the least and the most. '${STEP.column}': in how many rounds ${STEP.after.map((f) => COST_COLUMNS[f]).join(' and ')} were both ${formatRatio(STEP.factor)} or more.`,
    },
    ...repeated.flatMap(({ s, caseName }): MatrixBlock[] => [
      { heading: `${s.name}: ${caseName}`, level: 3 },
      {
        table: [
          header,
          ...matrix.kernels.flatMap((kernel, k) => {
            // A client that could not time (no IP_LOCAL_PORT_RANGE on 5.10) still reports, without figures.
            const costs = s.rounds[k]!.flatMap((r) => caseConnectCost(caseIn(r, caseName)) ?? []).filter(
              (cost) => costFigure(cost, 'sparseUs') !== undefined,
            );
            if (!costs.length)
              return s.rounds[k]!.length
                ? [[kernel, String(s.rounds[k]!.length), ...ROUND_FIGURES.map(() => '-'), '-', notTimedIn(s.rounds[k]!, caseName)]]
                : [];
            const steps = costs.flatMap((cost) => leastAfterStep(cost) ?? []);
            return [
              [
                kernel,
                String(costs.length),
                ...ROUND_FIGURES.map((f) =>
                  spreadText(
                    costs.flatMap((cost) => costFigure(cost, f) ?? []),
                    f === 'sparseUs' ? formatCount : formatRatio,
                  ),
                ),
                spreadText(steps, formatRatio),
                `${steps.filter((n) => n >= STEP.factor).length} of ${costs.length}`,
              ],
            ];
          }),
        ],
      },
    ]),
  ];
}

/** The least of the figures after the step, where the run has them all. */
function leastAfterStep(cost: ConnectCost): number | undefined {
  const after = STEP.after.map((f) => costFigure(cost, f));
  return after.some((n) => n === undefined) ? undefined : Math.min(...(after as number[]));
}

/** "2.9 (2.1–3.4)": the median, and the least and the most in brackets. */
export function spreadText(values: readonly number[], format: (n: number) => string): string {
  if (!values.length) return '-';
  const sorted = [...values].sort((a, b) => a - b);
  const least = sorted[0]!;
  const most = sorted.at(-1)!;
  return `${format(median(sorted))}${least === most ? '' : ` (${format(least)}–${format(most)})`}`;
}

/** The middle value (the mean of the two middle ones for an even count) of numbers sorted ascending. */
export function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function notTimedIn(runs: readonly ComparedRun[], caseName: string): string {
  const c = runs.map((r) => caseIn(r, caseName)).find(Boolean);
  return c ? notTimed(c) : 'case not run';
}
