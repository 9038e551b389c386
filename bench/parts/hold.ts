/**
 * [hold] The highest ping rate the lab's pair (labclient + labserver) keeps up with at each count of held
 * connections, against the reference pair (refhold + refpong) in the same containers, with what a ping
 * costs each (CPU, context switches, run-queue waits, softirqs). Sizes in turn, rounds at each size, the
 * pairs' order turning each round.
 */
import { readFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { growHash, hostConntrack } from '../../lab/runtime/docker/conntrack.ts';
import type { BenchContext } from '../context.ts';
import {
  HOLD_S,
  TIMEOUT_MS,
  layoutFor,
  shapeFor,
  makeRig,
  Prober,
  holdRig,
  removeRig,
  searchKnees,
  type Layout,
  type Pair,
  type Probe,
  type Search,
} from '../holds.ts';
import { median, sleep } from '../lib.ts';
import { fmt, say, verdict } from '../output.ts';

/** The first round searches from afar; later ones start at the median knee found so far, in smaller steps. */
const SEARCH = { step: 1.5, resolution: 1.06, min: 1000, max: 400_000 };
const SEARCH_LATER = { ...SEARCH, step: 1.12 };
/**
 * The first round starts where the CPU would run out: the machine's cores over what a ping cost at COST_RATE
 * (both pairs' median, CPU and softirq), less a fifth for what a busier machine batches less.
 */
const START_SHARE = 0.8;
/**
 * But never above this: at a low rate a ping costs several times less CPU than near the knee (10k held here:
 * about 9 µs of CPU and softirq per ping at 5,000/s, about 65 µs at 25,000/s), so the estimate is an upper bound.
 */
const START_AT_MOST = 20_000;
/** A rate every size keeps up with, at which each size's cost per ping is read: the same batching at every size. */
export const COST_RATE = 5000;
/** Probes per pair in a size's first round, and in the rounds after (which start at the knees found). */
const PROBES = { first: 6, later: 3 };
/** The reference over c1m's process counts runs at the sizes where the lab's counts are far fewer. */
const WIDE_UP_TO = 100_000;
/**
 * The part's time, shared out over the sizes by what they cost (holds alike at every size, and a few fills
 * that grow with the count held): each size runs one round at least, and more while its share lasts.
 */
const BUDGET_S = 33 * 60;
const weight = (n: number) => 1 + n / 1_000_000;
/** Kernel memory per held connection with both ends here and conntrack (BENCHMARKS.md: 11.2 KB), with room. */
const BYTES_PER_CONNECTION = 12_000;
const KEEP_FREE = 2 * 2 ** 30;
/** The largest sizes wait for a machine this quiet (1-minute load average), at most --max-wait. */
const LOAD_GATE = { from: 1_000_000, below: 2.5 };
/**
 * Each round's pairs, one after the other: each pair's searches are made on one fill, kept from one round to the
 * next where the pair comes last in one and first in the next (4 fills for 3 rounds, with the first round's wide).
 */
const ROUND_ROBIN: Pair[][] = [
  ['lab', 'ref'],
  ['ref', 'lab'],
];

interface SizeResult {
  layout: Layout;
  rounds: Array<Partial<Record<Pair, Search>>>;
  loadavg: number[][];
  knee?: Record<'lab' | 'ref', number>;
  ratio?: number;
  perKPing?: Partial<Record<Pair, PerKPing>>;
  skipped?: string;
  /** Why fewer rounds than asked were run. */
  cut?: string;
  /** What ended the size early. */
  failed?: string;
  /** Both pairs at COST_RATE, before the first search: what a ping costs at this size, at one rate for all sizes. */
  atCostRate?: Partial<Record<Pair, Probe>>;
}

/** What a thousand Pongs cost at the knee: CPU and softirq seconds, context switches, run-queue wait seconds. */
interface PerKPing {
  user: number;
  system: number;
  switches: number;
  involuntary: number;
  runQueueWait: number;
  softirq: number;
}

export async function measureHold(ctx: BenchContext): Promise<void> {
  const sizes = ctx.holdSizes;
  say(
    `\n[hold] labclient+labserver vs refhold+refpong: ${sizes.map((n) => fmt(n)).join(', ')} held; ${HOLD_S} s holds, ${TIMEOUT_MS} ms timeout; ${ctx.reps} round(s)`,
  );
  const out: Record<string, SizeResult> = {};
  const totalWeight = sizes.reduce((s, n) => s + weight(n), 0);
  // Undone at the part's end, or by the bench's own stop on a signal (which never comes back here).
  const undo = (restore?: () => Promise<void>) => (restore ? ctx.bench.undoLater(restore) : undefined);
  const restoreConntrack = undo(await roomInConntrack(ctx, Math.max(...sizes)));
  const restoreBuckets = undo(
    ctx.holdBuckets ? await growHash(`${ctx.bench.runId}/buckets`, ctx.holdBuckets, (line) => say(`  (conntrack) ${line}`)) : undefined,
  );
  try {
    for (const size of sizes) {
      const layout = layoutFor(size, ctx.nofile);
      const result: SizeResult = { layout, rounds: [], loadavg: [] };
      out[size] = result;
      const refusal = (await memoryRefusal(size)) ?? (await loadRefusal(ctx, size));
      if (refusal) {
        result.skipped = refusal;
        say(`  ${fmt(size)}: not measured: ${refusal}`);
        ctx.report.row(`hold ${fmt(size)}: ping knee lab/ref ratio`, `not measured (${refusal})`, '>= 0.9', 'not measured');
        continue;
      }
      try {
        await measureSize(ctx, layout, result, (BUDGET_S * weight(size)) / totalWeight);
      } catch (error) {
        // One size gone wrong (a flood short of its count, an engine error) leaves the others' figures.
        result.failed = (error as Error).message;
        say(`  ${fmt(size)}: FAILED: ${result.failed}`);
      }
      if (result.rounds.some((r) => r.lab && r.ref)) reportSize(ctx, size, result);
      else ctx.report.row(`hold ${fmt(size)}: ping knee lab/ref ratio`, `not measured (${result.failed ?? 'no round'})`, '>= 0.9', 'not measured');
    }
  } finally {
    await restoreBuckets?.();
    await restoreConntrack?.();
    ctx.report.results.hold = { holdSeconds: HOLD_S, timeoutMs: TIMEOUT_MS, sizes: out };
  }
  printKneeTable(out);
}

async function measureSize(ctx: BenchContext, layout: Layout, result: SizeResult, budgetS: number): Promise<void> {
  const { connections: n } = layout;
  say(
    ` ${fmt(n)} held: ${layout.clients} client container(s) x ${layout.processesPerClient} process(es), ${layout.serverWorkers} server worker(s), each pair the same`,
  );
  const rig = await makeRig(ctx, layout);
  const prober = new Prober(holdRig(ctx, rig));
  const started = performance.now();
  let lastRoundS = 0;
  try {
    result.atCostRate = {};
    for (let round = 0; round < ctx.reps; round++) {
      const roundStarted = performance.now();
      const spentS = (roundStarted - started) / 1000;
      // The second round costs about PROBES.later / PROBES.first of the first (which has the cost probes too), the next as the last.
      if (round > 0 && spentS + lastRoundS * (round === 1 ? PROBES.later / PROBES.first : 1) > budgetS) {
        result.cut = `${round} of ${ctx.reps} rounds: the size's share of the part's time (${fmt(budgetS / 60, 1)} min) was spent`;
        say(`  ${fmt(n)}: ${result.cut}`);
        break;
      }
      const searches: Partial<Record<Pair, Search>> = {};
      result.rounds.push(searches);
      result.loadavg.push(loadavg().map((l) => Math.round(l * 100) / 100));
      const previous = result.rounds.flatMap((r) => [r.lab?.kept, r.ref?.kept]).filter((k): k is number => !!k);
      const measure = async (pair: Pair, rate: number) => {
        const p = await prober.measure(pair, rate);
        sayProbe(n, round, p);
        return p;
      };
      // The first round also holds the reference at c1m's process counts, where the lab's are far fewer.
      const pairs: Pair[] = [...ROUND_ROBIN[round % 2]!, ...(round === 0 && n <= WIDE_UP_TO ? (['wide'] as const) : [])];
      let start = previous.length ? Math.round(median(previous)) : undefined;
      for (const pair of pairs) {
        // The first round reads each pair's cost at COST_RATE on its fill first, and starts where the first says.
        const seed = round === 0 && pair !== 'wide' ? await costProbe(prober, n, pair, result) : undefined;
        start ??= startFromCost(result.atCostRate);
        const opts = previous.length ? { ...SEARCH_LATER, maxProbes: PROBES.later } : { ...SEARCH, maxProbes: PROBES.first };
        Object.assign(searches, await searchKnees(measure, [pair], start, opts, seed ? { [pair]: seed } : {}));
      }
      lastRoundS = (performance.now() - roundStarted) / 1000;
    }
    say(`  ${fmt(n)}: ${prober.fills} fill(s) for ${result.rounds.length} round(s)`);
  } finally {
    await prober.close().catch((error: Error) => say(`  ${fmt(n)}: the last fill was not cleared (${error.message})`));
    // An engine slow to see a container exit must not lose the size's figures: the bench's cleanup removes what is left.
    await removeRig(ctx, rig).catch((error: Error) =>
      say(`  ${fmt(n)}: the rig's containers were not all removed (${error.message}); the bench's cleanup retries`),
    );
  }
}

/** The pair's probe at COST_RATE: what a ping costs at this size, at one rate for all sizes. */
async function costProbe(prober: Prober, n: number, pair: Pair, result: SizeResult): Promise<Probe> {
  const p = await prober.measure(pair, COST_RATE);
  sayProbe(n, -1, p);
  result.atCostRate![pair] = p;
  return p;
}

function sayProbe(n: number, round: number, p: Probe): void {
  const c = p.cost;
  say(
    `  ${fmt(n)} ${round < 0 ? 'cost' : `#${round + 1}`} ${p.pair}: ${fmt(p.rate)}/s (every ${fmt(p.intervalMs)} ms) ${p.keptUp ? 'kept up' : 'MISSED'}: ` +
      `${fmt(p.sent)} of ${fmt(p.asked)} Pings sent, ${fmt(p.pongs)} Pongs, ${fmt(p.timeouts)} timeouts, ${p.behind ? `${fmt(p.behind)} process(es) fell behind, ` : ''}p99 ${fmt(p.p99Us / 1000, 1)} ms, max ${fmt(p.maxUs / 1000)} ms; ` +
      `cpu ${fmt(c.user, 2)} + ${fmt(c.system, 2)} s, ${fmt(c.voluntarySwitches + c.involuntarySwitches)} switches, softirq ${fmt(c.softirq, 2)} s, ${fmt(c.backlogDrops)} backlog drops, ${fmt(c.retransmitted)} retransmitted over ${fmt(p.windowS, 1)} s (hold ${p.hold} on its fill, made in ${fmt(p.fillMs / 1000, 1)} s, ${fmt(p.established)} held after; at ${p.monotonic.join('-')} s monotonic)`,
  );
}

/** What a thousand Pongs cost in the pair's probe at its knee. */
function perKPing(p: Probe): PerKPing {
  const k = Math.max(1, p.pongs) / 1000;
  const c = p.cost;
  return {
    user: c.user / k,
    system: c.system / k,
    switches: (c.voluntarySwitches + c.involuntarySwitches) / k,
    involuntary: c.involuntarySwitches / k,
    runQueueWait: c.runQueueWait / k,
    softirq: c.softirq / k,
  };
}

function startFromCost(atCost: SizeResult['atCostRate']): number {
  const perPing = median(
    Object.values(atCost ?? {})
      .filter((p) => p.keptUp)
      .map((p) => (p.cost.user + p.cost.system + p.cost.softirq) / Math.max(1, p.pongs)),
  );
  const rate = perPing > 0 ? (cpus().length / perPing) * START_SHARE : COST_RATE * 2;
  return Math.round(Math.min(START_AT_MOST, Math.max(SEARCH.min, rate)));
}

const atKnee = (s: Search | undefined) => s?.probes.find((p) => p.keptUp && p.rate === s.kept);

function reportSize(ctx: BenchContext, size: number, result: SizeResult): void {
  // A round a failure ended before both searches were made is no figure: it is left out, and said.
  const complete = result.rounds.filter((r) => r.lab && r.ref);
  const kept = (pair: Pair) => complete.map((r) => r[pair]?.kept ?? 0);
  const ratios = complete.map((r) => (r.lab?.kept ?? 0) / Math.max(1, r.ref?.kept ?? 0));
  const knee = { lab: median(kept('lab')), ref: median(kept('ref')) };
  const ratio = median(ratios);
  const lab = medianCost(result, 'lab');
  const ref = medianCost(result, 'ref');
  const wide = result.rounds[0]?.wide;
  Object.assign(result, { knee, ratio, perKPing: { lab, ref, ...(wide && { wide: medianCost(result, 'wide') }) } });
  const what = `hold ${fmt(size)}`;
  const unfinished = result.rounds.length - complete.length;
  const rounds = `median of ${complete.length} round(s)${unfinished ? `; ${unfinished} ended early, left out` : ''}`;
  say(
    ` => ${fmt(size)} held: knee lab ${fmt(knee.lab)}/s, ref ${fmt(knee.ref)}/s; lab/ref ${fmt(ratio, 2)} (${rounds}: ${ratios.map((r) => fmt(r, 2)).join(', ')})`,
  );
  ctx.report.row(`${what}: ping knee, labclient+labserver`, `${fmt(knee.lab)} pings/s (${rounds})`, '', '');
  ctx.report.row(`${what}: ping knee, refhold+refpong`, `${fmt(knee.ref)} pings/s (${rounds})`, '', '');
  ctx.report.row(`${what}: ping knee lab/ref ratio`, fmt(ratio, 2), '>= 0.9', verdict(ratio >= 0.9));
  if (wide) {
    const shape = shapeFor('wide', result.layout, ctx.nofile);
    ctx.report.row(
      `${what}: ping knee, the reference over c1m's ${shape.clients * shape.processesPerClient} + ${shape.serverWorkers} processes`,
      `${fmt(wide.kept ?? 0)} pings/s (round 1), against ${fmt(result.rounds[0]?.ref?.kept ?? 0)} over ${result.layout.clients * result.layout.processesPerClient} + ${result.layout.serverWorkers}`,
      '',
      '',
    );
  }
  const cpu = (c: PerKPing) => c.user + c.system;
  for (const pair of ['lab', 'ref'] as const) {
    const p = result.atCostRate?.[pair];
    if (!p) continue;
    const c = perKPing(p);
    ctx.report.row(
      `${what}: per 1000 pings at ${fmt(COST_RATE)}/s, ${pair}${p.keptUp ? '' : ' (NOT kept up)'}`,
      `CPU ${fmt(cpu(c), 3)} s (${fmt(c.user, 3)} user + ${fmt(c.system, 3)} sys), ${fmt(c.switches)} switches (${fmt(c.involuntary)} involuntary), run-queue wait ${fmt(c.runQueueWait, 3)} s, softirq ${fmt(c.softirq, 3)} s; p99 ${fmt(p.p99Us / 1000, 1)} ms`,
      '',
      '',
    );
  }
  const costs: Array<[string, PerKPing | undefined]> = [
    ['lab', lab],
    ['ref', ref],
    ['ref over c1m processes', result.perKPing?.wide],
  ];
  for (const [name, c] of costs) {
    if (!c) continue;
    ctx.report.row(
      `${what}: per 1000 pings at the knee, ${name}`,
      `CPU ${fmt(cpu(c), 3)} s (${fmt(c.user, 3)} user + ${fmt(c.system, 3)} sys), ${fmt(c.switches)} switches (${fmt(c.involuntary)} involuntary), run-queue wait ${fmt(c.runQueueWait, 3)} s, softirq ${fmt(c.softirq, 3)} s`,
      '',
      '',
    );
  }
}

/** The median over rounds of what a thousand Pongs cost at the pair's knee. */
function medianCost(result: SizeResult, pair: Pair): PerKPing | undefined {
  const all = result.rounds
    .map((r) => atKnee(r[pair]))
    .filter((p): p is Probe => !!p)
    .map(perKPing);
  if (!all.length) return undefined;
  const pick = (f: keyof PerKPing) => median(all.map((c) => c[f]));
  return {
    user: pick('user'),
    system: pick('system'),
    switches: pick('switches'),
    involuntary: pick('involuntary'),
    runQueueWait: pick('runQueueWait'),
    softirq: pick('softirq'),
  };
}

function printKneeTable(out: Record<string, SizeResult>): void {
  say('\n  held       knee lab    knee ref    lab/ref   CPU ms/1000 pings lab / ref');
  for (const [size, r] of Object.entries(out)) {
    if (!r.knee) {
      say(`  ${fmt(Number(size)).padStart(9)}  not measured: ${r.skipped ?? 'no round finished'}`);
      continue;
    }
    const ms = (c?: PerKPing) => (c ? fmt((c.user + c.system) * 1000) : '-');
    const cpu = `${ms(r.perKPing?.lab)} / ${ms(r.perKPing?.ref)}`;
    say(
      `  ${fmt(Number(size)).padStart(9)}  ${fmt(r.knee.lab).padStart(9)}/s ${fmt(r.knee.ref).padStart(9)}/s  ${fmt(r.ratio ?? 0, 2).padStart(7)}   ${cpu}`,
    );
  }
  for (const line of kneeChart(out)) say(line);
}

const CHART_WIDTH = 50;

/** Each size's knees as bars (lab '#', reference '='), for BENCHMARKS.md. */
export function kneeChart(out: Record<string, Pick<SizeResult, 'knee'>>): string[] {
  const measured = Object.entries(out).filter(([, r]) => r.knee);
  const top = Math.max(1, ...measured.flatMap(([, r]) => [r.knee!.lab, r.knee!.ref]));
  const bar = (v: number, c: string) => c.repeat(Math.round((v / top) * CHART_WIDTH));
  return [
    '',
    `  pings/s kept up with (no client process behind, p99 under ${TIMEOUT_MS} ms, no timeout), '#' lab, '=' reference; full width ${fmt(top)}/s`,
    ...measured.flatMap(([size, r]) => [
      `  ${fmt(Number(size)).padStart(9)} lab ${bar(r.knee!.lab, '#')} ${fmt(r.knee!.lab)}`,
      `  ${''.padStart(9)} ref ${bar(r.knee!.ref, '=')} ${fmt(r.knee!.ref)}`,
    ]),
  ];
}

/** The host's conntrack table must hold every connection (bridged traffic is tracked here): raised for the part if not. */
async function roomInConntrack(ctx: BenchContext, largest: number): Promise<(() => Promise<void>) | undefined> {
  const table = await hostConntrack.read();
  const needed = Math.ceil(largest * 1.25) + table.count;
  if (!table.tracked || table.max >= needed) return undefined;
  const restore = await hostConntrack.raise(ctx.bench.runId, needed, (line) => say(`  (conntrack) ${line}`));
  return restore;
}

async function memoryRefusal(size: number): Promise<string | undefined> {
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  const available = Number(/^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1] ?? 0) * 1024;
  const needed = size * BYTES_PER_CONNECTION + KEEP_FREE;
  if (available >= needed) return undefined;
  return `${fmt(available / 2 ** 30, 1)} GiB available, ${fmt(needed / 2 ** 30, 1)} GiB needed`;
}

/** At the largest sizes: waits (at most --max-wait) for the 1-minute load average to fall under the gate. */
async function loadRefusal(ctx: BenchContext, size: number): Promise<string | undefined> {
  if (size < LOAD_GATE.from) return undefined;
  const until = Date.now() + ctx.maxWaitS * 1000;
  while (loadavg()[0]! >= LOAD_GATE.below && Date.now() < until) await sleep(5000);
  const load = loadavg()[0]!;
  return load < LOAD_GATE.below ? undefined : `1-minute load ${fmt(load, 1)} >= ${LOAD_GATE.below} after waiting ${ctx.maxWaitS} s`;
}
