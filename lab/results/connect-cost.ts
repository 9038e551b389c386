/**
 * The cost of one connect() against how full the port range is, from the client program's histograms per
 * 2% of the range in use: the windows the connect.* metrics name, and the curve the reports draw. Stated
 * here once.
 *
 * Each figure is the median time of one connect() in its window: a mean would be mostly the preemption and
 * softirq work that lands inside a few calls (single calls vary tenfold, in containers and in VMs alike).
 * The windows are wide (8%: 320 calls on 4000 ports) and the baseline wider still: under emulation calls
 * come in a fast and a slow mode, and a 4% window on a few hundred calls once caught a stretch of fast ones
 * (6.12: 207 µs at 4-8%, 700 µs around it), which made every later ratio x3.
 */
import type { ConnectFigure } from '../scenario/metrics.ts';
import type { ConnectCost } from './results.ts';

/** Each bucket of the program's figures is this many percent of the range wide. */
export const BUCKET_PERCENT = 2;

/**
 * Percent of the range in use, [from, to), per figure. The baseline skips the first 4%: there the first
 * connects warm the caches and the route (and, under emulation, have their code translated); it ends before
 * 50%, where a search by parity steps up. Each point's window starts at or just before it, never across 50%.
 */
export const COST_WINDOWS: Readonly<Record<ConnectFigure, readonly [number, number]>> = {
  sparseUs: [4, 48],
  at10: [8, 16],
  at50: [50, 58],
  at90: [86, 94],
  at99: [96, 100],
};

/** The median µs of one connect() over [from, to) percent in use, or undefined where no call fell in. */
export function medianMicros(cost: ConnectCost, from: number, to: number): number | undefined {
  const merged = new Map<number, number>();
  for (let b = Math.floor(from / BUCKET_PERCENT); b < Math.min(Math.ceil(to / BUCKET_PERCENT), cost.us.length); b++) {
    for (const [us, calls] of cost.us[b] ?? []) merged.set(us, (merged.get(us) ?? 0) + calls);
  }
  const bins = [...merged].sort((a, b) => a[0] - b[0]);
  const total = bins.reduce((n, [, calls]) => n + calls, 0);
  if (!total) return undefined;
  let seen = 0;
  for (const [us, calls] of bins) if ((seen += calls) >= total / 2) return us;
  return bins.at(-1)![0];
}

export function sparseMicros(cost: ConnectCost): number | undefined {
  return medianMicros(cost, ...COST_WINDOWS.sparseUs);
}

/** The median cost in a figure's window as a multiple of the sparse cost, to two decimals. */
export function costRatio(cost: ConnectCost, figure: Exclude<ConnectFigure, 'sparseUs'>): number | undefined {
  const sparse = sparseMicros(cost);
  const at = medianMicros(cost, ...COST_WINDOWS[figure]);
  return sparse && at !== undefined ? Math.round((at / sparse) * 100) / 100 : undefined;
}

/** One connect.* figure, or why there is none. */
export function connectFigure(cost: ConnectCost, figure: ConnectFigure): number | { missing: string } {
  const value = figure === 'sparseUs' ? sparseMicros(cost) : costRatio(cost, figure);
  if (value !== undefined) return value;
  const [from, to] = sparseMicros(cost) === undefined ? COST_WINDOWS.sparseUs : COST_WINDOWS[figure];
  return { missing: `no connect() got a port with ${from}-${to}% of the ports in use` };
}

/** The curve for charts: per 2%, the median cost as a multiple of the sparse cost, at the bucket's middle. */
export function costCurve(cost: ConnectCost): Array<{ percent: number; ratio: number }> {
  const sparse = sparseMicros(cost);
  if (!sparse) return [];
  return cost.us.flatMap((_, b) => {
    const at = medianMicros(cost, b * BUCKET_PERCENT, (b + 1) * BUCKET_PERCENT);
    return at === undefined ? [] : [{ percent: b * BUCKET_PERCENT + BUCKET_PERCENT / 2, ratio: Math.round((at / sparse) * 100) / 100 }];
  });
}
