/**
 * `npm run bench [-- --only rate,node,rss,overhead,demo] [--skip ...] [--quick] [--reps N]`
 *
 * Measures, side by side in one run on this machine, the lab's flood client (labclient) against a minimal
 * reference connector (images/bench/refconnect.c) and a plain Node net.connect flood, the user-space bytes
 * per held connection of labclient and labserver, the lab's own create/teardown overhead, and the 64k-myth
 * demo's flood phases against the reference doing the same fills. Prints each figure as it completes, then
 * a table; writes bench/results/latest.json. See BENCHMARKS.md for the method.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { planCase } from '../lab/plan/plan.ts';
import { clientProcessesFor, labclientArgv, labserverArgv, serverWorkersFor } from '../lab/programs/argv.ts';
import { LABCLIENT, LABSERVER } from '../lab/programs/programs.ts';
import { DockerRuntime } from '../lab/runtime/docker/docker-runtime.ts';
import { RUN_LABEL } from '../lab/runtime/docker/labels.ts';
import type { Container } from '../lab/runtime/docker/plain-engine.ts';
import { defineScenario } from '../lab/scenario/define.ts';
import { loadScenario } from '../lab/scenario/load.ts';
import { runScenario } from '../lab/run/scenario-run.ts';
import type { Host } from '../lab/runtime/runtime.ts';
import type { DockerHost } from '../lab/runtime/docker/host.ts';
import type { PlannedClient } from '../lab/plan/plan.ts';
import { $ } from 'zx';
import { BenchDocker, freeBenchSubnet, median, sleep, type Program } from './lib.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const PARTS = ['rate', 'node', 'rss', 'overhead', 'demo'] as const;
type Part = (typeof PARTS)[number];

// ------------------------------------------------------------------------------------------- options

interface Options {
  parts: Part[];
  quick: boolean;
  reps: number;
  out: string;
  maxWaitS: number;
  /** The demo's cases to run (0-based), all by default. */
  demoCases?: number[];
  /** In the demo, also labclient started by the bench itself with the lab's argv: the lab without its orchestration. */
  demoBare: boolean;
}

