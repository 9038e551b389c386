/**
 * Series of a line chart that would be drawn on top of each other (four clients with the same counts, the
 * server's line under its one client's): found on the drawn pixels, and given dashes so that each shows.
 * In a group of n such series the first (drawn lowest) stays solid; each other one is dashed in its own
 * slot of every n dash lengths, so that along a shared stretch every colour appears in turn.
 */

export interface PixelPoint {
  x: number;
  y: number;
}

export interface SeriesStroke {
  /** Position in its group of overlapping series, from 0 (drawn first, solid), and the group's size (1: alone). */
  slot: number;
  groupSize: number;
  /** SVG stroke-dasharray and stroke-dashoffset, for every series of a group but its first. */
  dashArray?: string;
  dashOffset?: number;
  /** For a dashed series, the stretches where it runs apart from the rest of its group: drawn solid over the dashes. */
  apart?: PixelPoint[][];
}

/** Two lines closer than this (pixels) over at least MIN_SHARED_PX of their width are one line to the eye. */
const SAME_LINE_PX = 1.5;
const MIN_SHARED_PX = 6;
const SCAN_STEP_PX = 1;
const DASH_PX = 8;

export function seriesStrokes(series: readonly PixelPoint[][]): SeriesStroke[] {
  const groups = overlapGroups(series);
  return series.map((line, i) => {
    const group = groups.find((g) => g.includes(i))!;
    const [slot, groupSize] = [group.indexOf(i), group.length];
    if (slot === 0) return { slot, groupSize };
    const others = group.filter((j) => j !== i).map((j) => series[j]!);
    return {
      slot,
      groupSize,
      dashArray: `${DASH_PX} ${(groupSize - 1) * DASH_PX}`,
      dashOffset: (groupSize - slot) * DASH_PX,
      apart: stretchesApart(line, others),
    };
  });
}

/** Runs of a polyline's segments that no other line runs along (at both ends and the middle of the segment). */
export function stretchesApart(line: readonly PixelPoint[], others: readonly (readonly PixelPoint[])[]): PixelPoint[][] {
  const runs: PixelPoint[][] = [];
  let run: PixelPoint[] = [];
  for (let k = 0; k + 1 < line.length; k++) {
    const [p, q] = [line[k]!, line[k + 1]!];
    if (others.some((other) => segmentOnLine(p, q, other))) {
      if (run.length) runs.push(run);
      run = [];
      continue;
    }
    if (!run.length) run.push(p);
    run.push(q);
  }
  if (run.length) runs.push(run);
  return runs;
}

function segmentOnLine(p: PixelPoint, q: PixelPoint, line: readonly PixelPoint[]): boolean {
  if (!line.length || p.x < line[0]!.x || q.x > line.at(-1)!.x) return false;
  const middle = { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 };
  return [p, middle, q].every((point) => Math.abs(yAt(line, point.x) - point.y) <= SAME_LINE_PX);
}

/** Series joined (directly or through others) by a shared stretch, each group in drawing order. */
export function overlapGroups(series: readonly PixelPoint[][]): number[][] {
  const groupOf = series.map((_, i) => i);
  const root = (i: number): number => (groupOf[i] === i ? i : (groupOf[i] = root(groupOf[i]!)));
  for (let i = 0; i < series.length; i++) {
    for (let j = i + 1; j < series.length; j++) {
      if (root(i) !== root(j) && shareAStretch(series[i]!, series[j]!)) groupOf[Math.max(root(i), root(j))] = Math.min(root(i), root(j));
    }
  }
  const groups = new Map<number, number[]>();
  series.forEach((_, i) => groups.set(root(i), [...(groups.get(root(i)) ?? []), i]));
  return [...groups.values()];
}

/** Whether two polylines (points in x order) run within SAME_LINE_PX of each other for MIN_SHARED_PX of x. */
export function shareAStretch(a: readonly PixelPoint[], b: readonly PixelPoint[]): boolean {
  if (!a.length || !b.length) return false;
  const from = Math.max(a[0]!.x, b[0]!.x);
  const to = Math.min(a.at(-1)!.x, b.at(-1)!.x);
  if (to < from) return false;
  const needed = Math.min(MIN_SHARED_PX, to - from);
  let runStart: number | undefined;
  for (let x = from; x <= to; x += SCAN_STEP_PX) {
    if (Math.abs(yAt(a, x) - yAt(b, x)) > SAME_LINE_PX) {
      runStart = undefined;
      continue;
    }
    runStart ??= x;
    if (x - runStart >= needed) return true;
  }
  return false;
}

/** The polyline's y at x (linear between its points; the later point where two share an x). */
function yAt(points: readonly PixelPoint[], x: number): number {
  let low = 0;
  let high = points.length - 1;
  while (high - low > 1) {
    const mid = (low + high) >> 1;
    if (points[mid]!.x <= x) low = mid;
    else high = mid;
  }
  const [p, q] = [points[low]!, points[high]!];
  if (q.x === p.x || x >= q.x) return q.y;
  if (x <= p.x) return p.y;
  return p.y + ((q.y - p.y) * (x - p.x)) / (q.x - p.x);
}
