/** [rss] User-space bytes per held connection, of labclient and of labserver, sized as the lab would plan them. */
import { clientProcessesFor, serverWorkersFor } from '../../lab/programs/argv.ts';
import { LABCLIENT, LABSERVER } from '../../lab/programs/programs.ts';
import type { Container } from '../../lab/runtime/docker/plain-engine.ts';
import type { BenchContext } from '../context.ts';
import { FLOOD_DEADLINE_S, floodArgv, isDone, startLabserver } from '../floods.ts';
import type { BenchHost } from '../lib.ts';
import { fmt, say, verdict } from '../output.ts';
import { quietGate } from '../quiet.ts';

interface Sizing {
  /** Connections asked for. */
  n: number;
  /** labclient's processes and labserver's workers for them. */
  processes: number;
  workers: number;
}

type Rss = { kb: number; processes: number };

interface HeldMemory {
  before: Rss;
  after: Rss;
  /** Connections the program held when `after` was read. */
  held: number;
}

export async function measureRss(ctx: BenchContext): Promise<void> {
  const { bench, sizes: sz } = ctx;
  const n = sz.rssCount;
  const sizing = { n, processes: clientProcessesFor(n, ctx.nofile), workers: serverWorkersFor(n, ctx.nofile, sz.sparsePorts.length) };
  say(
    `\n[rss] bytes per held connection: N=${fmt(n)} (labclient ${sizing.processes} process(es), labserver ${sizing.workers} worker(s), as the lab would plan them)`,
  );
  const [server, client] = await Promise.all([
    bench.start({ image: ctx.images.server, role: 'server', nofile: ctx.nofile }),
    bench.start({ image: ctx.images.client, role: 'client-lab', nofile: ctx.nofile, sysctls: { 'net.ipv4.ip_local_port_range': sz.sparseRange } }),
  ]);
  try {
    const held = await measureHeldMemory(ctx, sizing, server, client);
    reportRss(ctx, sizing, held);
  } finally {
    await bench.remove(server.container, client.container);
  }
}

/** Both programs' RSS before the flood, and again with its connections held. */
async function measureHeldMemory(
  ctx: BenchContext,
  sizing: Sizing,
  server: BenchHost,
  client: BenchHost,
): Promise<{ labclient: HeldMemory; labserver: HeldMemory }> {
  const { bench, sizes: sz } = ctx;
  const labserver = await startLabserver(ctx, server.container, sz.sparsePorts, sizing.workers);
  const targets = sz.sparsePorts.map((p) => `${server.ip}:${p}`);
  await quietGate(ctx);
  const serverBefore = await bench.rssKb(server.container, LABSERVER.name);
  const clientBefore = await idleLabclientRss(ctx, client.container, targets, sizing.processes);
  const flood = await bench.run(client.container, floodArgv('lab', targets, sizing.n, sizing.processes));
  const filled = (await flood.waitLine(isDone, (FLOOD_DEADLINE_S + 10) * 1000)).json as { established: number };
  // The server's own count reaches the client's before it is read.
  await labserver.waitLine((j) => j.type === 'progress' && Number(j.open) >= filled.established, 30_000).catch(() => undefined);
  const serverOpen = Number([...labserver.lines].reverse().find((l) => l.json.type === 'progress')?.json.open ?? 0);
  const [clientAfter, serverAfter] = await Promise.all([
    bench.rssKb(client.container, LABCLIENT.name),
    bench.rssKb(server.container, LABSERVER.name),
  ]);
  return {
    labclient: { before: clientBefore, after: clientAfter, held: filled.established },
    labserver: { before: serverBefore, after: serverAfter, held: serverOpen },
  };
}

/** labclient starts flooding as soon as it starts: its "before" is the same program asked for 0 connections. */
async function idleLabclientRss(ctx: BenchContext, container: Container, targets: string[], processes: number): Promise<Rss> {
  const { bench } = ctx;
  const idle = await bench.run(container, floodArgv('lab', targets, 0, processes));
  await idle.waitLine(isDone, 20_000);
  const rss = await bench.rssKb(container, LABCLIENT.name);
  await bench.exec(container, ['pkill', '-KILL', '-x', LABCLIENT.name]);
  await idle.exited;
  return rss;
}

function reportRss(ctx: BenchContext, sizing: Sizing, programs: { labclient: HeldMemory; labserver: HeldMemory }): void {
  const perConnection = (m: HeldMemory) => ((m.after.kb - m.before.kb) * 1024) / m.held;
  const measured = Object.entries(programs).map(([name, m]) => ({ name, m, bytes: perConnection(m) }));
  for (const { name, m, bytes } of measured)
    say(`  ${name}: ${m.before.kb} kB -> ${m.after.kb} kB over ${m.after.processes} processes, ${fmt(m.held)} held: ${fmt(bytes, 1)} bytes/conn`);
  for (const { name, m, bytes } of measured)
    ctx.report.row(`rss ${name} (N=${fmt(m.held)})`, `${fmt(bytes, 1)} B/conn (${m.before.kb} -> ${m.after.kb} kB)`, '<= 64', verdict(bytes <= 64));
  const record = (m: HeldMemory) => ({
    beforeKb: m.before.kb,
    afterKb: m.after.kb,
    processesCounted: m.after.processes,
    held: m.held,
    bytesPerConn: perConnection(m),
  });
  ctx.report.results.rss = { ...sizing, labclient: record(programs.labclient), labserver: record(programs.labserver) };
}