const FLAGS = {
  only: { type: 'string' },
  skip: { type: 'string' },
  quick: { type: 'boolean' },
  reps: { type: 'string' },
  'max-wait': { type: 'string' },
  out: { type: 'string' },
  'demo-cases': { type: 'string' },
  'demo-bare': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** The flags in order, each as it comes: the first one wrong (or --help) ends the bench with the usage. */
function parseOptions(argv: string[]): Options {
  let only: Part[] | undefined;
  let skip: Part[] = [];
  let quick = false;
  let reps: number | undefined;
  let out = join(root, 'bench/results/latest.json');
  let maxWaitS = 90;
  let demoCases: number[] | undefined;
  let demoBare = false;
  const parts = (text: string | undefined): Part[] => {
    const names = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const bad = names.filter((n) => !(PARTS as readonly string[]).includes(n));
    if (bad.length || !names.length) usage(`unknown part(s) '${bad.join(',') || text}': choose from ${PARTS.join(', ')}`);
    return names as Part[];
  };
  // Not strict: an unknown flag, a positional or '--' is said as the argument it was, with the usage.
  const { tokens } = parseArgs({ args: argv, options: FLAGS, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    const arg = argv[token.index]!;
    // A group of short flags (-hq) is none of the bench's.
    if (token.kind !== 'option' || !Object.hasOwn(FLAGS, token.name) || !(arg === token.rawName || arg.startsWith(`${token.rawName}=`))) usage(`unknown argument ${arg}`);
    // A flag last on the line has no value; a boolean one given a value (--quick=1) is just on.
    const value = typeof token.value === 'string' ? token.value : undefined;
    const name = token.name as keyof typeof FLAGS;
    if (name === 'only') only = parts(value);
    else if (name === 'skip') skip = parts(value);
    else if (name === 'quick') quick = true;
    else if (name === 'reps') reps = Number(value);
    else if (name === 'max-wait') maxWaitS = Number(value);
    else if (name === 'out') out = value ?? usage('--out needs a file');
    else if (name === 'demo-cases') demoCases = (value ?? '').split(',').map((n) => Number(n) - 1);
    else if (name === 'demo-bare') demoBare = true;
    else usage();
  }
  if (reps !== undefined && (!Number.isInteger(reps) || reps < 1 || reps > 15)) usage('--reps must be 1..15');
  if (demoCases?.some((n) => !Number.isInteger(n) || n < 0)) usage('--demo-cases takes case numbers from 1, comma-separated');
  return { parts: (only ?? [...PARTS]).filter((p) => !skip.includes(p)), quick, reps: reps ?? (quick ? 1 : 3), out, maxWaitS, demoCases, demoBare };
}

function usage(message?: string): never {
  if (message) console.error(`bench: ${message}`);
  console.error(`usage: npm run bench -- [--only ${PARTS.join(',')}] [--skip ...] [--quick] [--reps N] [--max-wait S] [--out file.json] [--demo-cases 1,3] [--demo-bare]`);
  process.exit(message ? 2 : 0);
}

// ------------------------------------------------------------------------------------------- sizes

interface Sizes {
  sparseCount: number;
  sparseRange: string;
  sparsePorts: number[];
  fullRange: string;
  rssCount: number;
  overheadClients: number;
  overheadReps: number;
}

function sizes(quick: boolean): Sizes {
  return quick
    ? { sparseCount: 4000, sparseRange: '1024 65535', sparsePorts: [8080, 8081, 8082, 8083], fullRange: '40000 41999', rssCount: 5000, overheadClients: 16, overheadReps: 1 }
    : // 19,000 and not 20,000: the engine caps a container's open files at dockerd's own hard limit (20,000
      // here), so one process cannot hold 20,000 sockets. Still < 10% of each destination's 64,512 ports.
      { sparseCount: 19000, sparseRange: '1024 65535', sparsePorts: [8080, 8081, 8082, 8083], fullRange: '40000 49999', rssCount: 20000, overheadClients: 16, overheadReps: 3 };
}

const INFLIGHT = 256;
const FLOOD_DEADLINE_S = 120;

// ------------------------------------------------------------------------------------------- output

const results: Record<string, unknown> = {};
const table: Array<[string, string, string, string]> = [];
const say = (line: string) => console.log(line);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

function row(what: string, figure: string, target: string, met: string): void {
  table.push([what, figure, target, met]);
}

function printTable(): void {
  const head: [string, string, string, string] = ['measurement', 'figure', 'target', 'verdict'];
  const all = [head, ...table];
  const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  say('');
  say(line(head));
  say(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of table) say(line(r));
}

// ------------------------------------------------------------------------------------------- context

interface Images {
  base: string;
  client: string;
  server: string;
  bench: string;
}

interface Ctx {
  bench: BenchDocker;
  images: Images;
  nofile: number;
  sizes: Sizes;
  reps: number;
  quick: boolean;
  maxWaitS: number;
  demoCases?: number[];
  demoBare: boolean;
}

function buildBenchImage(bench: BenchDocker, base: string, client: string): Promise<string> {
  return bench.engine.buildImage({
    context: root,
    files: ['images/bench/Dockerfile.refconnect', 'images/bench/refconnect.c'],
    tag: `lab-bench-refconnect:${bench.runId}`,
    dockerfile: 'images/bench/Dockerfile.refconnect',
    buildArgs: { BASE_IMAGE: base, CLIENT_IMAGE: client, BENCH_RUN: bench.runId },
    labels: bench.labels(),
  });
}

// ------------------------------------------------------------------------------------------- floods

type Tool = 'lab' | 'ref' | 'node';

interface FillSpec {
  name: string;
  range: string;
  ports: number[];
  count: number;
}

interface FillResult {
  tool: Tool;
  established: number;
  failed: number;
  /** The program's own clock: start of the flood to the last connect done. */
  internalMs: number;
  /** Seen from the bench: exec asked to start -> the program's "filled"/"done" line read. */
  externalMs: number;
  quiet: Quiet;
}

interface Quiet {
  /** CPU busy fraction (all cores) over the second before the flood started. */
  busy: number;
  waitedMs: number;
  /** Running containers of other lab runs (another user of the machine) when the flood started. */
  otherLabContainers: number;
}

const QUIET_BUSY = 0.15;
const isQuiet = (r: { quiet: Quiet }) => r.quiet.busy <= QUIET_BUSY && r.quiet.otherLabContainers === 0;

function floodArgv(tool: Tool, targets: string[], count: number, processes = 1): string[] {
  // The argv lab/plan/plan.ts gives a client that asks for nothing more (bind none).
  if (tool === 'lab') return labclientArgv({ targets, count, processes, inflight: INFLIGHT, bind: 'none', deadlineSeconds: FLOOD_DEADLINE_S });
  if (tool === 'ref') return ['refconnect', targets.join(','), String(count), String(INFLIGHT), String(FLOOD_DEADLINE_S), '60'];
  return ['node', '/bench/node-flood.mjs', targets.join(','), String(count), String(INFLIGHT), String(FLOOD_DEADLINE_S), '60'];
}

const isDone = (json: Record<string, unknown>) => json.type === 'filled' || json.type === 'done';

async function startServer(ctx: Ctx, container: Container, ports: number[], workers = 1): Promise<Program> {
  const server = await ctx.bench.run(container, labserverArgv({ ports, backlog: 4096, workers, deadlineSeconds: 600, progressMs: 200 }));
  const ready = await server.waitLine((j) => j.type === 'ready' || j.type === 'error', 20_000);
  if (ready.json.type !== 'ready') throw new Error(`labserver: ${JSON.stringify(ready.json)}`);
  return server;
}

interface Rig {
  server: { container: Container; ip: string };
  client: { container: Container; ip: string };
  round: number;
}

/**
 * One server and one client container per fill, kept for every tool and repetition: creating and removing
 * containers between measurements leaves the kernel tearing down network namespaces (kworkers) under the
 * next one. Each measurement gets a fresh labserver on fresh ports, and the server closes first, so the
 * TIME_WAIT sockets stay on the server side and the client's ranges are whole again for the next tool.
 */
async function makeRig(ctx: Ctx, fill: FillSpec): Promise<Rig> {
  const binds = [`${process.execPath}:/usr/local/bin/node:ro`, `${join(root, 'bench/node-flood.mjs')}:/bench/node-flood.mjs:ro`];
  const [server, client] = await Promise.all([
    ctx.bench.start({ image: ctx.images.server, role: 'server', nofile: ctx.nofile }),
    ctx.bench.start({ image: ctx.images.bench, role: 'client', nofile: ctx.nofile, sysctls: { 'net.ipv4.ip_local_port_range': fill.range }, binds }),
  ]);
  return { server, client, round: 0 };
}

const PROGRAM_NAME: Record<Tool, string> = { lab: LABCLIENT.name, ref: 'refconnect', node: 'node' };

/** The container's own TCP sockets: established ones, and any other but listeners (TIME_WAIT, FIN_WAIT, ...). */
async function socketsIn(ctx: Ctx, container: Container): Promise<{ estab: number; notListening: number }> {
  // Not ss -s's "orphaned": that one is host-wide, so another namespace's closing sockets would count.
  const { stdout } = await ctx.bench.exec(container, ['sh', '-c', 'ss -tanH state established | wc -l; ss -tanH exclude listening | wc -l']);
  const [estab, notListening] = stdout.trim().split(/\s+/).map(Number);
  return { estab: estab ?? -1, notListening: notListening ?? -1 };
}

/** CPU seconds (user, system) the processes named `name` in these containers have used so far, from /proc. */
async function cpuSeconds(ctx: Ctx, containers: Container[], name: string): Promise<{ user: number; system: number }> {
  const TICK = 100; // USER_HZ
  const outs = await Promise.all(containers.map((c) => ctx.bench.exec(c, ['sh', '-c', `for p in $(pgrep -x ${name}); do cat /proc/$p/stat; done`])));
  let user = 0;
  let system = 0;
  for (const line of outs.flatMap((o) => o.stdout.split('\n')).filter(Boolean)) {
    // After the ")" closing the command name: state is field 3, utime 14, stime 15.
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    // An earlier fill's killed workers linger as zombies (the containers' PID 1 is sleep, which reaps none).
    if (fields[0] === 'Z') continue;
    user += Number(fields[11]) / TICK;
    system += Number(fields[12]) / TICK;
  }
  return { user: Math.round(user * 100) / 100, system: Math.round(system * 100) / 100 };
}

/** Waits until the container holds no TCP socket but its listeners; says what was left if it does not. */
async function untilNoSockets(ctx: Ctx, what: string, container: Container, timeoutMs: number): Promise<void> {
  let left = -1;
  await until(what, async () => (left = (await socketsIn(ctx, container)).notListening) === 0, timeoutMs).catch((e: Error) => {
    throw new Error(`${e.message}: ${left} socket(s) left`);
  });
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** One fill by one tool on the rig. */
async function measureFill(ctx: Ctx, rig: Rig, tool: Tool, fill: FillSpec): Promise<FillResult> {
  const { bench } = ctx;
  const ports = fill.ports.map((p) => p + 10 * rig.round++);
  const server = await startServer(ctx, rig.server.container, ports);
  const targets = ports.map((p) => `${rig.server.ip}:${p}`);
  const quiet = await quietGate(ctx);
  try {
    const t0 = performance.now();
    const program = await bench.run(rig.client.container, floodArgv(tool, targets, fill.count), t0);
    const line = await program.waitLine(isDone, (FLOOD_DEADLINE_S + 10) * 1000);
    const j = line.json as { established: number; failed: number; t_ms?: number; elapsed_ms?: number };
    return { tool, established: j.established, failed: j.failed, internalMs: tool === 'lab' ? j.t_ms! : j.elapsed_ms!, externalMs: line.at, quiet };
  } finally {
    // Server first (its side keeps the TIME_WAITs), then the flood program; then the client must be empty.
    await bench.exec(rig.server.container, ['pkill', '-KILL', '-x', LABSERVER.name]);
    await server.exited;
    await until('the client sees every connection closed by the server', async () => (await socketsIn(ctx, rig.client.container)).estab === 0, 30_000).catch(() => undefined);
    await bench.exec(rig.client.container, ['pkill', '-KILL', '-x', PROGRAM_NAME[tool]]);
    await untilNoSockets(ctx, 'the client holds no socket', rig.client.container, 30_000);
  }
}

/**
 * Waits until the machine is quiet (CPU under QUIET_BUSY for one second, read from /proc/stat) for at most
 * --max-wait seconds; says how busy it was when the measurement started.
 */
async function quietGate(ctx: Ctx): Promise<Quiet> {
  const started = performance.now();
  let busy = 1;
  while (true) {
    busy = await cpuBusy(1000);
    // Another lab run's held sockets sit in the kernel's global TCP hash tables and slow every connect():
    // quiet means no CPU load and none of those either.
    if (busy <= QUIET_BUSY && (await foreignLabContainers(ctx)) === 0) break;
    if (performance.now() - started > ctx.maxWaitS * 1000) break;
  }
  const others = await foreignLabContainers(ctx);
  const quiet = { busy: Math.round(busy * 100) / 100, waitedMs: Math.round(performance.now() - started), otherLabContainers: others };
  if (busy > QUIET_BUSY || others) say(`  (noisy: cpu ${Math.round(busy * 100)}% busy after waiting ${fmt(quiet.waitedMs / 1000, 1)} s; ${others} running container(s) of other lab runs)`);
  return quiet;
}

async function cpuBusy(ms: number): Promise<number> {
  const read = async () => (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const a = await read();
  await sleep(ms);
  const b = await read();
  const d = b.map((v, i) => v - a[i]!);
  const total = d.reduce((x, y) => x + y, 0);
  const idle = d[3]! + d[4]!;
  return total > 0 ? 1 - idle / total : 0;
}

async function foreignLabContainers(ctx: Ctx): Promise<number> {
  const running = await ctx.bench.engine.runningLabelled(RUN_LABEL);
  return running.filter((labels) => {
    const run = labels[RUN_LABEL] ?? '';
    return !run.startsWith(ctx.bench.runId);
  }).length;
}

interface Summary {
  tool: Tool;
  runs: FillResult[];
  /** How many runs the medians are over: the quiet ones when there are any, else all. */
  counted: number;
  quietOnly: boolean;
  established: number;
  rate: number;
  internalRate: number;
}

/** Medians over the runs the quiet gate let through quiet; over every run when none was. */
function summarize(tool: Tool, runs: FillResult[]): Summary {
  const quiet = runs.filter(isQuiet);
  const counted = quiet.length ? quiet : runs;
  return {
    tool,
    runs,
    counted: counted.length,
    quietOnly: quiet.length > 0,
    established: median(counted.map((r) => r.established)),
    rate: median(counted.map((r) => r.established / (r.externalMs / 1000))),
    internalRate: median(counted.map((r) => r.established / (r.internalMs / 1000))),
  };
}

const over = (s: Summary) => `median of ${s.counted}${s.quietOnly ? ' quiet' : ' (none quiet)'}`;

/** reps rounds; the order of the tools turns each round so that neither always goes first. */
async function alternate(ctx: Ctx, tools: Tool[], fill: FillSpec): Promise<Record<Tool, Summary>> {
  const runs: Record<string, FillResult[]> = Object.fromEntries(tools.map((t) => [t, []]));
  const rig = await makeRig(ctx, fill);
  try {
    for (let rep = 0; rep < ctx.reps; rep++) {
      const order = rep % 2 === 0 ? tools : [...tools].reverse();
      for (const tool of order) {
        const r = await measureFill(ctx, rig, tool, fill);
        runs[tool]!.push(r);
        say(
          `  ${fill.name} #${rep + 1} ${tool.padEnd(4)}: ${fmt(r.established)} established, ${r.failed} failed, ` +
            `${fmt(r.externalMs)} ms end to end (${fmt(r.established / (r.externalMs / 1000))}/s), ` +
            `${fmt(r.internalMs)} ms own clock (${fmt(r.established / (r.internalMs / 1000))}/s); cpu ${Math.round(r.quiet.busy * 100)}% busy before`,
        );
      }
    }
  } finally {
    await ctx.bench.remove(rig.server.container, rig.client.container);
  }
  return Object.fromEntries(tools.map((t) => [t, summarize(t, runs[t]!)])) as Record<Tool, Summary>;
}

const sparseFill = (s: Sizes): FillSpec => ({ name: 'sparse', range: s.sparseRange, ports: s.sparsePorts, count: s.sparseCount });
const fullFill = (s: Sizes): FillSpec => {
  const [lo, hi] = s.fullRange.split(' ').map(Number);
  // As the lab's 'fill': ask for more than the range holds, so the flood ends on EADDRNOTAVAIL.
  return { name: 'full range', range: s.fullRange, ports: [8080], count: hi! - lo! + 1 + 16 };
};

// ------------------------------------------------------------------------------------------- parts

async function partRate(ctx: Ctx): Promise<void> {
  say(`\n[rate] labclient vs refconnect: 1 process each, ${INFLIGHT} in flight, median of ${ctx.reps}`);
  const out: Record<string, unknown> = {};
  for (const fill of [sparseFill(ctx.sizes), fullFill(ctx.sizes)]) {
    say(` ${fill.name}: range "${fill.range}" to ${fill.ports.length} port(s), ${fmt(fill.count)} asked`);
    const s = await alternate(ctx, ['lab', 'ref'], fill);
    const ratio = s.lab.rate / s.ref.rate;
    const ratioOwn = s.lab.internalRate / s.ref.internalRate;
    say(` => ${fill.name}: lab ${fmt(s.lab.rate)}/s, ref ${fmt(s.ref.rate)}/s, lab/ref ${fmt(ratio, 2)} end to end; own clocks ${fmt(s.lab.internalRate)}/s vs ${fmt(s.ref.internalRate)}/s, ${fmt(ratioOwn, 2)}`);
    row(`rate ${fill.name}: labclient (end to end)`, `${fmt(s.lab.rate)}/s (${fmt(s.lab.established)} conns, ${over(s.lab)})`, '', '');
    row(`rate ${fill.name}: refconnect (end to end)`, `${fmt(s.ref.rate)}/s (${fmt(s.ref.established)} conns, ${over(s.ref)})`, '', '');
    row(`rate ${fill.name}: lab/ref end to end`, fmt(ratio, 2), '>= 0.9', verdict(ratio >= 0.9));
    row(`rate ${fill.name}: lab/ref own clocks`, `${fmt(ratioOwn, 2)} (${fmt(s.lab.internalRate)} vs ${fmt(s.ref.internalRate)}/s)`, '>= 0.9', verdict(ratioOwn >= 0.9));
    out[fill.name] = { fill, ...s, ratio, ratioOwnClocks: ratioOwn };
  }
  results.rate = out;
}

async function partNode(ctx: Ctx): Promise<void> {
  const fill = sparseFill(ctx.sizes);
  say(`\n[node] plain Node net.connect flood vs refconnect, sparse fill (${fmt(fill.count)} to ${fill.ports.length} ports), median of ${ctx.reps}`);
  const s = await alternate(ctx, ['node', 'ref'], fill);
  const ratio = s.node.rate / s.ref.rate;
  say(` => node ${fmt(s.node.rate)}/s, ref ${fmt(s.ref.rate)}/s, node/ref ${fmt(ratio, 2)} (own clocks ${fmt(s.node.internalRate / s.ref.internalRate, 2)})`);
  row('rate sparse: node net.connect (end to end)', `${fmt(s.node.rate)}/s (${fmt(s.node.established)} conns, ${over(s.node)})`, '', '');
  row('rate sparse: node/ref end to end', fmt(ratio, 2), '(info)', '');
  row('rate sparse: node/ref own clocks', fmt(s.node.internalRate / s.ref.internalRate, 2), '(info)', '');
  results.node = { fill, ...s, ratio, ratioOwnClocks: s.node.internalRate / s.ref.internalRate, nodeVersion: process.version };
}

async function partRss(ctx: Ctx): Promise<void> {
  const { bench, sizes: sz } = ctx;
  const n = sz.rssCount;
  const processes = clientProcessesFor(n, ctx.nofile);
  const workers = serverWorkersFor(n, ctx.nofile, sz.sparsePorts.length);
  say(`\n[rss] bytes per held connection: N=${fmt(n)} (labclient ${processes} process(es), labserver ${workers} worker(s), as the lab would plan them)`);
  const [server, client] = await Promise.all([
    bench.start({ image: ctx.images.server, role: 'server', nofile: ctx.nofile }),
    bench.start({ image: ctx.images.client, role: 'client-lab', nofile: ctx.nofile, sysctls: { 'net.ipv4.ip_local_port_range': sz.sparseRange } }),
  ]);
  try {
    const serverProgram = await startServer(ctx, server.container, sz.sparsePorts, workers);
    const targets = sz.sparsePorts.map((p) => `${server.ip}:${p}`);
    await quietGate(ctx);
    const serverBefore = await bench.rssKb(server.container, LABSERVER.name);
    // labclient starts flooding as soon as it starts: its "before" is the same program asked for 0 connections.
    const idle = await bench.run(client.container, floodArgv('lab', targets, 0, processes));
    await idle.waitLine(isDone, 20_000);
    const clientBefore = await bench.rssKb(client.container, LABCLIENT.name);
    await bench.exec(client.container, ['pkill', '-KILL', '-x', LABCLIENT.name]);
    await idle.exited;
    const flood = await bench.run(client.container, floodArgv('lab', targets, n, processes));
    const filled = (await flood.waitLine(isDone, (FLOOD_DEADLINE_S + 10) * 1000)).json as { established: number };
    // The server's own count reaches the client's before it is read.
    await serverProgram.waitLine((j) => j.type === 'progress' && Number(j.open) >= filled.established, 30_000).catch(() => undefined);
    const serverOpen = Number([...serverProgram.lines].reverse().find((l) => l.json.type === 'progress')?.json.open ?? 0);
    const [clientAfter, serverAfter] = await Promise.all([bench.rssKb(client.container, LABCLIENT.name), bench.rssKb(server.container, LABSERVER.name)]);
    const perConn = (before: number, after: number, held: number) => ((after - before) * 1024) / held;
    const c = perConn(clientBefore.kb, clientAfter.kb, filled.established);
    const s = perConn(serverBefore.kb, serverAfter.kb, serverOpen);
    say(`  labclient: ${clientBefore.kb} kB -> ${clientAfter.kb} kB over ${clientAfter.processes} processes, ${fmt(filled.established)} held: ${fmt(c, 1)} bytes/conn`);
    say(`  labserver: ${serverBefore.kb} kB -> ${serverAfter.kb} kB over ${serverAfter.processes} processes, ${fmt(serverOpen)} held: ${fmt(s, 1)} bytes/conn`);
    row(`rss labclient (N=${fmt(filled.established)})`, `${fmt(c, 1)} B/conn (${clientBefore.kb} -> ${clientAfter.kb} kB)`, '<= 64', verdict(c <= 64));
    row(`rss labserver (N=${fmt(serverOpen)})`, `${fmt(s, 1)} B/conn (${serverBefore.kb} -> ${serverAfter.kb} kB)`, '<= 64', verdict(s <= 64));
    results.rss = {
      n, processes, workers,
      labclient: { beforeKb: clientBefore.kb, afterKb: clientAfter.kb, processesCounted: clientAfter.processes, held: filled.established, bytesPerConn: c },
      labserver: { beforeKb: serverBefore.kb, afterKb: serverAfter.kb, processesCounted: serverAfter.processes, held: serverOpen, bytesPerConn: s },
    };
  } finally {
    await bench.remove(server.container, client.container);
  }
}

async function partOverhead(ctx: Ctx, runtime: DockerRuntime): Promise<void> {
  const { bench, sizes: sz } = ctx;
  const clients = sz.overheadClients;
  say(`\n[overhead] the lab's runtime: create (network + ${clients + 1} hosts) and teardown, ${sz.overheadReps} time(s); engine-only baseline beside it`);
  const subnet = await freeBenchSubnet(bench.engine, bench.network ? [bench.network.subnet] : []);
  const scenario = defineScenario({
    name: 'bench-overhead',
    claim: 'how long the lab takes to make and remove a lab',
    subnet,
    server: { ports: [8080] },
    client: { connections: 1 },
    cases: [{ name: `${clients} clients`, clients }],
  });
  const lab: Array<{ createMs: number; teardownMs: number }> = [];
  const raw: Array<{ createMs: number; teardownMs: number }> = [];
  const quiet: Quiet[] = [];
  for (let rep = 0; rep < sz.overheadReps; rep++) {
    const runId = `${bench.runId}-o${rep}`;
    const plan = planCase(scenario, 0, { runId, subnet, quick: false, nofileCeiling: ctx.nofile, file: 'bench/run.ts' });
    quiet.push(await quietGate(ctx));
    const session = runtime.open(runId);
    try {
      await session.prepare(() => {});
      const t0 = performance.now();
      const network = await session.createNetwork(subnet);
      const hosts = await session.startHosts(network, [plan.server, ...plan.clients], 120);
      const t1 = performance.now();
      await Promise.all(hosts.map((h) => h.remove()));
      await session.close();
      const t2 = performance.now();
      lab.push({ createMs: t1 - t0, teardownMs: t2 - t1 });
      say(`  lab runtime #${rep + 1}: create ${fmt(t1 - t0)} ms, teardown ${fmt(t2 - t1)} ms`);
    } finally {
      await session.close().catch(() => undefined);
    }
    // The same containers straight through the engine: no nsenter, nothing else.
    const rawId = `${bench.runId}-r${rep}`;
    quiet.push(await quietGate(ctx));
    try {
      const t0 = performance.now();
      const labels = { [RUN_LABEL]: rawId };
      const network = await bench.engine.createNetwork({ name: rawId, subnet, labels });
      const hosts = [plan.server, ...plan.clients];
      const containers = await Promise.all(
        hosts.map((h) =>
          bench.engine.startContainer({
            name: `${rawId}-${h.name}`,
            image: h.role === 'server' ? ctx.images.server : ctx.images.client,
            cmd: ['sleep', '120'],
            labels,
            network: rawId,
            ip: h.ip,
            sysctls: h.sysctls,
            nofile: h.nofile,
          }),
        ),
      );
      const t1 = performance.now();
      await Promise.all(containers.map((c) => bench.engine.removeContainer(c)));
      await network.remove();
      const t2 = performance.now();
      raw.push({ createMs: t1 - t0, teardownMs: t2 - t1 });
      say(`  engine only #${rep + 1}: create ${fmt(t1 - t0)} ms, teardown ${fmt(t2 - t1)} ms`);
    } finally {
      await bench.cleanup(rawId).catch(() => undefined); // only this baseline's objects
    }
  }
  const m = (xs: typeof lab, k: 'createMs' | 'teardownMs') => median(xs.map((x) => x[k]));
  const create = m(lab, 'createMs');
  const teardown = m(lab, 'teardownMs');
  row(`lab overhead: create 1+${clients} hosts`, `${fmt(create / 1000, 2)} s (engine only ${fmt(m(raw, 'createMs') / 1000, 2)} s)`, '', '');
  row(`lab overhead: teardown 1+${clients} hosts`, `${fmt(teardown / 1000, 2)} s (engine only ${fmt(m(raw, 'teardownMs') / 1000, 2)} s)`, '', '');
  row('lab overhead: create + teardown', `${fmt((create + teardown) / 1000, 2)} s`, '<= 10 s', verdict(create + teardown <= 10_000));
  results.overhead = { clients, subnet, lab, raw, quiet, createMs: create, teardownMs: teardown, rawCreateMs: m(raw, 'createMs'), rawTeardownMs: m(raw, 'teardownMs') };
}

/**
 * The demo, several rounds, each case measured twice in the same containers: the lab's own flood phase (as
 * `lab run` runs it) and the reference doing the same fill, with as many refconnect copies per client as
 * the lab has processes there, against a fresh labserver with the lab's argv. Same namespaces, same
 * addresses: the kernel's hash tables place their ports alike for both. The order turns each round (lab
 * first in rounds 1, 3, ...; the reference first, right after the hosts start, in rounds 2, 4, ...), so that
 * whatever the first fill in a namespace leaves for the second (warm slabs, say) favours neither.
 * Both wait for the same quiet gate. A fill spreads by 20-40% between rounds whatever the tool (the
 * kernel's port search over a nearly spent range is memory-bound, and this machine's memory is shared),
 * so the figures are medians of the per-round ratios, each ratio of two fills minutes apart.
 */
const cpuText = (c?: { user: number; system: number }) => (c ? `${fmt(c.user, 1)}+${fmt(c.system, 1)}` : '?');

interface DemoCase {
  lab: number[];
  labFill: number[];
  ref: number[];
  /** With --demo-bare: labclient started by the bench with the lab's argv. */
  bare: number[];
  /** CPU seconds of the client programs per round: the lab's flood, the reference, the bare labclient. */
  cpu: Array<{ lab?: { user: number; system: number }; ref: { user: number; system: number }; bare?: { user: number; system: number } }>;
  refFirst: boolean[];
  established: number[];
  refEstablished: number[];
  processes: number[];
  quiet: Quiet[];
  refRuns: unknown[];
}

/** The target is for the real demo: --quick fills take a tenth of a second, so fixed costs of a phase dominate. */
const demoVerdict = (ctx: Ctx, ratio: number) => (ctx.quick ? 'n/a (quick)' : verdict(ratio <= 1.1));

async function partDemo(ctx: Ctx, runtime: DockerRuntime): Promise<void> {
  const file = 'scenarios/64k-myth.ts';
  const rounds = ctx.reps;
  say(`\n[demo] ${file}${ctx.quick ? ' --quick' : ''}: each case's flood phase vs refconnect doing the same fill in the same containers, ${rounds} round(s), order turning each round`);
  const scenario = await loadScenario(join(root, file));
  const refconnect = await staticRefconnect();
  const perCase = new Map<string, DemoCase>();
  const labRuns: Array<{ runId: string; pass: boolean; wallMs: number; refFirst: boolean }> = [];
  for (let round = 0; round < rounds; round++) {
    const refFirst = round % 2 === 1;
    await quietGate(ctx);
    const t0 = performance.now();
    // Labelled under the bench's own id, so the quiet gate counts it as the bench's and its cleanup finds it.
    const runId = `${ctx.bench.runId}-d${round}`;
    const measured = new Map<number, { ref?: FillInLabHosts; bare?: FillInLabHosts; floodQuiet?: Quiet; labCpu?: { user: number; system: number } }>();
    const others = async (index: number, hosts: readonly Host[]) => {
      const m = measured.get(index)!;
      m.ref = await fillInLabHosts(ctx, hosts as DockerHost[], 'ref', refconnect);
      if (ctx.demoBare) m.bare = await fillInLabHosts(ctx, hosts as DockerHost[], 'lab', refconnect);
    };
    // The lab's phases as `lab run` runs them; the reference's fills between them, in the same containers.
    const results = await runScenario(runtime, scenario, { file, quick: ctx.quick, ...(ctx.demoCases && { cases: ctx.demoCases }), runId }, {
      caseStarting: (info) => void measured.set(info.index, {}),
      phaseStarted: async (info, phase) => {
        if (phase.name === 'flood') measured.get(info.index)!.floodQuiet = await quietGate(ctx);
      },
      phaseFinished: async (info, phase, { hosts, error }) => {
        if (error) return;
        const m = measured.get(info.index)!;
        if (phase.name === 'hosts' && refFirst) await others(info.index, hosts);
        if (phase.name === 'flood') m.labCpu = await cpuSeconds(ctx, (hosts as DockerHost[]).filter((h) => h.plan.role === 'client').map((h) => h.container), LABCLIENT.name);
        if (phase.name === 'stop' && !refFirst) await others(info.index, hosts);
      },
      caseFinished: (info, { result: labCase }) => {
        if (!labCase) return;
        const { ref, bare, floodQuiet, labCpu } = measured.get(info.index)!;
        const labClients = labCase.hosts.filter((h) => h.role === 'client');
        const entry = perCase.get(labCase.name) ?? { lab: [], labFill: [], ref: [], bare: [], cpu: [], refFirst: [], established: [], refEstablished: [], processes: [], quiet: [], refRuns: [] };
        entry.lab.push(labCase.phases.flood!);
        entry.labFill.push(Math.max(...labClients.map((h) => (h.flood?.fillSeconds ?? 0) * 1000)));
        entry.established.push(labClients.reduce((sum, h) => sum + (h.flood?.established ?? 0), 0));
        entry.ref.push(ref!.ms);
        if (bare) entry.bare.push(bare.ms);
        entry.cpu.push({ lab: labCpu, ref: ref!.cpu, bare: bare?.cpu });
        entry.refFirst.push(refFirst);
        entry.refEstablished.push(ref!.established);
        entry.processes = labClients.map((h) => h.flood?.processes ?? 1);
        entry.quiet.push(floodQuiet!, ref!.quiet);
        entry.refRuns.push(ref!.runs);
        perCase.set(labCase.name, entry);
        say(
          `    round ${round + 1} (${refFirst ? 'reference first' : 'lab first'}), ${labCase.name}: lab flood phase ${fmt(labCase.phases.flood! / 1000, 1)} s ` +
            `(${fmt(entry.established.at(-1)!)} conns), refconnect ${fmt(ref!.ms / 1000, 1)} s (${fmt(ref!.established)} conns): ${fmt(labCase.phases.flood! / ref!.ms, 2)}` +
            (bare ? `; labclient started by the bench ${fmt(bare.ms / 1000, 1)} s (${fmt(bare.established)} conns): ${fmt(bare.ms / ref!.ms, 2)}` : '') +
            `; client cpu s (user+sys): lab ${cpuText(labCpu)}, ref ${cpuText(ref!.cpu)}${bare ? `, bare ${cpuText(bare.cpu)}` : ''}`,
        );
      },
    });
    labRuns.push({ runId: results.runId, pass: results.pass, wallMs: performance.now() - t0, refFirst });
    say(`  round ${round + 1}: lab run ${results.runId}: ${results.pass ? 'pass' : 'FAIL'}`);
  }
  const cases: unknown[] = [];
  const ratiosOf = (c: DemoCase) => c.lab.map((ms, i) => ms / c.ref[i]!);
  for (const [name, c] of perCase) {
    const ratios = ratiosOf(c);
    const ratio = median(ratios);
    const overheadMs = median(c.lab.map((ms, i) => ms - c.labFill[i]!));
    row(
      `demo ${name}: flood lab/ref (median of ${ratios.length} rounds)`,
      `${fmt(ratio, 2)} (rounds ${ratios.map((r) => fmt(r, 2)).join(' ')}; lab ${fmt(median(c.lab) / 1000, 1)} s, ref ${fmt(median(c.ref) / 1000, 1)} s)`,
      '<= 1.1',
      demoVerdict(ctx, ratio),
    );
    if (c.bare.length) {
      const bareRatios = c.bare.map((ms, i) => ms / c.ref[i]!);
      row(`demo ${name}: labclient started by the bench / ref`, `${fmt(median(bareRatios), 2)} (rounds ${bareRatios.map((r) => fmt(r, 2)).join(' ')})`, '(diagnosis)', '');
    }
    row(`demo ${name}: lab's own share of the flood phase`, `${fmt(overheadMs, 0)} ms (phase - slowest client's own fill time)`, '', '');
    cases.push({ name, ratio, ratios, medianLabMs: median(c.lab), medianRefMs: median(c.ref), overheadMs, labFloodMs: c.lab, labSlowestFillMs: c.labFill, refMs: c.ref, bareMs: c.bare, clientCpuSeconds: c.cpu, refFirst: c.refFirst, labEstablished: c.established, refEstablished: c.refEstablished, processes: c.processes, quiet: c.quiet, refRuns: c.refRuns });
  }
  // The whole demo: every case's flood phase summed, against the reference's fills summed, round by round.
  const all = [...perCase.values()];
  const wholeRatios = Array.from({ length: all[0]?.lab.length ?? 0 }, (_, i) => all.reduce((s, c) => s + c.lab[i]!, 0) / all.reduce((s, c) => s + c.ref[i]!, 0));
  const byOrder = (refFirst: boolean) => median(wholeRatios.filter((_, i) => all[0]!.refFirst[i] === refFirst));
  if (wholeRatios.length) {
    row(
      `demo, all flood phases: lab/ref (median of ${wholeRatios.length} rounds)`,
      `${fmt(median(wholeRatios), 2)} (rounds ${wholeRatios.map((r) => fmt(r, 2)).join(' ')}; lab first ${fmt(byOrder(false), 2)}${wholeRatios.length > 1 ? `, reference first ${fmt(byOrder(true), 2)}` : ''})`,
      '<= 1.1',
      demoVerdict(ctx, median(wholeRatios)),
    );
  }
  results.demo = { file, quick: ctx.quick, rounds, method: 'same containers, order turning each round: lab flood phase and refconnect; medians of per-round ratios', labRuns, wholeRatios, cases };
}

/** refconnect linked statically with this machine's gcc, to copy into the lab's own client containers. */
async function staticRefconnect(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-refconnect-'));
  const binary = join(dir, 'refconnect');
  await $({ quiet: true })`gcc -O2 -static -o ${binary} ${join(root, 'images/bench/refconnect.c')}`;
  return binary;
}

interface FillInLabHosts {
  ms: number;
  established: number;
  quiet: Quiet;
  runs: unknown[];
  /** CPU seconds the client programs used in all (user, system), read once every client said it was done. */
  cpu: { user: number; system: number };
}

/**
 * A fill in the lab's hosts by the bench itself: a fresh labserver with the lab's argv in the server, and in
 * each client either as many refconnect copies as the lab runs processes there ('ref'), or labclient with
 * the lab's own argv ('lab': the lab's program without the lab around it). Afterwards every connection is
 * aborted from the server's side (`ss -K`: a reset each, so neither side keeps a TIME_WAIT), the programs
 * are killed, and the hosts must hold no socket before the lab's own phases go on.
 */
async function fillInLabHosts(ctx: Ctx, hosts: DockerHost[], tool: 'ref' | 'lab', refconnect: string): Promise<FillInLabHosts> {
  const server = hosts.find((h) => h.plan.role === 'server')!;
  const clients = hosts.filter((h) => h.plan.role === 'client') as Array<DockerHost & { plan: PlannedClient }>;
  if (tool === 'ref') await Promise.all(clients.map((c) => $({ quiet: true })`docker cp ${refconnect} ${c.container.id}:/usr/local/bin/refconnect`));
  const srv = await ctx.bench.run(server.container, server.plan.program);
  try {
    const ready = await srv.waitLine((j) => j.type === 'ready' || j.type === 'error', 20_000);
    if (ready.json.type !== 'ready') throw new Error(`labserver: ${JSON.stringify(ready.json)}`);
    const quiet = await quietGate(ctx);
    const t0 = performance.now();
    const argvs = (c: (typeof clients)[number]) => {
      if (tool === 'lab') return [c.plan.program];
      const each = Math.ceil(c.plan.asked / c.plan.processes);
      return Array.from({ length: c.plan.processes }, () => ['refconnect', c.plan.targets.join(','), String(each), String(c.plan.inflight), '600', '300']);
    };
    const programs = await Promise.all(clients.flatMap((c) => argvs(c).map((argv) => ctx.bench.run(c.container, argv, t0))));
    const done = await Promise.all(programs.map((p) => p.waitLine(isDone, 610_000)));
    const cpu = await cpuSeconds(ctx, clients.map((c) => c.container), PROGRAM_NAME[tool]);
    return { ms: Math.max(...done.map((d) => d.at)), established: done.reduce((sum, d) => sum + Number(d.json.established), 0), quiet, runs: done.map((d) => d.json), cpu };
  } finally {
    // From the machine, inside the server's namespace only: the containers lack CAP_NET_ADMIN for ss -K.
    const pid = await ctx.bench.engine.pid(server.container);
    await $({ quiet: true })`nsenter -t ${pid} -n ss -K state established`.catch(() => undefined);
    await ctx.bench.exec(server.container, ['pkill', '-KILL', '-x', LABSERVER.name]).catch(() => undefined);
    await Promise.all(clients.map((c) => ctx.bench.exec(c.container, ['pkill', '-KILL', '-x', PROGRAM_NAME[tool]]).catch(() => undefined)));
    await Promise.all(hosts.map((h) => untilNoSockets(ctx, `${h.plan.name} holds no socket after the ${tool === 'ref' ? 'reference' : 'bare labclient'}`, h.container, 60_000)));
  }
}

// ------------------------------------------------------------------------------------------- main

async function machine(bench: BenchDocker, nofile: number): Promise<Record<string, unknown>> {
  const engine = await bench.engine.describe();
  const facts = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    engine: `Docker ${engine.version} (API ${engine.apiVersion}), ${engine.driver}, cgroup v${engine.cgroupVersion ?? '?'}`,
    node: process.version,
    nofileCeiling: nofile,
    loadavgAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
  say(`machine: ${facts.nproc} cpu (${facts.cpu}), ${facts.memoryGiB} GiB, kernel ${facts.kernel}`);
  say(`engine:  ${facts.engine}; open files per container at most ${nofile}; node ${facts.node}; load ${facts.loadavgAtStart.join(' ')}`);
  return facts;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const runId = `bench-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const bench = new BenchDocker(runId);
  let interrupted = false;
  const onSignal = async (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nbench: ${signal}: removing what this run created (${runId})...`);
    await bench.cleanup().catch(() => undefined);
    process.exit(130);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

  const started = new Date();
  say(`bench ${runId}: ${options.parts.join(', ')}${options.quick ? ' (quick)' : ''}, ${options.reps} repetition(s)`);
  const runtime = new DockerRuntime(root);
  const labSession = runtime.open(`${runId}-lab`);
  let failure: Error | undefined;
  try {
    await labSession.connect(() => {});
    const nofile = await labSession.nofileCeiling();
    results.machine = await machine(bench, nofile);
    const log = (line: string) => say(`  (images) ${line}`);
    // The lab's own images, as the lab gets them (built when their sources changed), then the bench's.
    await labSession.prepare(log);
    const { base, client, server } = await bench.engine.labImages(root, log);
    const t = performance.now();
    const benchImage = await buildBenchImage(bench, base, client);
    say(`images: ${client}, ${server}, ${benchImage} (built in ${fmt((performance.now() - t) / 1000, 1)} s)`);
    const images: Images = { base, client, server, bench: benchImage };
    const net = await bench.createNetwork();
    say(`network: ${net.name} ${net.subnet} (internal)`);
    const ctx: Ctx = { bench, images, nofile, sizes: sizes(options.quick), reps: options.reps, quick: options.quick, maxWaitS: options.maxWaitS, demoCases: options.demoCases, demoBare: options.demoBare };
    const errors: Record<string, string> = {};
    for (const part of options.parts) {
      try {
        if (part === 'rate') await partRate(ctx);
        else if (part === 'node') await partNode(ctx);
        else if (part === 'rss') await partRss(ctx);
        else if (part === 'overhead') await partOverhead(ctx, runtime);
        else if (part === 'demo') await partDemo(ctx, runtime);
      } catch (error) {
        errors[part] = (error as Error).message;
        say(`  [${part}] FAILED: ${(error as Error).message}`);
        row(`${part}`, 'failed (see above)', '', 'ERROR');
      }
    }
    if (Object.keys(errors).length) results.errors = errors;
  } catch (error) {
    failure = error as Error;
    console.error(`bench: ${failure.message}`);
  } finally {
    const removed = await bench.cleanup().catch((e: Error) => [`cleanup failed: ${e.message}`]);
    say(`\ncleanup: removed ${removed.length} object(s) labelled ${runId}*`);
  }
  printTable();
  const document = {
    runId,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    options,
    sizes: sizes(options.quick),
    inflight: INFLIGHT,
    ...results,
    table: table.map(([what, figure, target, met]) => ({ what, figure, target, verdict: met })),
  };
  await mkdir(join(root, 'bench/results'), { recursive: true });
  await writeFile(options.out, JSON.stringify(document, null, 2) + '\n');
  say(`\nsaved ${options.out}`);
  return failure || results.errors ? 1 : 0;
}

const code = await main();
process.exit(code);
