/**
 * The kernel matrix's charts: per scenario, one group per case and one bar per kernel, for the time each
 * case took to fill and for the connections the server ended with (against its predicted band); per case
 * whose clients timed connect(), one line per kernel for its cost as the range fills.
 */
import type { ComparedRun } from '../results/runs.ts';
import type { CaseResult, ConnectCost, HostResult } from '../results/results.ts';
import { referenceFor } from './across-cases.ts';
import { paletteColor } from './colors.ts';
import { clientConnectCosts, costCurveChart } from './connect-cost-chart.ts';
import { formatSeconds } from './facts.ts';
import { groupedBarChart, type Band, type BarGroup, type GroupedBar } from './svg-bars.ts';

export interface ScenarioRuns {
  name: string;
  /** One per kernel, in the kernels' order; undefined where that kernel has no run of the scenario. */
  runs: Array<ComparedRun | undefined>;
}

export function fillTimeChart(s: ScenarioRuns, kernels: string[]): string {
  return groupedBarChart({
    colourPer: 'kernel',
    kind: 'fill-time',
    title: `${s.name}: time to fill per case (flood phase), per kernel`,
    groups: caseGroups(s, kernels, { value: (c) => (c.phases.flood === undefined ? undefined : c.phases.flood / 1000) }),
    formatValue: (seconds) => formatSeconds(seconds * 1000),
    integer: false,
    axisUnit: 's',
  });
}

export function serverEstabChart(s: ScenarioRuns, kernels: string[]): string {
  const reference = s.runs.map((r) => r && referenceFor(r.results)).find(Boolean);
  return groupedBarChart({
    colourPer: 'kernel',
    kind: 'server-estab',
    title: `${s.name}: connections the server held at the end of each case (ss -s), per kernel`,
    groups: caseGroups(s, kernels, { value: (c) => server(c)?.estab, band: serverBand, flagFailures: true }),
    bandLabel: 'predicted (tick: one value, shade: a range)',
    ...(reference && { reference }),
  });
}

/** One line per kernel whose run of the case has a client that timed its connect() calls. */
export function connectCostChart(s: ScenarioRuns, caseName: string, caseIndex: number, kernels: string[]): string {
  const lines = kernels.flatMap((kernel, k) => {
    const cost = caseConnectCost(caseIn(s.runs[k], caseName));
    return cost ? [{ name: kernel, color: paletteColor(k), cost }] : [];
  });
  return costCurveChart({ caseIndex, about: `${s.name}: ${caseName}`, lines, linePer: 'kernel' });
}

/** A case's figures in the matrix: its first client's that timed connect() (such scenarios have one client). */
export function caseConnectCost(c: CaseResult | undefined): ConnectCost | undefined {
  return c && clientConnectCosts(c)[0]?.cost;
}

/** Every case any of the runs has, in the order the runs give them. */
export function caseNames(runs: ReadonlyArray<ComparedRun | undefined>): string[] {
  return [...new Set(runs.flatMap((r) => r?.results.cases.map((c) => c.name) ?? []))];
}

export function caseIn(run: ComparedRun | undefined, caseName: string): CaseResult | undefined {
  return run?.results.cases.find((c) => c.name === caseName);
}

function server(c: CaseResult): HostResult | undefined {
  const host = c.hosts.find((h) => h.role === 'server');
  return host && !host.lost ? host : undefined;
}

/** What the case predicted for its server's connections, where it did. */
function serverBand(c: CaseResult): Band | undefined {
  const e = c.expectations.find((x) => x.metric === 'estab' && x.host === server(c)?.name && Number.isFinite(x.predicted.min));
  return e && { min: e.predicted.min, max: e.predicted.max };
}

interface CaseFigure {
  value: (c: CaseResult) => number | undefined;
  band?: (c: CaseResult) => Band | undefined;
  /** Flag a case that failed on some kernel. */
  flagFailures?: boolean;
}

/**
 * Every case any kernel ran, in the order the runs give them; one bar per kernel that ran the scenario, in
 * the kernel's colour (the same in every chart of the matrix).
 */
function caseGroups(s: ScenarioRuns, kernels: string[], figure: CaseFigure): BarGroup[] {
  const ran = kernels.map((kernel, k) => ({ kernel, color: paletteColor(k), run: s.runs[k] })).filter((x) => x.run);
  const names = [...new Set(ran.flatMap((x) => x.run!.results.cases.map((c) => c.name)))];
  return names.map((name) => {
    const cases = ran.map((x) => x.run!.results.cases.find((c) => c.name === name));
    const bars = ran.map(({ kernel, color }, k): GroupedBar => {
      const c = cases[k];
      const value = c && figure.value(c);
      const band = c && figure.band?.(c);
      return { label: kernel, color, ...(value === undefined ? { missing: c ? 'not measured' : 'case not run' } : { value }), ...(band && { band }) };
    });
    return { label: name, ...(figure.flagFailures && cases.some((c) => c && !c.pass) && { flag: 'FAIL on some kernel' }), bars };
  });
}
