/**
 * Horizontal bar charts as inline SVG: slab caches against their prediction, and grouped bars (one group per
 * case, one bar per host or kernel) with the predicted band of each bar and an optional reference line.
 */
import { PALETTE, PREDICTED_COLOR } from './colors.ts';
import { escapeHtml } from './escape.ts';
import { formatCount } from './facts.ts';
import { CHART_WIDTH, axisNumber, niceTicks, round, svgOpen, type ReferenceLine } from './svg-chart.ts';

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
const BAR_COLOR = PALETTE[0]!;

/** Horizontal bars in the order given, each with an optional tick per bar; colours are attributes, not CSS. */
export function barChart(chart: BarChart): string {
  const height = BAR_MARGIN.top + chart.bars.length * BAR_PITCH + BAR_MARGIN.bottom;
  const plotWidth = CHART_WIDTH - BAR_MARGIN.left - BAR_MARGIN.right;
  const ticks = niceTicks(Math.max(1, ...chart.bars.flatMap((b) => [b.value, b.mark ?? 0])), 6, true);
  const x = (v: number) => round(BAR_MARGIN.left + (v / ticks.at(-1)!) * plotWidth);
  const axisY = BAR_MARGIN.top + chart.bars.length * BAR_PITCH;
  const amount = (v: number) => `${formatCount(Math.round(v))} ${chart.unit}`;
  const parts = [
    svgOpen(chart.kind, `data-case="${chart.caseIndex}"`, height, chart.title),
    `<text class="chart-title" x="${BAR_MARGIN.left}" y="20">${escapeHtml(chart.title)}</text>`,
    `<g class="legend"><rect x="${BAR_MARGIN.left}" y="28" width="14" height="8" fill="${BAR_COLOR}"/><text x="${BAR_MARGIN.left + 20}" y="36">measured</text><line x1="${BAR_MARGIN.left + 100}" x2="${BAR_MARGIN.left + 100}" y1="26" y2="38" stroke="${PREDICTED_COLOR}" stroke-width="2"/><text x="${BAR_MARGIN.left + 106}" y="36">${escapeHtml(chart.markLabel)}</text></g>`,
    ...ticks.map(
      (v) =>
        `<g class="grid"><line x1="${x(v)}" x2="${x(v)}" y1="${BAR_MARGIN.top - 4}" y2="${axisY}" stroke="#e6e6e6"/><text x="${x(v)}" y="${axisY + 16}" text-anchor="middle">${escapeHtml(axisNumber(v))}</text></g>`,
    ),
  ];
  chart.bars.forEach((b, i) => {
    const top = BAR_MARGIN.top + i * BAR_PITCH;
    const mark =
      b.mark === undefined
        ? []
        : [
            `<line class="mark" data-value="${b.mark}" x1="${x(b.mark)}" x2="${x(b.mark)}" y1="${top - 3}" y2="${top + BAR_HEIGHT + 3}" stroke="${PREDICTED_COLOR}" stroke-width="2"><title>${escapeHtml(`${chart.markLabel} ${amount(b.mark)}`)}</title></line>`,
          ];
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

// ---- grouped bars ----

/** What the theory allows for one bar; max may be Infinity (an open-ended prediction). */
export interface Band {
  min: number;
  max: number;
}

export interface GroupedBar {
  label: string;
  color: string;
  /** Undefined: there is no figure, and `missing` says why ("lost mid-run", "no run"). */
  value?: number;
  missing?: string;
  band?: Band;
}

export interface BarGroup {
  label: string;
  /** Written after the label in red: "FAIL". */
  flag?: string;
  bars: GroupedBar[];
}

export interface GroupedBarChart {
  kind: string;
  title: string;
  groups: BarGroup[];
  /** A line across every group. */
  reference?: ReferenceLine;
  /** What the colours tell apart, in the legend: 'host', 'kernel'. */
  colourPer: string;
  /** What the bands stand for, in the legend ('predicted'); no legend entry when no bar has one. */
  bandLabel?: string;
  /** How values are written ("28,231", "12.5 s"), and whether axis ticks are whole numbers. */
  formatValue?: (value: number) => string;
  integer?: boolean;
  /** Written after each axis tick: 's'. */
  axisUnit?: string;
}

const GROUP_MARGIN = { top: 62, right: 120, bottom: 34, left: 170 };
const GROUP_HEADING = 22;
const GROUP_GAP = 8;
const ROW_PITCH = 20;
const ROW_BAR = 14;
/** About how wide a character of 12px legend text is: enough to keep legend entries apart. */
const LEGEND_CHAR_PX = 6.5;

/** A group's rows, top to bottom: where its heading and each of its bars go. */
interface GroupLayout {
  group: BarGroup;
  headingY: number;
  barTops: number[];
}

export function groupedBarChart(chart: GroupedBarChart): string {
  const format = chart.formatValue ?? formatCount;
  const layouts = layoutGroups(chart.groups);
  const plotBottom = layouts.length ? layouts.at(-1)!.barTops.at(-1)! + ROW_PITCH : GROUP_MARGIN.top;
  const height = plotBottom + GROUP_MARGIN.bottom;
  const ticks = niceTicks(Math.max(1, ...groupedValues(chart)), 6, chart.integer ?? true);
  const left = GROUP_MARGIN.left;
  const right = CHART_WIDTH - GROUP_MARGIN.right;
  const x = (v: number) => round(left + (Math.min(v, ticks.at(-1)!) / ticks.at(-1)!) * (right - left));
  return [
    svgOpen(chart.kind, '', height, chart.title),
    `<text class="chart-title" x="8" y="20">${escapeHtml(chart.title)}</text>`,
    groupedLegend(chart),
    ...ticks.map(
      (v) =>
        `<g class="grid"><line x1="${x(v)}" x2="${x(v)}" y1="${GROUP_MARGIN.top - 6}" y2="${plotBottom}" stroke="#e6e6e6"/><text x="${x(v)}" y="${plotBottom + 16}" text-anchor="middle">${escapeHtml(axisNumber(v) + (chart.axisUnit ? ` ${chart.axisUnit}` : ''))}</text></g>`,
    ),
    // Behind the bars: a bar past the line hides it, and its value stays readable.
    ...(chart.reference ? [referenceLine(chart.reference, x(chart.reference.value), plotBottom)] : []),
    ...layouts.flatMap((layout) => groupRows(layout, x, format)),
    `<line class="axis" x1="${left}" x2="${left}" y1="${GROUP_MARGIN.top - 6}" y2="${plotBottom}"/>`,
    '</svg>',
  ].join('\n');
}

function layoutGroups(groups: BarGroup[]): GroupLayout[] {
  let y = GROUP_MARGIN.top;
  return groups.map((group) => {
    const headingY = y + 14;
    const barTops = group.bars.map((_, i) => y + GROUP_HEADING + i * ROW_PITCH);
    y += GROUP_HEADING + group.bars.length * ROW_PITCH + GROUP_GAP;
    return { group, headingY, barTops };
  });
}

/** Everything the axis must reach: values, finite band ends, the reference line. */
function groupedValues(chart: GroupedBarChart): number[] {
  const bars = chart.groups.flatMap((g) => g.bars);
  return [
    ...bars.map((b) => b.value ?? 0),
    ...bars.flatMap((b) => (b.band ? [b.band.min, b.band.max] : [])).filter(Number.isFinite),
    ...(chart.reference ? [chart.reference.value] : []),
  ];
}

interface LegendItem {
  /** Width of the sample drawn before the text. */
  width: number;
  sample: (x: number, y: number) => string;
  text: string;
}

/** Measured, and predicted where bars have bands (the reference line is labelled where it is drawn). */
function groupedLegend(chart: GroupedBarChart): string {
  const items: LegendItem[] = [
    {
      width: 14,
      sample: (x, y) => `<rect x="${x}" y="${y - 8}" width="14" height="8" fill="#888"/>`,
      text: `measured (one colour per ${chart.colourPer})`,
    },
  ];
  if (chart.bandLabel) {
    items.push({
      width: 22,
      sample: (x, y) =>
        `<rect x="${x}" y="${y - 10}" width="22" height="12" fill="${PREDICTED_COLOR}" fill-opacity="0.18" stroke="${PREDICTED_COLOR}"/>`,
      text: chart.bandLabel,
    });
  }
  const y = 38;
  let x = 8;
  const parts = items.map((item) => {
    const part = `${item.sample(x, y)}<text x="${x + item.width + 6}" y="${y}">${escapeHtml(item.text)}</text>`;
    x += item.width + 6 + item.text.length * LEGEND_CHAR_PX + 24;
    return part;
  });
  return `<g class="legend">${parts.join('')}</g>`;
}

function groupRows(layout: GroupLayout, x: (v: number) => number, format: (v: number) => string): string[] {
  const { group } = layout;
  const flag = group.flag ? ` <tspan class="fail">${escapeHtml(group.flag)}</tspan>` : '';
  return [
    `<g class="bar-group" data-group="${escapeHtml(group.label)}"${group.flag ? ` data-flag="${escapeHtml(group.flag)}"` : ''}>`,
    `<text class="group-label" x="8" y="${layout.headingY}">${escapeHtml(group.label)}${flag}</text>`,
    ...group.bars.map((bar, i) => barRow(bar, layout.barTops[i]!, x, format)),
    '</g>',
  ];
}

function barRow(bar: GroupedBar, top: number, x: (v: number) => number, format: (v: number) => string): string {
  const left = x(0);
  const label = `<text class="bar-label" x="${GROUP_MARGIN.left - 8}" y="${top + 11}" text-anchor="end">${escapeHtml(bar.label)}</text>`;
  const band = bar.band ? bandMark(bar.band, top, x, format) : '';
  const data = `data-label="${escapeHtml(bar.label)}"${bar.value === undefined ? '' : ` data-value="${bar.value}"`}${bar.band ? ` data-band-min="${bar.band.min}" data-band-max="${bar.band.max}"` : ''}`;
  if (bar.value === undefined) {
    return `<g class="bar-row" ${data}>${label}${band}<text class="missing" x="${left + 6}" y="${top + 11}">${escapeHtml(bar.missing ?? 'no figure')}</text></g>`;
  }
  const end = Math.max(x(bar.value), bar.band && Number.isFinite(bar.band.max) ? x(bar.band.max) : 0);
  const outside = bar.band && (bar.value < bar.band.min || bar.value > bar.band.max);
  const value = outside ? `${format(bar.value)} (predicted ${bandText(bar.band!, format)})` : format(bar.value);
  return [
    `<g class="bar-row" ${data}>`,
    label,
    `<rect class="bar" x="${left}" y="${top}" width="${round(x(bar.value) - left)}" height="${ROW_BAR}" fill="${bar.color}"><title>${escapeHtml(`${bar.label}: ${format(bar.value)}`)}</title></rect>`,
    band,
    `<text class="bar-value${outside ? ' outside' : ''}" x="${end + 6}" y="${top + 11}">${escapeHtml(value)}</text>`,
    '</g>',
  ].join('');
}

/** "5,000", ">= 1", "2,375-2,625": as the tables write predictions. */
function bandText(band: Band, format: (v: number) => string): string {
  if (band.min === band.max) return format(band.min);
  return Number.isFinite(band.max) ? `${format(band.min)}-${format(band.max)}` : `>= ${format(band.min)}`;
}

/** A tick where the prediction is one value; a shaded span between its ends where it is a range. */
function bandMark(band: Band, top: number, x: (v: number) => number, format: (v: number) => string): string {
  const title = `<title>${escapeHtml(`predicted ${bandText(band, format)}`)}</title>`;
  if (band.min === band.max) {
    return `<line class="band" x1="${x(band.min)}" x2="${x(band.min)}" y1="${top - 3}" y2="${top + ROW_BAR + 3}" stroke="${PREDICTED_COLOR}" stroke-width="2.5">${title}</line>`;
  }
  const [from, to] = [x(band.min), x(band.max)];
  return `<rect class="band" x="${from}" y="${top - 3}" width="${round(Math.max(2, to - from))}" height="${ROW_BAR + 6}" fill="${PREDICTED_COLOR}" fill-opacity="0.18" stroke="${PREDICTED_COLOR}">${title}</rect>`;
}

function referenceLine(reference: ReferenceLine, x: number, plotBottom: number): string {
  return [
    `<g class="reference-line" data-value="${reference.value}">`,
    `<line class="reference" x1="${x}" x2="${x}" y1="${GROUP_MARGIN.top - 8}" y2="${plotBottom}"/>`,
    `<text class="reference-label" x="${x + 4}" y="${GROUP_MARGIN.top - 8}">${escapeHtml(reference.label)}</text>`,
    '</g>',
  ].join('\n');
}
