/**
 * Line charts as inline SVG, drawn here so that the report needs no script and no network. Elements carry
 * stable classes and data attributes (chart kind, case, host, ceiling value) for tests and stylesheets.
 */
import { escapeHtml } from './escape.ts';
import { formatCount } from './facts.ts';

export interface Point {
  /** Milliseconds since the flood started. */
  t: number;
  value: number;
}

export interface Series {
  host: string;
  color: string;
  points: Point[];
}

/** A predicted ceiling: a dashed line at `value`, labelled with the hosts it is about. */
export interface Ceiling {
  value: number;
  hosts: string[];
}

export interface LineChart {
  /** Class of the chart beside "chart": 'estab', 'errors'. */
  kind: string;
  caseIndex: number;
  title: string;
  series: Series[];
  ceilings?: Ceiling[];
  /** Pixels; the plot area is what the margins leave. */
  height?: number;
}

const WIDTH = 1000;
// The right margin holds the ceilings' labels, where no series can run over them.
const MARGIN = { top: 34, right: 200, bottom: 44, left: 64 };
const LABEL_SPACING = 14;
/** Past this many samples a series is a line alone: dots would merge into a smear. */
const MAX_MARKED_POINTS = 60;

export function lineChart(chart: LineChart): string {
  const ceilings = chart.ceilings ?? [];
  const points = chart.series.flatMap((s) => s.points);
  const height = chart.height ?? 300;
  const plot = { width: WIDTH - MARGIN.left - MARGIN.right, height: height - MARGIN.top - MARGIN.bottom };
  const seconds = niceTicks(Math.max(1, ...points.map((p) => p.t / 1000)), 8, false);
  // Counts are whole numbers: a tick at 0.5 failed connects would mean nothing.
  const values = niceTicks(Math.max(1, ...points.map((p) => p.value), ...ceilings.map((c) => c.value)), 5, true);
  const tMax = seconds.at(-1)!;
  const vMax = values.at(-1)!;
  const x = (ms: number) => MARGIN.left + (ms / 1000 / tMax) * plot.width;
  const y = (v: number) => MARGIN.top + plot.height - (v / vMax) * plot.height;
  const parts = [
    `<svg class="chart ${escapeHtml(chart.kind)}" data-case="${chart.caseIndex}" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${escapeHtml(chart.title)}">`,
    `<title>${escapeHtml(chart.title)}</title>`,
    `<text class="chart-title" x="${MARGIN.left}" y="20">${escapeHtml(chart.title)}</text>`,
    ...values.map((v) => `<g class="tick y"><line x1="${MARGIN.left}" x2="${MARGIN.left + plot.width}" y1="${y(v)}" y2="${y(v)}"/><text x="${MARGIN.left - 8}" y="${y(v) + 4}" text-anchor="end">${escapeHtml(axisNumber(v))}</text></g>`),
    ...seconds.map((s) => `<g class="tick x"><line x1="${x(s * 1000)}" x2="${x(s * 1000)}" y1="${MARGIN.top + plot.height}" y2="${MARGIN.top + plot.height + 5}"/><text x="${x(s * 1000)}" y="${MARGIN.top + plot.height + 19}" text-anchor="middle">${escapeHtml(axisNumber(s))} s</text></g>`),
    `<text class="axis-label" x="${MARGIN.left + plot.width / 2}" y="${height - 6}" text-anchor="middle">seconds since the flood started</text>`,
  ];
  if (!points.length) {
    parts.push(`<text class="no-samples" x="${MARGIN.left + plot.width / 2}" y="${MARGIN.top + plot.height / 2}" text-anchor="middle">no samples were taken in this case</text>`);
  }
  for (const s of chart.series) {
    const sorted = [...s.points].sort((a, b) => a.t - b.t);
    const d = sorted.map((p, i) => `${i ? 'L' : 'M'}${round(x(p.t))} ${round(y(p.value))}`).join(' ');
    parts.push(
      `<g class="host-series" data-host="${escapeHtml(s.host)}">`,
      `<path class="series" data-host="${escapeHtml(s.host)}" d="${d}" stroke="${s.color}" fill="none"/>`,
      ...(sorted.length <= MAX_MARKED_POINTS ? sorted : []).map((p) => `<circle class="point" cx="${round(x(p.t))}" cy="${round(y(p.value))}" r="2.5" fill="${s.color}"><title>${escapeHtml(`${s.host}: ${formatCount(p.value)} at ${(p.t / 1000).toFixed(1)} s`)}</title></circle>`),
      '</g>',
    );
  }
  parts.push(...ceilingLines(ceilings, y, plot.width));
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plot.height}"/>`);
  parts.push(`<line class="axis" x1="${MARGIN.left}" x2="${MARGIN.left + plot.width}" y1="${MARGIN.top + plot.height}" y2="${MARGIN.top + plot.height}"/>`);
  parts.push('</svg>');
  return parts.join('\n');
}

