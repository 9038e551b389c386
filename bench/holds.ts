/**
 * connscale's hold, by the lab's pair (labclient + labserver) and by the reference pair (refhold + refpong,
 * images/bench/), in the same containers: N connections spread as the lab spreads them (client hosts of at
 * most 62,500, c1m's, each over as many processes as the open-file cap needs; server workers as the lab's
 * plan sizes them), every one pinging once per interval for HOLD_S seconds, a Pong later than TIMEOUT_MS
 * ending its connection. A probe is one hold at one rate; a fill serves hold after hold (the programs take a
 * new interval with each "hold now"), and the search finds the highest rate a pair keeps up with.
 */
import { performance } from 'node:perf_hooks';
import { $ } from 'zx';
import { clientProcessesFor, labclientArgv, labserverArgv, serverWorkersFor } from '../lab/programs/argv.ts';
import { LABCLIENT, LABSERVER } from '../lab/programs/programs.ts';
import type { BenchContext } from './context.ts';
import { INFLIGHT } from './floods.ts';
import { difference, readCounters, type Counters } from './kernel-counters.ts';
import { sleep, until, type BenchHost, type Program, type ProgramLine } from './lib.ts';

/** The lab's pair, the reference pair spread as the lab spreads, and the reference spread over c1m's process counts. */
export type Pair = 'lab' | 'ref' | 'wide';

/** c1m's share per client IP: under a quarter of each of its four destinations' 64,512 ports. */
export const PER_CLIENT_MAX = 62_500;
export const PORTS = [8080, 8081, 8082, 8083];
const CLIENT_RANGE = '1024 65535';
/** Each probe's hold: long enough that a rate 10% past what the pair answers piles a second of Pings up. */
export const HOLD_S = 10;
/** hold-ping's timeout (connscale's was a second too): stricter than c1m's 20 s, so a rate kept here is kept there. */
export const TIMEOUT_MS = 1000;
/**
 * A rate is kept up with when no client process fell behind, every Pong came in time and the Pings sent were at
 * least this share of those asked.
 */
const SENT_SHARE = 0.95;
/**
 * Both clients stop pinging in a hold once a Pong comes later than a quarter of the timeout (c1m's rule for
 * falling behind: labclient --ping-stop-behind, refhold's last argument): a rate past the knee then ends almost
 * no connection, and the fill serves the next hold. Without it, a miss at 100k ended 80-95% of them.
 */
const STOP_BEHIND = 1;
const PROGRAMS: Record<Pair, { client: string; server: string }> = {
  lab: { client: LABCLIENT.name, server: LABSERVER.name },
  ref: { client: 'refhold', server: 'refpong' },
  wide: { client: 'refhold', server: 'refpong' },
};

/** c1m's processes (a million connections under this cap), over however many connections: what the process count costs. */
export const WIDE_AT = 1_000_000;

/** The layout a pair runs at: the lab's for both pairs; for 'wide', c1m's process counts over the same connections. */
export function shapeFor(pair: Pair, layout: Layout, nofile: number): Layout {
  if (pair !== 'wide') return layout;
  const c1m = layoutFor(WIDE_AT, nofile);
  return { ...layout, processesPerClient: Math.ceil((c1m.clients * c1m.processesPerClient) / layout.clients), serverWorkers: c1m.serverWorkers };
}

export interface Layout {
  connections: number;
  clients: number;
  perClient: number;
  processesPerClient: number;
  serverWorkers: number;
}

/** How the lab's plan spreads `connections` under an open-file cap of `nofile` (lab/plan/clients.ts, server.ts). */
export function layoutFor(connections: number, nofile: number): Layout {
  const clients = Math.ceil(connections / PER_CLIENT_MAX);
  const perClient = Math.ceil(connections / clients);
  return {
    connections,
    clients,
    perClient,
    processesPerClient: clientProcessesFor(perClient, nofile),
    serverWorkers: serverWorkersFor(connections, nofile, PORTS.length),
  };
}

export interface Rig {
  layout: Layout;
  server: BenchHost;
  clients: BenchHost[];
  /** Each host's TCP sockets before any probe (Docker's DNS resolver listens inside every container), by container id. */
  idleTcp: Map<string, number>;
}

export async function makeRig(ctx: BenchContext, layout: Layout): Promise<Rig> {
  const sysctls = { 'net.ipv4.ip_local_port_range': CLIENT_RANGE };
  const [server, ...clients] = await Promise.all([
    ctx.bench.start({ image: ctx.images.benchServer, role: 'hold-server', nofile: ctx.nofile }),
    ...Array.from({ length: layout.clients }, () => ctx.bench.start({ image: ctx.images.bench, role: 'hold-client', nofile: ctx.nofile, sysctls })),
  ]);
  const idleTcp = new Map<string, number>();
  for (const h of [server!, ...clients]) idleTcp.set(h.container.id, await tcpInUse(ctx, h));
  return { layout, server: server!, clients, idleTcp };
}

