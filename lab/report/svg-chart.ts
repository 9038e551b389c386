/**
 * Line charts as inline SVG, drawn here so that the report needs no script and no network. Elements carry
 * stable classes and data attributes (chart kind, case, host or kernel, ceiling value) for tests and stylesheets.
 * Every series is labelled at its end, and series that would hide each other are told apart by dashes.
 */
import { PREDICTED_COLOR } from './colors.ts';
import { escapeHtml } from './escape.ts';
import { formatCount } from './facts.ts';
import { seriesStrokes, type PixelPoint, type SeriesStroke } from './series-overlap.ts';

export interface Point {
  /** Where on the x axis (`tPerUnit` of them make one of its units): milliseconds since the flood started by default. */
  t: number;
  value: number;
}

export interface Series {
  /** The host (or kernel) the series is about: its end label and data attribute. */
  name: string;
  color: string;
  points: Point[];
}

/** A predicted ceiling: a dashed line at `value`, labelled with the hosts it is about. */
export interface Ceiling {
  value: number;
  hosts: string[];
}

/** A line at a value the audience knows ("64k" = 65,536; ×1, the cost on a range less than half full). */
export interface ReferenceLine {
  value: number;
  label: string;
}

/** What x is and how its ticks are written. */
export interface XAxis {
  label: string;
  /** How many of a point's t make one unit of the axis: 1000 for milliseconds on an axis of seconds. */
  tPerUnit: number;
  /** Where the axis ends, in its units; by default at the first tick at or past the last point. */
  max?: number;
  tick: (x: number) => string;
  /** A point's x in its tooltip. */
  point: (x: number) => string;
}

/** The x axis unless a chart says otherwise. */
export const SECONDS_SINCE_FLOOD: XAxis = {
  label: 'seconds since the flood started',
  tPerUnit: 1000,
  tick: (s) => `${axisNumber(s)} s`,
  point: (s) => `${s.toFixed(1)} s`,
};

export interface LineChart {
  /** Class of the chart beside "chart": 'estab', 'errors'. */
  kind: string;
  caseIndex: number;
  title: string;
  series: Series[];
  /** What a series stands for, in its data attributes: 'host' (the default), 'kernel'. */
  seriesPer?: string;
  xAxis?: XAxis;
  ceilings?: Ceiling[];
  /** A dashed line across the plot, labelled inside it. */
  reference?: ReferenceLine;
  /** The tallest the chart may be, in pixels: a chart of a few small counts is shorter. */
  maxHeight?: number;
  /** How a value is written in the series' end labels (counts by default). */
  formatValue?: (value: number) => string;
  /** Whether values are whole counts (the default): their ticks are whole numbers, and a few small ones make a short chart. */
  integer?: boolean;
}

/** Every chart is this wide (the page scales it down on a narrow screen). */
export const CHART_WIDTH = 1100;
// The right margin holds the labels at the series' ends, where no series can run over them.
const MARGIN = { top: 34, right: 250, bottom: 44, left: 72 };
const DEFAULT_MAX_HEIGHT = 300;
/** A chart of small whole counts (ticks 1 apart) gets this much height per count. */
const PIXELS_PER_COUNT = 40;
const MIN_PLOT_HEIGHT = 56;
const LABEL_SPACING = 14;
/** Past this many samples a series is a line alone: dots would merge into a smear. */
const MAX_MARKED_POINTS = 60;

/** The plot area and its scales: a point's t to x, values to y. */
interface Frame {
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  xAxis: XAxis;
  /** In the x axis' units. */
  xTicks: number[];
  values: number[];
  x: (t: number) => number;
  y: (value: number) => number;
}

