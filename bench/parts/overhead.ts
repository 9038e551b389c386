/** [overhead] The lab's runtime creating and removing a lab of 1+N hosts, beside the engine doing the same alone. */
import { performance } from 'node:perf_hooks';
import { planCase, type PlannedHost } from '../../lab/plan/plan.ts';
import { RUN_LABEL } from '../../lab/runtime/docker/labels.ts';
import { defineScenario } from '../../lab/scenario/define.ts';
import type { BenchContext } from '../context.ts';
import { freeBenchSubnet, median } from '../lib.ts';
import { fmt, say, verdict } from '../output.ts';
import { quietGate, type Quiet } from '../quiet.ts';

interface Timing {
  createMs: number;
  teardownMs: number;
}

export async function measureOverhead(ctx: BenchContext): Promise<void> {
  const { bench, sizes: sz } = ctx;
  const clients = sz.overheadClients;
  say(
    `\n[overhead] the lab's runtime: create (network + ${clients + 1} hosts) and teardown, ${sz.overheadReps} time(s); engine-only baseline beside it`,
  );
  const subnet = await freeBenchSubnet(bench.engine, bench.network ? [bench.network.subnet] : []);
  const scenario = defineScenario({
    name: 'bench-overhead',
    claim: 'how long the lab takes to make and remove a lab',
    subnet,
    server: { ports: [8080] },
    client: { connections: 1 },
    cases: [{ name: `${clients} clients`, clients }],
  });
  const lab: Timing[] = [];
  const raw: Timing[] = [];
  const quiet: Quiet[] = [];
  for (let rep = 0; rep < sz.overheadReps; rep++) {
    const runId = `${bench.runId}-o${rep}`;
    const plan = planCase(scenario, 0, { runId, subnet, quick: false, nofileCeiling: ctx.nofile, file: 'bench/parts/overhead.ts' });
    const hosts = [plan.server, ...plan.clients];
    quiet.push(await quietGate(ctx));
    const labTiming = await timeLabRuntime(ctx, runId, subnet, hosts);
    lab.push(labTiming);
    say(`  lab runtime #${rep + 1}: create ${fmt(labTiming.createMs)} ms, teardown ${fmt(labTiming.teardownMs)} ms`);
    quiet.push(await quietGate(ctx));
    const rawTiming = await timeEngineOnly(ctx, `${bench.runId}-r${rep}`, subnet, hosts);
    raw.push(rawTiming);
    say(`  engine only #${rep + 1}: create ${fmt(rawTiming.createMs)} ms, teardown ${fmt(rawTiming.teardownMs)} ms`);
  }
  reportOverhead(ctx, { clients, subnet, lab, raw, quiet });
}

async function timeLabRuntime(ctx: BenchContext, runId: string, subnet: string, hosts: PlannedHost[]): Promise<Timing> {
  const session = ctx.runtime.open(runId);
  try {
    await session.prepare(() => {});
    const t0 = performance.now();
    const network = await session.createNetwork(subnet);
    const started = await session.startHosts(network, hosts, 120);
    const t1 = performance.now();
    await Promise.all(started.map((h) => h.remove()));
    await session.close();
    const t2 = performance.now();
    return { createMs: t1 - t0, teardownMs: t2 - t1 };
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** The same containers straight through the engine: no nsenter, nothing else. */
async function timeEngineOnly(ctx: BenchContext, runId: string, subnet: string, hosts: PlannedHost[]): Promise<Timing> {
  const { engine } = ctx.bench;
  try {
    const t0 = performance.now();
    const labels = { [RUN_LABEL]: runId };
    const network = await engine.createNetwork({ name: runId, subnet, labels });
    const containers = await Promise.all(
      hosts.map((h) =>
        engine.startContainer({
          name: `${runId}-${h.name}`,
          image: h.role === 'server' ? ctx.images.server : ctx.images.client,
          cmd: ['sleep', '120'],
          labels,
          network: runId,
          ip: h.ip,
          sysctls: h.sysctls,
          nofile: h.nofile,
        }),
      ),
    );
    const t1 = performance.now();
    await Promise.all(containers.map((c) => engine.removeContainer(c)));
    await network.remove();
    const t2 = performance.now();
    return { createMs: t1 - t0, teardownMs: t2 - t1 };
  } finally {
    await ctx.bench.cleanup(runId).catch(() => undefined); // only this baseline's objects
  }
}

function reportOverhead(ctx: BenchContext, measured: { clients: number; subnet: string; lab: Timing[]; raw: Timing[]; quiet: Quiet[] }): void {
  const { clients, lab, raw } = measured;
  const m = (xs: Timing[], k: keyof Timing) => median(xs.map((x) => x[k]));
  const create = m(lab, 'createMs');
  const teardown = m(lab, 'teardownMs');
  ctx.report.row(
    `lab overhead: create 1+${clients} hosts`,
    `${fmt(create / 1000, 2)} s (engine only ${fmt(m(raw, 'createMs') / 1000, 2)} s)`,
    '',
    '',
  );
  ctx.report.row(
    `lab overhead: teardown 1+${clients} hosts`,
    `${fmt(teardown / 1000, 2)} s (engine only ${fmt(m(raw, 'teardownMs') / 1000, 2)} s)`,
    '',
    '',
  );
  ctx.report.row('lab overhead: create + teardown', `${fmt((create + teardown) / 1000, 2)} s`, '<= 10 s', verdict(create + teardown <= 10_000));
  ctx.report.results.overhead = {
    ...measured,
    createMs: create,
    teardownMs: teardown,
    rawCreateMs: m(raw, 'createMs'),
    rawTeardownMs: m(raw, 'teardownMs'),
  };
}