export async function removeRig(ctx: BenchContext, rig: Rig): Promise<void> {
  await ctx.bench.remove(rig.server.container, ...rig.clients.map((c) => c.container));
}

export interface Probe {
  pair: Pair;
  rate: number;
  intervalMs: number;
  /** The connections still held after the hold (a timeout ends one). */
  established: number;
  sent: number;
  asked: number;
  pongs: number;
  timeouts: number;
  /** Client processes that fell behind (a Pong later than a quarter of the timeout) and stopped pinging. */
  behind: number;
  /** The worst client's p99 and max round trip, µs. */
  p99Us: number;
  maxUs: number;
  holdMs: number;
  keptUp: boolean;
  fillMs: number;
  /** What the hold cost both sides' containers, and the machine's softirqs, over the hold. */
  cost: Counters;
  /** The window the cost was read over, s. */
  windowS: number;
  /** The hold on CLOCK_MONOTONIC, s (process.hrtime): the window for `perf record -k monotonic`'s --time. */
  monotonic: [number, number];
  /** Which hold on its fill this was (1 for the first). */
  hold: number;
}

/** The interval that gives `rate` pings/s over the layout's connections (what the programs take). */
export const intervalFor = (layout: Layout, rate: number) => Math.max(1, Math.round((layout.connections * 1000) / rate));

function serverArgv(pair: Pair, layout: Layout, deadlineS: number): string[] {
  if (pair === 'lab')
    return labserverArgv({ ports: PORTS, backlog: 4096, workers: layout.serverWorkers, deadlineSeconds: deadlineS, progressMs: 200 });
  return ['refpong', PORTS.join(','), String(layout.serverWorkers), String(deadlineS)];
}

function clientArgv(pair: Pair, layout: Layout, targets: string[], intervalMs: number, deadlineS: number): string[] {
  if (pair === 'lab')
    return labclientArgv({
      targets,
      count: layout.perClient,
      processes: layout.processesPerClient,
      inflight: INFLIGHT,
      bind: 'none',
      deadlineSeconds: deadlineS,
      holdPing: { seconds: HOLD_S, intervalMs, timeoutMs: TIMEOUT_MS },
      pingStopBehind: true,
    });
  const args = [layout.perClient, layout.processesPerClient, INFLIGHT, intervalMs, TIMEOUT_MS, HOLD_S, deadlineS, STOP_BEHIND].map(String);
  return ['refhold', targets.join(','), ...args];
}

interface HeldLine {
  open: number;
  hold_ping: { sent: number; pongs: number; timeouts: number; hold_ms: number; behind: number; rtt_us: { p99: number; max: number } };
}

/** A fill stays for hold after hold while it keeps at least this share of its connections (a timeout ends one). */
const KEEP_FILL_ABOVE = 0.99;
/** The programs' deadline: a fill lives for a size's rounds of one pair. */
const FILL_DEADLINE_S = 1800;

/** One pair's programs running on the rig with their connections up: each hold at a rate is a probe. */
export interface Fill {
  pair: Pair;
  layout: Layout;
  server: Program;
  clients: Program[];
  fillMs: number;
  /** The connections held now (a timeout ends its connection): what the next hold's interval is cut for. */
  held: number;
  /** Holds made on this fill so far. */
  holds: number;
}

/** Fills the rig with one pair's connections: both programs started, every connection accepted. */
export async function fill(ctx: BenchContext, rig: Rig, pair: Pair): Promise<Fill> {
  const { bench } = ctx;
  const layout = shapeFor(pair, rig.layout, ctx.nofile);
  const server = await bench.run(rig.server.container, serverArgv(pair, layout, FILL_DEADLINE_S));
  try {
    const ready = await server.waitLine((j) => j.type === 'ready' || j.type === 'error', 20_000);
    if (ready.json.type !== 'ready') throw new Error(`${PROGRAMS[pair].server}: ${JSON.stringify(ready.json)}`);
    const targets = PORTS.map((p) => `${rig.server.ip}:${p}`);
    const t0 = performance.now();
    // The interval on the command line is never used: every hold brings its own.
    const argv = clientArgv(pair, layout, targets, 60_000, FILL_DEADLINE_S);
    const clients = await Promise.all(rig.clients.map((c) => bench.run(c.container, argv, t0)));
    const filled = await Promise.all(clients.map((c) => c.waitLine((j) => j.type === 'filled', 300_000)));
    const established = filled.reduce((s, f) => s + Number(f.json.established), 0);
    if (established < layout.connections) throw new Error(`${pair}: ${established} of ${layout.connections} connections established`);
    // A Ping on a connection still in an accept queue waits for that accept (c2m's lesson): hold once all are in.
    await untilAccepted(server, established, 60_000);
    return { pair, layout, server, clients, fillMs: Math.round(Math.max(...filled.map((f) => f.at))), held: established, holds: 0 };
  } catch (error) {
    await clear(ctx, rig, pair);
    throw error;
  }
}