export function lineChart(chart: LineChart): string {
  const ceilings = chart.ceilings ?? [];
  const format = chart.formatValue ?? formatCount;
  const ends = endGroups(chart.series);
  const frame = lineFrame(chart, ceilings, ends.length);
  const per = chart.seriesPer ?? 'host';
  const pixels = chart.series.map((s) => sortedPoints(s).map((p): PixelPoint => ({ x: round(frame.x(p.t)), y: round(frame.y(p.value)) })));
  const strokes = seriesStrokes(pixels);
  const hasPoints = pixels.some((p) => p.length);
  return [
    svgOpen(chart.kind, `data-case="${chart.caseIndex}"`, frame.height, chart.title),
    `<text class="chart-title" x="${MARGIN.left}" y="20">${escapeHtml(chart.title)}</text>`,
    ...valueTicks(frame),
    ...xTicks(frame),
    `<text class="axis-label" x="${(frame.left + frame.right) / 2}" y="${frame.height - 6}" text-anchor="middle">${escapeHtml(frame.xAxis.label)}</text>`,
    ...(hasPoints
      ? []
      : [
          `<text class="no-samples" x="${(frame.left + frame.right) / 2}" y="${(frame.top + frame.bottom) / 2}" text-anchor="middle">no samples were taken in this case</text>`,
        ]),
    ...chart.series.map((s, i) => seriesPath(s, per, pixels[i]!, strokes[i]!, frame.xAxis, format)),
    ...ceilingLines(ceilings, frame),
    ...(chart.reference ? [referenceLine(chart.reference, frame)] : []),
    ...endLabels(ends, chart.series, per, pixels, strokes, frame, format),
    `<line class="axis" x1="${frame.left}" x2="${frame.left}" y1="${frame.top}" y2="${frame.bottom}"/>`,
    `<line class="axis" x1="${frame.left}" x2="${frame.right}" y1="${frame.bottom}" y2="${frame.bottom}"/>`,
    '</svg>',
  ].join('\n');
}

/** Scales fitted to the data; the plot is only as tall as its ticks and its end labels need. */
function lineFrame(chart: LineChart, ceilings: Ceiling[], endLabelCount: number): Frame {
  const points = chart.series.flatMap((s) => s.points);
  const xAxis = chart.xAxis ?? SECONDS_SINCE_FLOOD;
  // Counts are whole numbers: a tick at 0.5 failed connects would mean nothing.
  const integer = chart.integer ?? true;
  const xTicks = niceTicks(xAxis.max ?? Math.max(1, ...points.map((p) => p.t / xAxis.tPerUnit)), 8, false);
  const values = niceTicks(
    Math.max(1, ...points.map((p) => p.value), ...ceilings.map((c) => c.value), ...(chart.reference ? [chart.reference.value] : [])),
    5,
    integer,
  );
  const plotHeight = plotHeightFor(values, integer, (chart.maxHeight ?? DEFAULT_MAX_HEIGHT) - MARGIN.top - MARGIN.bottom, endLabelCount);
  const [left, right, top] = [MARGIN.left, CHART_WIDTH - MARGIN.right, MARGIN.top];
  const bottom = top + plotHeight;
  const xMax = xTicks.at(-1)!;
  const vMax = values.at(-1)!;
  return {
    height: bottom + MARGIN.bottom,
    left,
    right,
    top,
    bottom,
    xAxis,
    xTicks,
    values,
    x: (t) => left + (t / xAxis.tPerUnit / xMax) * (right - left),
    y: (v) => bottom - (v / vMax) * plotHeight,
  };
}

/** Full height, unless the ticks are single counts (0, 1, 2): then a fixed height per count. */
function plotHeightFor(ticks: number[], integer: boolean, maxPlotHeight: number, endLabelCount: number): number {
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 1;
  const forValues = integer && step === 1 ? Math.min(maxPlotHeight, (ticks.length - 1) * PIXELS_PER_COUNT) : maxPlotHeight;
  return Math.max(MIN_PLOT_HEIGHT, forValues, endLabelCount * LABEL_SPACING);
}

function valueTicks(f: Frame): string[] {
  return f.values.map(
    (v) =>
      `<g class="tick y"><line x1="${f.left}" x2="${f.right}" y1="${round(f.y(v))}" y2="${round(f.y(v))}"/><text x="${f.left - 8}" y="${round(f.y(v)) + 4}" text-anchor="end">${escapeHtml(axisNumber(v))}</text></g>`,
  );
}

function xTicks(f: Frame): string[] {
  return f.xTicks.map((tick) => {
    const x = round(f.x(tick * f.xAxis.tPerUnit));
    return `<g class="tick x"><line x1="${x}" x2="${x}" y1="${f.bottom}" y2="${f.bottom + 5}"/><text x="${x}" y="${f.bottom + 19}" text-anchor="middle">${escapeHtml(f.xAxis.tick(tick))}</text></g>`;
  });
}

function sortedPoints(s: Series): Point[] {
  return [...s.points].sort((a, b) => a.t - b.t);
}