/** Dashed lines at each ceiling, labelled in the right margin; labels are pushed apart when values are close. */
function ceilingLines(ceilings: Ceiling[], y: (v: number) => number, plotWidth: number): string[] {
  if (!ceilings.length) return [];
  const sorted = [...ceilings].sort((a, b) => b.value - a.value);
  const headingY = MARGIN.top - 2;
  let lastLabelY = headingY;
  const heading = `<text class="ceiling-heading" x="${MARGIN.left + plotWidth + 6}" y="${headingY}">predicted ceiling</text>`;
  return [heading, ...sorted.map((c) => {
    const lineY = round(y(c.value));
    const labelY = Math.max(lineY + 4, lastLabelY + LABEL_SPACING);
    lastLabelY = labelY;
    const label = `${formatCount(c.value)}: ${hostList(c.hosts)}`;
    return [
      `<g class="ceiling-group" data-value="${c.value}" data-hosts="${escapeHtml(c.hosts.join(' '))}">`,
      `<line class="ceiling" data-value="${c.value}" x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${lineY}" y2="${lineY}"/>`,
      `<text class="ceiling-label" x="${MARGIN.left + plotWidth + 6}" y="${labelY}">${escapeHtml(label)}</text>`,
      '</g>',
    ].join('\n');
  })];
}

/** Long host lists would run off the chart: "client-1 to client-4". */
function hostList(hosts: string[]): string {
  return hosts.length > 2 ? `${hosts[0]} to ${hosts.at(-1)}` : hosts.join(', ');
}

/** Ticks 0, step, 2 step, ... up to the first at or above max, with step 1, 2 or 5 times a power of ten. */
export function niceTicks(max: number, wanted: number, integer: boolean): number[] {
  const rough = max / wanted;
  const power = 10 ** Math.floor(Math.log10(rough));
  const nice = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  const step = integer ? Math.max(1, nice) : nice;
  const ticks = [0];
  // Multiplying, not adding, and trimming to 6 decimals keeps 0.6 from becoming 0.6000000000000001.
  while (ticks.at(-1)! < max) ticks.push(Number((ticks.length * step).toFixed(6)));
  return ticks;
}