/** Everything the fill opened is gone afterwards. */
export const release = (ctx: BenchContext, rig: Rig, f: Fill) => clear(ctx, rig, f.pair);

/**
 * One hold at `rate` on the fill: every client told "hold now" with the interval that gives `rate` over the
 * connections held now (a value sent with the signal), and its next "held" line read. Pings still out when a
 * hold ends settle (or time out) before the next starts.
 */
export async function holdAt(ctx: BenchContext, rig: Rig, f: Fill, rate: number): Promise<Probe> {
  const { bench } = ctx;
  const intervalMs = intervalFor({ ...f.layout, connections: f.held }, rate);
  const from = f.clients.map((c) => c.lines.length);
  const everything = [rig.server.container, ...rig.clients.map((c) => c.container)];
  const before = await readCounters(everything);
  const tHold = performance.now();
  const monotonicStart = monotonicS();
  const client = PROGRAMS[f.pair].client;
  await Promise.all(rig.clients.map((c) => bench.exec(c.container, ['pkill', '-USR2', '--queue', String(intervalMs), '-x', client])));
  const held = await Promise.all(f.clients.map((c, i) => c.waitLine((j) => j.type === 'held', (HOLD_S + 60) * 1000, from[i])));
  const cost = difference(before, await readCounters(everything));
  const windowS = (performance.now() - tHold) / 1000;
  const asked = { pair: f.pair, rate, intervalMs, connections: f.held };
  const probe = {
    ...summarize(asked, held, f.fillMs, cost, windowS),
    monotonic: [monotonicStart, monotonicS()] as [number, number],
    hold: ++f.holds,
  };
  f.held = probe.established;
  await sleep(TIMEOUT_MS);
  return probe;
}

/** What a Prober does with the rig: the real ones are `fill`, `holdAt` and `release` on a BenchContext. */
export interface HoldRig {
  fill(pair: Pair): Promise<Fill>;
  hold(f: Fill, rate: number): Promise<Probe>;
  release(f: Fill): Promise<void>;
}

export const holdRig = (ctx: BenchContext, rig: Rig): HoldRig => ({
  fill: (pair) => fill(ctx, rig, pair),
  hold: (f, rate) => holdAt(ctx, rig, f, rate),
  release: (f) => release(ctx, rig, f),
});

/**
 * Probes pair after pair on one rig, keeping the last pair's fill for its next holds: a new fill only when
 * the pair changes or timeouts took more than a hundredth of the connections.
 */
export class Prober {
  private current?: Fill;
  fills = 0;

  constructor(private readonly rig: HoldRig) {}

  async measure(pair: Pair, rate: number): Promise<Probe> {
    let f = this.current;
    if (!f || f.pair !== pair || f.held < f.layout.connections * KEEP_FILL_ABOVE) {
      await this.close();
      f = this.current = await this.rig.fill(pair);
      this.fills++;
    }
    return this.rig.hold(f, rate);
  }

  async close(): Promise<void> {
    const f = this.current;
    this.current = undefined;
    if (f) await this.rig.release(f);
  }
}

function summarize(
  { pair, rate, intervalMs, connections }: { pair: Pair; rate: number; intervalMs: number; connections: number },
  held: ProgramLine[],
  fillMs: number,
  cost: Counters,
  windowS: number,
): Omit<Probe, 'monotonic' | 'hold'> {
  const lines = held.map((h) => h.json as unknown as HeldLine);
  const total = (pick: (l: HeldLine) => number) => lines.reduce((s, l) => s + pick(l), 0);
  const holdMs = Math.max(...lines.map((l) => l.hold_ping.hold_ms));
  // What the pair was asked: every connection once per interval, over the hold.
  const asked = Math.round((connections * (holdMs / 1000)) / (intervalMs / 1000));
  const sent = total((l) => l.hold_ping.sent);
  const timeouts = total((l) => l.hold_ping.timeouts);
  const behind = total((l) => l.hold_ping.behind);
  const p99Us = Math.max(...lines.map((l) => l.hold_ping.rtt_us.p99));
  return {
    pair,
    rate,
    intervalMs,
    established: total((l) => l.open),
    sent,
    asked,
    pongs: total((l) => l.hold_ping.pongs),
    timeouts,
    behind,
    p99Us,
    maxUs: Math.max(...lines.map((l) => l.hold_ping.rtt_us.max)),
    holdMs,
    keptUp: behind === 0 && timeouts === 0 && p99Us < TIMEOUT_MS * 1000 && sent >= asked * SENT_SHARE,
    fillMs: Math.round(fillMs),
    cost,
    windowS: Math.round(windowS * 10) / 10,
  };
}