/** One host's (or kernel's) line, dashed when it runs on top of another's, with a dot per sample when there are few. */
function seriesPath(s: Series, per: string, pixels: PixelPoint[], stroke: SeriesStroke, xAxis: XAxis, format: (v: number) => string): string {
  const d = pathData(pixels);
  const points = sortedPoints(s);
  const dots = points.length <= MAX_MARKED_POINTS ? points : [];
  const data = `data-${per}="${escapeHtml(s.name)}"`;
  return [
    `<g class="${per}-series" ${data}>`,
    `<path class="series" ${data} d="${d}" stroke="${s.color}" fill="none"${dashAttributes(stroke)}/>`,
    ...(stroke.apart ?? []).map((run) => `<path class="series-apart" d="${pathData(run)}" stroke="${s.color}" fill="none"/>`),
    ...dots.map(
      (p, i) =>
        `<circle class="point" cx="${pixels[i]!.x}" cy="${pixels[i]!.y}" r="2.5" fill="${s.color}"><title>${escapeHtml(`${s.name}: ${format(p.value)} at ${xAxis.point(p.t / xAxis.tPerUnit)}`)}</title></circle>`,
    ),
    '</g>',
  ].join('\n');
}

function pathData(points: PixelPoint[]): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x} ${p.y}`).join(' ');
}

/** A series that shares its line with others: which of them it is, and its dashes. */
function dashAttributes(stroke: SeriesStroke): string {
  if (stroke.groupSize === 1) return '';
  const overlap = ` data-overlap="${stroke.slot + 1}/${stroke.groupSize}"`;
  return stroke.dashArray ? `${overlap} stroke-dasharray="${stroke.dashArray}" stroke-dashoffset="${stroke.dashOffset}"` : overlap;
}

/** Dashed lines at each ceiling, labelled inside the plot just above the line; close labels are pushed apart. */
function ceilingLines(ceilings: Ceiling[], f: Frame): string[] {
  const sorted = [...ceilings].sort((a, b) => b.value - a.value);
  const labelYs = spreadLabels(
    sorted.map((c) => round(f.y(c.value)) - 4),
    LABEL_SPACING,
    f.top + 10,
    f.bottom,
  );
  return sorted.map((c, i) => {
    const lineY = round(f.y(c.value));
    return [
      `<g class="ceiling-group" data-value="${c.value}" data-hosts="${escapeHtml(c.hosts.join(' '))}">`,
      `<line class="ceiling" data-value="${c.value}" x1="${f.left}" x2="${f.right}" y1="${lineY}" y2="${lineY}"/>`,
      `<text class="ceiling-label" x="${f.right - 4}" y="${labelYs[i]}" text-anchor="end">${escapeHtml(`predicted ${formatCount(c.value)}: ${hostList(c.hosts)}`)}</text>`,
      '</g>',
    ].join('\n');
  });
}

/** A reference across the plot, labelled inside it at the right, just above the line. */
function referenceLine(reference: ReferenceLine, f: Frame): string {
  const lineY = round(f.y(reference.value));
  return [
    `<g class="reference-line" data-value="${reference.value}">`,
    `<line class="reference" x1="${f.left}" x2="${f.right}" y1="${lineY}" y2="${lineY}"/>`,
    `<text class="reference-label" x="${f.right - 4}" y="${lineY - 4}" text-anchor="end">${escapeHtml(reference.label)}</text>`,
    '</g>',
  ].join('\n');
}

/** Series that end on the same value share one end label ("client-1 to client-4: 28,231"). */
interface EndGroup {
  /** Undefined for the series that have no samples at all. */
  value: number | undefined;
  members: number[];
}

function endGroups(series: Series[]): EndGroup[] {
  const groups: EndGroup[] = [];
  series.forEach((s, i) => {
    const value = sortedPoints(s).at(-1)?.value;
    const group = groups.find((g) => g.value === value);
    if (group) group.members.push(i);
    else groups.push({ value, members: [i] });
  });
  return groups;
}

/**
 * In the right margin, level with where the series end: a swatch per series (its colour and dashes) and the
 * hosts with their last value. A dotted leader joins a label to its series' end when they are apart.
 * Series without samples are named at the bottom.
 */
function endLabels(
  groups: EndGroup[],
  series: Series[],
  per: string,
  pixels: PixelPoint[][],
  strokes: SeriesStroke[],
  f: Frame,
  format: (v: number) => string,
): string[] {
  const ordered = [...groups].sort((a, b) => (b.value ?? -Infinity) - (a.value ?? -Infinity));
  const endY = (g: EndGroup) => pixels[g.members[0]!]!.at(-1)?.y ?? f.bottom;
  const labelYs = spreadLabels(
    ordered.map((g) => endY(g) + 4),
    LABEL_SPACING,
    f.top + 4,
    f.bottom + 4,
  );
  const labelX = f.right + 10;
  return ordered.map((g, i) => {
    const labelY = labelYs[i]!;
    const names = g.members.map((m) => series[m]!.name);
    const ends = g.members.flatMap((m) => pixels[m]!.slice(-1));
    const leaders = ends.map(
      (end) => `<polyline class="leader" points="${end.x},${end.y} ${f.right + 4},${end.y} ${labelX - 2},${labelY - 4}" fill="none"/>`,
    );
    const swatches = g.members.map((m, k) => {
      const x = labelX + k * 11;
      return `<line class="swatch" x1="${x}" x2="${x + 9}" y1="${labelY - 4}" y2="${labelY - 4}" stroke="${series[m]!.color}" stroke-width="3"${strokes[m]!.dashArray ? ' stroke-dasharray="3 2"' : ''}/>`;
    });
    const text = `${hostList(names)}: ${g.value === undefined ? 'no samples' : format(g.value)}`;
    return [
      `<g class="end-label" data-${per}s="${escapeHtml(names.join(' '))}" data-value="${g.value ?? 'none'}">`,
      ...leaders,
      ...swatches,
      `<text x="${labelX + g.members.length * 11 + 2}" y="${labelY}">${escapeHtml(text)}</text>`,
      '</g>',
    ].join('\n');
  });
}

/**
 * Label positions as near as may be to where each wants to be (top to bottom), at least `spacing` apart and
 * within [top, bottom]: pushed down past a neighbour above, then the whole stack up if it runs off the bottom.
 */
export function spreadLabels(wanted: number[], spacing: number, top: number, bottom: number): number[] {
  const order = wanted.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y);
  const placed: number[] = [];
  for (const { y } of order) placed.push(Math.max(y, top, (placed.at(-1) ?? -Infinity) + spacing));
  for (let k = placed.length - 1; k >= 0; k--) placed[k] = Math.min(placed[k]!, k === placed.length - 1 ? bottom : placed[k + 1]! - spacing);
  const result = new Array<number>(wanted.length);
  order.forEach(({ i }, k) => (result[i] = round(placed[k]!)));
  return result;
}

/** Long host lists would run off the chart: "client-1 to client-4". */
export function hostList(hosts: string[]): string {
  return hosts.length > 2 ? `${hosts[0]} to ${hosts.at(-1)}` : hosts.join(', ');
}

/** The opening of every chart: its classes, size, and title for screen readers and tooltips. */
export function svgOpen(kind: string, data: string, height: number, title: string): string {
  return [
    `<svg class="chart ${escapeHtml(kind)}"${data ? ` ${data}` : ''} viewBox="0 0 ${CHART_WIDTH} ${height}" width="${CHART_WIDTH}" height="${height}" role="img" aria-label="${escapeHtml(title)}">`,
    `<title>${escapeHtml(title)}</title>`,
  ].join('\n');
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

/** 120000 → "120,000", 2.5 → "2.5": axes write numbers as the tables do. */
export function axisNumber(n: number): string {
  return formatCount(n);
}

export function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** The charts' look, for every page that shows them. */
export const CHART_STYLE = `
svg.chart { max-width: 100%; height: auto; background: #fff; display: block; }
svg.chart text { font-size: 12px; fill: #333; }
svg.chart .chart-title { font-size: 14px; font-weight: 600; }
svg.chart .tick line { stroke: #e6e6e6; } svg.chart .tick.x line { stroke: #999; }
svg.chart .axis { stroke: #777; }
svg.chart .series, svg.chart .series-apart { stroke-width: 2; stroke-linejoin: round; }
svg.chart .ceiling { stroke: ${PREDICTED_COLOR}; stroke-width: 1.2; stroke-dasharray: 6 4; }
svg.chart .ceiling-label { fill: ${PREDICTED_COLOR}; font-size: 11.5px; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg.chart .leader { stroke: #aaa; stroke-width: 0.8; stroke-dasharray: 1 2; }
svg.chart .no-samples { fill: #888; font-style: italic; }
svg.chart .group-label { font-weight: 600; } svg.chart .group-label .fail { fill: ${PREDICTED_COLOR}; }
svg.chart .reference { stroke: #555; stroke-width: 1.5; stroke-dasharray: 8 4; }
svg.chart .reference-label { font-weight: 600; fill: #555; }
svg.chart .bar-value { font-variant-numeric: tabular-nums; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg.chart .bar-value.outside { fill: ${PREDICTED_COLOR}; font-weight: 600; }
svg.chart .missing { fill: #888; font-style: italic; }
`;
