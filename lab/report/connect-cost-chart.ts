/**
 * The cost of one connect() as the port range fills, drawn: x the share of the range in use, y the curve of
 * lab/results/connect-cost.ts (a multiple of the same run's cost on a range less than half full), a dashed line at ×1.
 * One line per client in report.html, one per kernel in matrix.html.
 */
import { costCurve } from '../results/connect-cost.ts';
import type { CaseResult, ConnectCost } from '../results/results.ts';
import { formatCount } from './facts.ts';
import { lineChart, type XAxis } from './svg-chart.ts';

/** A client's connect() figures, named by its host. */
export interface HostConnectCost {
  host: string;
  cost: ConnectCost;
}

export interface CostCurveChart {
  caseIndex: number;
  /** What the chart is about, before its title: the scenario and case in the matrix. */
  about?: string;
  lines: Array<{ name: string; color: string; cost: ConnectCost }>;
  /** What a line stands for, in its data attributes. */
  linePer: 'host' | 'kernel';
}

/** In the title: the hosts that time connect() are clients. */
const LINE_NAMES = { host: 'client', kernel: 'kernel' } as const;

const RANGE_IN_USE: XAxis = {
  label: '% of the port range in use',
  tPerUnit: 1,
  max: 100,
  tick: (percent) => `${formatCount(percent)}%`,
  point: (percent) => `${formatCount(percent)}% in use`,
};

/** 2.55 → "×2.55": a cost as a multiple of another. */
export function formatRatio(ratio: number): string {
  return `×${formatCount(ratio)}`;
}

/** The clients of a case that timed their connect() calls, in host order. */
export function clientConnectCosts(c: CaseResult): HostConnectCost[] {
  return c.hosts.flatMap((h) => (h.role === 'client' && !h.lost && h.flood?.connectCost ? [{ host: h.name, cost: h.flood.connectCost }] : []));
}

export function costCurveChart(chart: CostCurveChart): string {
  const title = `one connect() as a multiple of its cost on a range less than half full, per ${LINE_NAMES[chart.linePer]}`;
  return lineChart({
    kind: 'connect-cost',
    caseIndex: chart.caseIndex,
    title: chart.about ? `${chart.about}: ${title}` : `The cost of ${title}`,
    seriesPer: chart.linePer,
    series: chart.lines.map((line) => ({
      name: line.name,
      color: line.color,
      points: costCurve(line.cost).map((p) => ({ t: p.percent, value: p.ratio })),
    })),
    xAxis: RANGE_IN_USE,
    reference: { value: 1, label: `${formatRatio(1)}: the cost on a range less than half full` },
    integer: false,
    formatValue: formatRatio,
  });
}