/** 120000 → "120k", 28231 → "28,231", 2.5 → "2.5". */
export function axisNumber(n: number): string {
  if (n >= 10_000 && n % 1000 === 0) return `${n / 1000}k`;
  return Number.isInteger(n) ? formatCount(n) : String(n);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export interface Bar {
  label: string;
  value: number;
  /** A value to mark on the bar (what the theory predicts), drawn as a tick across it. */
  mark?: number;
}

export interface BarChart {
  /** Class of the chart beside "chart": 'slab'. */
  kind: string;
  caseIndex: number;
  title: string;
  bars: Bar[];
  /** Written after each value: 'B'. */
  unit: string;
  /** What the tick stands for, in the legend: 'predicted'. */
  markLabel: string;
}

const BAR_HEIGHT = 16;
const BAR_PITCH = 24;
const BAR_MARGIN = { top: 44, right: 120, bottom: 30, left: 180 };
const BAR_COLOR = '#1f77b4';
const MARK_COLOR = '#b00020';

/** Horizontal bars in the order given, each with an optional tick per bar; colours are attributes, not CSS. */
export function barChart(chart: BarChart): string {
  const height = BAR_MARGIN.top + chart.bars.length * BAR_PITCH + BAR_MARGIN.bottom;
  const plotWidth = WIDTH - BAR_MARGIN.left - BAR_MARGIN.right;
  const ticks = niceTicks(Math.max(1, ...chart.bars.flatMap((b) => [b.value, b.mark ?? 0])), 6, true);
  const x = (v: number) => round(BAR_MARGIN.left + (v / ticks.at(-1)!) * plotWidth);
  const axisY = BAR_MARGIN.top + chart.bars.length * BAR_PITCH;
  const amount = (v: number) => `${formatCount(Math.round(v))} ${chart.unit}`;
  const parts = [
    `<svg class="chart ${escapeHtml(chart.kind)}" data-case="${chart.caseIndex}" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${escapeHtml(chart.title)}">`,
    `<title>${escapeHtml(chart.title)}</title>`,
    `<text class="chart-title" x="${BAR_MARGIN.left}" y="20">${escapeHtml(chart.title)}</text>`,
    `<g class="legend"><rect x="${BAR_MARGIN.left}" y="28" width="14" height="8" fill="${BAR_COLOR}"/><text x="${BAR_MARGIN.left + 20}" y="36">measured</text><line x1="${BAR_MARGIN.left + 100}" x2="${BAR_MARGIN.left + 100}" y1="26" y2="38" stroke="${MARK_COLOR}" stroke-width="2"/><text x="${BAR_MARGIN.left + 106}" y="36">${escapeHtml(chart.markLabel)}</text></g>`,
    ...ticks.map((v) => `<g class="grid"><line x1="${x(v)}" x2="${x(v)}" y1="${BAR_MARGIN.top - 4}" y2="${axisY}" stroke="#e6e6e6"/><text x="${x(v)}" y="${axisY + 16}" text-anchor="middle">${escapeHtml(axisNumber(v))}</text></g>`),
  ];
  chart.bars.forEach((b, i) => {
    const top = BAR_MARGIN.top + i * BAR_PITCH;
    const mark = b.mark === undefined ? [] : [`<line class="mark" data-value="${b.mark}" x1="${x(b.mark)}" x2="${x(b.mark)}" y1="${top - 3}" y2="${top + BAR_HEIGHT + 3}" stroke="${MARK_COLOR}" stroke-width="2"><title>${escapeHtml(`${chart.markLabel} ${amount(b.mark)}`)}</title></line>`];
    parts.push(
      `<g class="bar-row" data-label="${escapeHtml(b.label)}" data-value="${b.value}"${b.mark === undefined ? '' : ` data-mark="${b.mark}"`}>`,
      `<text class="bar-label" x="${BAR_MARGIN.left - 8}" y="${top + 12}" text-anchor="end">${escapeHtml(b.label)}</text>`,
      `<rect class="bar" x="${BAR_MARGIN.left}" y="${top}" width="${round(x(b.value) - BAR_MARGIN.left)}" height="${BAR_HEIGHT}" fill="${BAR_COLOR}"><title>${escapeHtml(`${b.label}: ${amount(b.value)}`)}</title></rect>`,
      ...mark,
      `<text class="bar-value" x="${Math.max(x(b.value), b.mark === undefined ? 0 : x(b.mark)) + 6}" y="${top + 12}">${escapeHtml(amount(b.value))}</text>`,
      '</g>',
    );
  });
  parts.push(`<line class="axis" x1="${BAR_MARGIN.left}" x2="${BAR_MARGIN.left}" y1="${BAR_MARGIN.top - 4}" y2="${axisY}"/>`);
  parts.push('</svg>');
  return parts.join('\n');
}
