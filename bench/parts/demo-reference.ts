/**
 * A fill in the demo's own hosts by the bench itself, between the lab's phases: the reference (refconnect)
 * doing what the lab's clients do, or labclient started with the lab's argv but without the lab around it.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { $ } from 'zx';
import type { PlannedClient } from '../../lab/plan/plan.ts';
import { LABSERVER } from '../../lab/programs/programs.ts';
import type { DockerHost } from '../../lab/runtime/docker/host.ts';
import { root, type BenchContext } from '../context.ts';
import { PROGRAM_NAME, isDone, untilReady } from '../floods.ts';
import { quietGate, type Quiet } from '../quiet.ts';

export interface FillInLabHosts {
  ms: number;
  established: number;
  quiet: Quiet;
  runs: unknown[];
  /** CPU seconds the client programs used in all (user, system), read once every client said it was done. */
  cpu: { user: number; system: number };
}

type ClientHost = DockerHost & { plan: PlannedClient };

/** refconnect linked statically with this machine's gcc, to copy into the lab's own client containers. */
export async function staticRefconnect(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-refconnect-'));
  const binary = join(dir, 'refconnect');
  await $({ quiet: true })`gcc -O2 -static -o ${binary} ${join(root, 'images/bench/refconnect.c')}`;
  return binary;
}

/**
 * A fresh labserver with the lab's argv in the server, and in each client either as many refconnect copies
 * as the lab runs processes there ('ref'), or labclient with the lab's own argv ('lab': the lab's program
 * without the lab around it). Afterwards the hosts are cleared (clearLabHosts) before the lab's own phases go on.
 */
export async function fillInLabHosts(ctx: BenchContext, hosts: DockerHost[], tool: 'ref' | 'lab', refconnect: string): Promise<FillInLabHosts> {
  const server = hosts.find((h) => h.plan.role === 'server')!;
  const clients = hosts.filter((h) => h.plan.role === 'client') as ClientHost[];
  if (tool === 'ref') await Promise.all(clients.map((c) => $({ quiet: true })`docker cp ${refconnect} ${c.container.id}:/usr/local/bin/refconnect`));
  const labserver = await ctx.bench.run(server.container, server.plan.program);
  try {
    await untilReady(labserver);
    const quiet = await quietGate(ctx);
    const t0 = performance.now();
    const programs = await Promise.all(clients.flatMap((c) => clientArgvs(c, tool).map((argv) => ctx.bench.run(c.container, argv, t0))));
    const done = await Promise.all(programs.map((p) => p.waitLine(isDone, 610_000)));
    const cpu = await ctx.bench.cpuSeconds(
      clients.map((c) => c.container),
      PROGRAM_NAME[tool],
    );
    return {
      ms: Math.max(...done.map((d) => d.at)),
      established: done.reduce((sum, d) => sum + Number(d.json.established), 0),
      quiet,
      runs: done.map((d) => d.json),
      cpu,
    };
  } finally {
    await clearLabHosts(ctx, hosts, tool);
  }
}

/** What runs in the client: the lab's own argv, or one refconnect per lab process, sharing its count. */
function clientArgvs(client: ClientHost, tool: 'ref' | 'lab'): string[][] {
  const { plan } = client;
  if (tool === 'lab') return [plan.program];
  const each = Math.ceil(plan.asked / plan.processes);
  return Array.from({ length: plan.processes }, () => ['refconnect', plan.targets.join(','), String(each), String(plan.inflight), '600', '300']);
}

/**
 * Every connection aborted from the server's side (`ss -K`: a reset each, so neither side keeps a
 * TIME_WAIT), the programs killed; then the hosts must hold no socket.
 */
async function clearLabHosts(ctx: BenchContext, hosts: DockerHost[], tool: 'ref' | 'lab'): Promise<void> {
  const server = hosts.find((h) => h.plan.role === 'server')!;
  const clients = hosts.filter((h) => h.plan.role === 'client');
  // From the machine, inside the server's namespace only: the containers lack CAP_NET_ADMIN for ss -K.
  const pid = await ctx.bench.engine.pid(server.container);
  await $({ quiet: true })`nsenter -t ${pid} -n ss -K state established`.catch(() => undefined);
  await ctx.bench.exec(server.container, ['pkill', '-KILL', '-x', LABSERVER.name]).catch(() => undefined);
  await Promise.all(clients.map((c) => ctx.bench.exec(c.container, ['pkill', '-KILL', '-x', PROGRAM_NAME[tool]]).catch(() => undefined)));
  await Promise.all(
    hosts.map((h) =>
      ctx.bench.untilNoSockets(`${h.plan.name} holds no socket after the ${tool === 'ref' ? 'reference' : 'bare labclient'}`, h.container, 60_000),
    ),
  );
}