const monotonicS = () => Math.round(Number(process.hrtime.bigint() / 1_000_000n)) / 1000;

async function untilAccepted(server: Program, count: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const accepted = () => Number(server.lines.at(-1)?.json.accepted ?? 0);
  while (accepted() < count && performance.now() < deadline) await sleep(100);
  if (accepted() < count) throw new Error(`the server accepted ${accepted()} of ${count} within ${timeoutMs} ms`);
}

/**
 * Every connection aborted from the server's side (a reset each: no TIME_WAIT on either side), both programs
 * killed, and every container of the rig empty again.
 */
async function clear(ctx: BenchContext, rig: Rig, pair: Pair): Promise<void> {
  const pid = await ctx.bench.engine.pid(rig.server.container);
  await $({ quiet: true, nothrow: true })`nsenter -t ${pid} -n ss -K state established`;
  await ctx.bench.exec(rig.server.container, ['pkill', '-KILL', '-x', PROGRAMS[pair].server]).catch(() => undefined);
  await Promise.all(rig.clients.map((c) => ctx.bench.exec(c.container, ['pkill', '-KILL', '-x', PROGRAMS[pair].client]).catch(() => undefined)));
  await Promise.all(
    [rig.server, ...rig.clients].map((h) =>
      until(
        `a hold container holds no more TCP sockets than before the probes after ${pair}'s probe`,
        async () => (await tcpInUse(ctx, h)) <= (rig.idleTcp.get(h.container.id) ?? 0),
        180_000,
      ),
    ),
  );
}

/**
 * The container's TCP sockets, from its namespace's /proc/net/sockstat (inuse and tw are per namespace):
 * constant time, where ss walks the machine's whole established table (every namespace's millions).
 */
async function tcpInUse(ctx: BenchContext, host: BenchHost): Promise<number> {
  const { stdout } = await ctx.bench.exec(host.container, ['cat', '/proc/net/sockstat']);
  const m = /^TCP: inuse (\d+) orphan \d+ tw (\d+)/m.exec(stdout);
  return m ? Number(m[1]) + Number(m[2]) : -1;
}

export interface Search {
  pair: Pair;
  probes: Probe[];
  /** The highest rate kept up with, and the lowest not (undefined: none found within the probes). */
  kept?: number;
  missed?: number;
}

/**
 * Each pair's search in turn, from `start`: up by `step` while kept, down while not, then halving the bracket
 * (geometric means) until it is within `resolution` or `maxProbes` are spent. One pair after the other, so that
 * each searches on one fill; pairs that behave alike probe the same rates. Rates are whole pings/s.
 */
export async function searchKnees(
  measure: (pair: Pair, rate: number) => Promise<Probe>,
  pairs: Pair[],
  start: number,
  opts: { maxProbes: number; step: number; resolution: number; min: number; max: number },
  seeds: Partial<Record<Pair, Probe>> = {},
): Promise<Record<Pair, Search>> {
  const searches = {} as Record<Pair, Search>;
  for (const pair of pairs) {
    const search: Search = { pair, probes: [] };
    searches[pair] = search;
    // A probe already made (the cost probe) counts as found, not as one of maxProbes.
    const seed = seeds[pair];
    if (seed) record(search, seed);
    let rate: number | undefined = start;
    for (let n = 0; n < opts.maxProbes && rate !== undefined; n++) {
      record(search, await measure(pair, rate));
      rate = nextRate(search, rate, opts);
    }
  }
  return searches;
}

function record(search: Search, p: Probe): void {
  search.probes.push(p);
  if (p.keptUp) search.kept = Math.max(search.kept ?? 0, p.rate);
  else search.missed = Math.min(search.missed ?? Infinity, p.rate);
}

export function nextRate(
  s: Pick<Search, 'kept' | 'missed'>,
  last: number,
  opts: { step: number; resolution: number; min: number; max: number },
): number | undefined {
  if (s.kept !== undefined && s.missed !== undefined) {
    if (s.missed / s.kept <= opts.resolution) return undefined;
    return Math.round(Math.sqrt(s.kept * s.missed));
  }
  const next = Math.round(s.kept !== undefined ? last * opts.step : last / opts.step);
  return next < opts.min || next > opts.max ? undefined : next;
}
