/**
 * The matrix's churn rates: for each case whose clients churned (labchurn: connect, Ping, Pong, close), how
 * many connections a second went through on each kernel, as a ratio to 6.12's on as many CPUs in the same
 * run (under emulation only ratios compare), and against the scenario's first case on the same kernel.
 */
import { LABCHURN } from '../programs/programs.ts';
import type { ComparedRun } from '../results/runs.ts';
import type { CaseResult } from '../results/results.ts';
import { formatRatio } from './connect-cost-chart.ts';
import { formatCount } from './facts.ts';
import type { Matrix, MatrixBlock } from './matrix-model.ts';
import { columnCpus } from './matrix-columns.ts';
import { caseIn, caseNames } from './matrix-charts.ts';
import { median } from './matrix-connect-cost.ts';

/** The kernel each column's rate is a ratio to: the upgrade most people weigh starts from it. */
export const CHURN_REFERENCE_KERNEL = '6.12';

/** Churn rate by kernel, per scenario whose cases churned; nothing where none did. */
export function churnRateBlocks(matrix: Matrix): MatrixBlock[] {
  const churned = matrix.scenarios.filter((s) => caseNames(s.runs).some((name) => s.runs.some((r) => churnRate(caseIn(r, name)) !== undefined)));
  if (!churned.length) return [];
  return [
    { heading: 'Churn rate by kernel', level: 2 },
    {
      text: `Connections a second (connect, Ping, Pong, close) from the clients' start to their last close, the median over the rounds where there were several; "× ${CHURN_REFERENCE_KERNEL}": against ${CHURN_REFERENCE_KERNEL}'s on as many vCPUs and the same runtime in the same run (the first such kernel's where ${CHURN_REFERENCE_KERNEL} did not run; none for a kernel alone of its kind, such as this machine's under Docker); "× first case": against the scenario's first case on the same kernel. Under emulation only the ratios compare.`,
    },
    ...churned.flatMap((s): MatrixBlock[] => {
      const names = caseNames(s.runs).filter((name) => s.runs.some((r) => churnRate(caseIn(r, name)) !== undefined));
      const rates = names.map((name) => s.rounds.map((runs) => medianRate(runs, name)));
      const reference = referenceColumns(
        matrix.kernels,
        s.rounds.map((runs) => runs[0]?.results.environment.runtime),
      );
      return [
        { heading: s.name, level: 3 },
        {
          table: [
            ['kernel', ...names.flatMap((name, n) => [`${name}: conn/s`, `× ${CHURN_REFERENCE_KERNEL}`, ...(n ? ['× first case'] : [])])],
            ...matrix.kernels.flatMap((kernel, k) =>
              s.rounds[k]!.length
                ? [
                    [
                      kernel,
                      ...rates.flatMap((byKernel, n) => [
                        rateText(byKernel[k], cutShort(s.rounds[k]!, names[n]!)),
                        ratioText(byKernel[k], reference[k] === undefined ? undefined : byKernel[reference[k]]),
                        ...(n ? [ratioText(byKernel[k], rates[0]![k])] : []),
                      ]),
                    ],
                  ]
                : [],
            ),
          ],
        },
      ];
    }),
  ];
}

/** Connections a second a case's churn went through: every client's completed ones over the longest client's time. */
export function churnRate(c: CaseResult | undefined): number | undefined {
  const floods = (c?.hosts ?? []).flatMap((h) => (h.role === 'client' && !h.lost && h.flood?.program === LABCHURN.name ? [h.flood] : []));
  const seconds = Math.max(0, ...floods.map((f) => f.fillSeconds));
  if (!floods.length || seconds <= 0) return undefined;
  return floods.reduce((sum, f) => sum + f.established, 0) / seconds;
}

function medianRate(runs: readonly ComparedRun[], caseName: string): number | undefined {
  const rates = runs.flatMap((r) => churnRate(caseIn(r, caseName)) ?? []).sort((a, b) => a - b);
  return rates.length ? median(rates) : undefined;
}

/**
 * Per column, the column it is compared with: the reference kernel's on as many CPUs and the same runtime,
 * else the first such; none for a column alone of its kind (this machine's kernel under Docker against VMs).
 */
function referenceColumns(kernels: readonly string[], runtimes: ReadonlyArray<string | undefined>): Array<number | undefined> {
  return kernels.map((column, k) => {
    const alike = kernels
      .map((name, i) => ({ name, i }))
      .filter(({ name, i }) => i !== k && runtimes[i] === runtimes[k] && columnCpus(name) === columnCpus(column));
    if (!alike.length) return undefined;
    const all = [...alike, { name: column, i: k }].sort((a, b) => a.i - b.i);
    return (all.find(({ name }) => name.startsWith(`${CHURN_REFERENCE_KERNEL}.`)) ?? all[0]!).i;
  });
}

/**
 * Connections its rounds left unfinished: labchurn stops waiting 5 s after its last connect(), so a handshake
 * still retrying then is cut, and those 5 s count in the time (a rate that low says so).
 */
function cutShort(runs: readonly ComparedRun[], caseName: string): number {
  const floods = runs.flatMap((r) => caseIn(r, caseName)?.hosts.flatMap((h) => (h.flood?.program === LABCHURN.name ? [h.flood] : [])) ?? []);
  return floods.reduce((n, f) => n + Math.max(0, f.asked - f.established - f.failed), 0);
}

function rateText(rate: number | undefined, cut: number): string {
  if (rate === undefined) return '-';
  return `${formatCount(Math.round(rate))}${cut ? ` (${formatCount(cut)} cut at the drain)` : ''}`;
}

function ratioText(rate: number | undefined, reference: number | undefined): string {
  return rate === undefined || !reference ? '-' : formatRatio(Math.round((rate / reference) * 100) / 100);
}
