/**
 * The same fill by several tools in the same containers, in turns: a fill is a flood of `count` connects
 * from a client whose local port range is `range`, to a fresh labserver on `ports`.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LABSERVER } from '../lab/programs/programs.ts';
import { root, type BenchContext, type Sizes } from './context.ts';
import { FLOOD_DEADLINE_S, PROGRAM_NAME, floodArgv, isDone, startLabserver, type Tool } from './floods.ts';
import { median, until, type BenchHost } from './lib.ts';
import { fmt, say } from './output.ts';
import { isQuiet, quietGate, type Quiet } from './quiet.ts';

export interface FillSpec {
  name: string;
  range: string;
  ports: number[];
  count: number;
}

export interface FillResult {
  tool: Tool;
  established: number;
  failed: number;
  /** The program's own clock: start of the flood to the last connect done. */
  internalMs: number;
  /** Seen from the bench: exec asked to start -> the program's "filled"/"done" line read. */
  externalMs: number;
  quiet: Quiet;
}

export interface Summary {
  tool: Tool;
  runs: FillResult[];
  /** How many runs the medians are over: the quiet ones when there are any, else all. */
  counted: number;
  quietOnly: boolean;
  established: number;
  rate: number;
  internalRate: number;
}

interface Rig {
  server: BenchHost;
  client: BenchHost;
  /** Measurements so far: each gets its own ports. */
  round: number;
}

export const sparseFill = (s: Sizes): FillSpec => ({ name: 'sparse', range: s.sparseRange, ports: s.sparsePorts, count: s.sparseCount });
export const fullFill = (s: Sizes): FillSpec => {
  const [lo, hi] = s.fullRange.split(' ').map(Number);
  // As the lab's 'fill': ask for more than the range holds, so the flood ends on EADDRNOTAVAIL.
  return { name: 'full range', range: s.fullRange, ports: [8080], count: hi! - lo! + 1 + 16 };
};

/** What a summary's medians are over, for the table. */
export const countedRuns = (s: Summary) => `median of ${s.counted}${s.quietOnly ? ' quiet' : ' (none quiet)'}`;

/** reps rounds; the order of the tools turns each round so that neither always goes first. */
export async function alternate(ctx: BenchContext, tools: Tool[], fill: FillSpec): Promise<Record<Tool, Summary>> {
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

/**
 * One server and one client container per fill, kept for every tool and repetition: creating and removing
 * containers between measurements leaves the kernel tearing down network namespaces (kworkers) under the
 * next one. Each measurement gets a fresh labserver on fresh ports, and the server closes first, so the
 * TIME_WAIT sockets stay on the server side and the client's ranges are whole again for the next tool.
 */
async function makeRig(ctx: BenchContext, fill: FillSpec): Promise<Rig> {
  const binds = [`${process.execPath}:/usr/local/bin/node:ro`, `${join(root, 'bench/node-flood.mjs')}:/bench/node-flood.mjs:ro`];
  const [server, client] = await Promise.all([
    ctx.bench.start({ image: ctx.images.server, role: 'server', nofile: ctx.nofile }),
    ctx.bench.start({ image: ctx.images.bench, role: 'client', nofile: ctx.nofile, sysctls: { 'net.ipv4.ip_local_port_range': fill.range }, binds }),
  ]);
  return { server, client, round: 0 };
}

/** One fill by one tool on the rig. */
async function measureFill(ctx: BenchContext, rig: Rig, tool: Tool, fill: FillSpec): Promise<FillResult> {
  const { bench } = ctx;
  const ports = fill.ports.map((p) => p + 10 * rig.round++);
  const server = await startLabserver(ctx, rig.server.container, ports);
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
    await until(
      'the client sees every connection closed by the server',
      async () => (await bench.sockets(rig.client.container)).estab === 0,
      30_000,
    ).catch(() => undefined);
    await bench.exec(rig.client.container, ['pkill', '-KILL', '-x', PROGRAM_NAME[tool]]);
    await bench.untilNoSockets('the client holds no socket', rig.client.container, 30_000);
  }
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
