/**
 * [demo] The demo, several rounds, each case measured twice in the same containers: the lab's own flood
 * phase (as `lab run` runs it) and the reference doing the same fill, with as many refconnect copies per
 * client as the lab has processes there, against a fresh labserver with the lab's argv. Same namespaces,
 * same addresses: the kernel's hash tables place their ports alike for both. The order turns each round
 * (lab first in rounds 1, 3, ...; the reference first, right after the hosts start, in rounds 2, 4, ...), so
 * that whatever the first fill in a namespace leaves for the second (warm slabs, say) favours neither.
 * Both wait for the same quiet gate. A fill spreads by 20-40% between rounds whatever the tool (the
 * kernel's port search over a nearly spent range is memory-bound, and this machine's memory is shared),
 * so the figures are medians of the per-round ratios, each ratio of two fills minutes apart.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LABCLIENT } from '../../lab/programs/programs.ts';
import type { CaseResult } from '../../lab/results/results.ts';
import type { RunEvents } from '../../lab/run/events.ts';
import { runScenario } from '../../lab/run/scenario-run.ts';
import type { DockerHost } from '../../lab/runtime/docker/host.ts';
import type { Host } from '../../lab/runtime/runtime.ts';
import { loadScenario } from '../../lab/scenario/load.ts';
import type { Scenario } from '../../lab/scenario/types.ts';
import { root, type BenchContext } from '../context.ts';
import { median } from '../lib.ts';
import { fmt, say, verdict } from '../output.ts';
import { quietGate, type Quiet } from '../quiet.ts';
import { fillInLabHosts, staticRefconnect, type FillInLabHosts } from './demo-reference.ts';

const DEMO_FILE = 'scenarios/64k-myth.ts';

type CpuSeconds = { user: number; system: number };

/** A case's figures, one per round. */
interface DemoCase {
  lab: number[];
  labFill: number[];
  ref: number[];
  /** With --demo-bare: labclient started by the bench with the lab's argv. */
  bare: number[];
  /** CPU seconds of the client programs per round: the lab's flood, the reference, the bare labclient. */
  cpu: Array<{ lab?: CpuSeconds; ref: CpuSeconds; bare?: CpuSeconds }>;
  refFirst: boolean[];
  established: number[];
  refEstablished: number[];
  processes: number[];
  quiet: Quiet[];
  refRuns: unknown[];
}

/** What the bench measured in one case's hosts in one round, beside the lab's own phases. */
interface CaseMeasured {
  ref?: FillInLabHosts;
  bare?: FillInLabHosts;
  floodQuiet?: Quiet;
  labCpu?: CpuSeconds;
}

interface LabRun {
  runId: string;
  pass: boolean;
  wallMs: number;
  refFirst: boolean;
}

/** What every round shares: the scenario, the static refconnect, and each case's figures so far. */
interface Demo {
  ctx: BenchContext;
  scenario: Scenario;
  refconnect: string;
  perCase: Map<string, DemoCase>;
}

/** The target is for the real demo: --quick fills take a tenth of a second, so fixed costs of a phase dominate. */
const demoVerdict = (ctx: BenchContext, ratio: number) => (ctx.quick ? 'n/a (quick)' : verdict(ratio <= 1.1));
const cpuText = (c?: CpuSeconds) => (c ? `${fmt(c.user, 1)}+${fmt(c.system, 1)}` : '?');

export async function measureDemo(ctx: BenchContext): Promise<void> {
  const rounds = ctx.reps;
  say(
    `\n[demo] ${DEMO_FILE}${ctx.quick ? ' --quick' : ''}: each case's flood phase vs refconnect doing the same fill in the same containers, ${rounds} round(s), order turning each round`,
  );
  const scenario = await loadScenario(join(root, DEMO_FILE));
  const demo: Demo = { ctx, scenario, refconnect: await staticRefconnect(), perCase: new Map() };
  const labRuns: LabRun[] = [];
  for (let round = 0; round < rounds; round++) labRuns.push(await demoRound(demo, round));
  const cases = [...demo.perCase].map(([name, c]) => reportCase(ctx, name, c));
  const wholeRatios = reportWholeDemo(ctx, [...demo.perCase.values()]);
  ctx.report.results.demo = {
    file: DEMO_FILE,
    quick: ctx.quick,
    rounds,
    method: 'same containers, order turning each round: lab flood phase and refconnect; medians of per-round ratios',
    labRuns,
    wholeRatios,
    cases,
  };
}

/** One lab run of the demo, the reference's fills in each case's hosts right after they start (refFirst) or after the lab's phases. */
async function demoRound(demo: Demo, round: number): Promise<LabRun> {
  const { ctx } = demo;
  const refFirst = round % 2 === 1;
  await quietGate(ctx);
  const t0 = performance.now();
  // Labelled under the bench's own id, so the quiet gate counts it as the bench's and its cleanup finds it.
  const runId = `${ctx.bench.runId}-d${round}`;
  const options = { file: DEMO_FILE, quick: ctx.quick, ...(ctx.demoCases && { cases: ctx.demoCases }), runId };
  const results = await runScenario(ctx.runtime, demo.scenario, options, roundEvents(demo, round, refFirst));
  const labRun = { runId: results.runId, pass: results.pass, wallMs: performance.now() - t0, refFirst };
  say(`  round ${round + 1}: lab run ${results.runId}: ${results.pass ? 'pass' : 'FAIL'}`);
  return labRun;
}

/** The lab's phases as `lab run` runs them; the reference's fills between them, in the same containers. */
function roundEvents(demo: Demo, round: number, refFirst: boolean): RunEvents {
  const { ctx, refconnect } = demo;
  const measured = new Map<number, CaseMeasured>();
  const benchFills = async (index: number, hosts: readonly Host[]) => {
    const m = measured.get(index)!;
    m.ref = await fillInLabHosts(ctx, hosts as DockerHost[], 'ref', refconnect);
    if (ctx.demoBare) m.bare = await fillInLabHosts(ctx, hosts as DockerHost[], 'lab', refconnect);
  };
  return {
    caseStarting: (info) => void measured.set(info.index, {}),
    phaseStarted: async (info, phase) => {
      if (phase.name === 'flood') measured.get(info.index)!.floodQuiet = await quietGate(ctx);
    },
    phaseFinished: async (info, phase, { hosts, error }) => {
      if (error) return;
      const m = measured.get(info.index)!;
      if (phase.name === 'hosts' && refFirst) await benchFills(info.index, hosts);
      if (phase.name === 'flood')
        m.labCpu = await ctx.bench.cpuSeconds(
          (hosts as DockerHost[]).filter((h) => h.plan.role === 'client').map((h) => h.container),
          LABCLIENT.name,
        );
      if (phase.name === 'stop' && !refFirst) await benchFills(info.index, hosts);
    },
    caseFinished: (info, { result: labCase }) => {
      if (!labCase) return;
      const entry = recordCase(demo.perCase, labCase, measured.get(info.index)!, refFirst);
      sayCaseRound(round, refFirst, labCase, entry, measured.get(info.index)!);
    },
  };
}

/** A case's figures from one round, added to its figures from the rounds before. */
function recordCase(perCase: Map<string, DemoCase>, labCase: CaseResult, measured: CaseMeasured, refFirst: boolean): DemoCase {
  const { ref, bare, floodQuiet, labCpu } = measured;
  const labClients = labCase.hosts.filter((h) => h.role === 'client');
  const entry = perCase.get(labCase.name) ?? {
    lab: [],
    labFill: [],
    ref: [],
    bare: [],
    cpu: [],
    refFirst: [],
    established: [],
    refEstablished: [],
    processes: [],
    quiet: [],
    refRuns: [],
  };
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
  return entry;
}

function sayCaseRound(round: number, refFirst: boolean, labCase: CaseResult, entry: DemoCase, { ref, bare, labCpu }: CaseMeasured): void {
  say(
    `    round ${round + 1} (${refFirst ? 'reference first' : 'lab first'}), ${labCase.name}: lab flood phase ${fmt(labCase.phases.flood! / 1000, 1)} s ` +
      `(${fmt(entry.established.at(-1)!)} conns), refconnect ${fmt(ref!.ms / 1000, 1)} s (${fmt(ref!.established)} conns): ${fmt(labCase.phases.flood! / ref!.ms, 2)}` +
      (bare ? `; labclient started by the bench ${fmt(bare.ms / 1000, 1)} s (${fmt(bare.established)} conns): ${fmt(bare.ms / ref!.ms, 2)}` : '') +
      `; client cpu s (user+sys): lab ${cpuText(labCpu)}, ref ${cpuText(ref!.cpu)}${bare ? `, bare ${cpuText(bare.cpu)}` : ''}`,
  );
}

/** A case's rows in the table, and its record for the results file. */
function reportCase(ctx: BenchContext, name: string, c: DemoCase): unknown {
  const ratios = c.lab.map((ms, i) => ms / c.ref[i]!);
  const ratio = median(ratios);
  const overheadMs = median(c.lab.map((ms, i) => ms - c.labFill[i]!));
  ctx.report.row(
    `demo ${name}: flood lab/ref (median of ${ratios.length} rounds)`,
    `${fmt(ratio, 2)} (rounds ${ratios.map((r) => fmt(r, 2)).join(' ')}; lab ${fmt(median(c.lab) / 1000, 1)} s, ref ${fmt(median(c.ref) / 1000, 1)} s)`,
    '<= 1.1',
    demoVerdict(ctx, ratio),
  );
  if (c.bare.length) {
    const bareRatios = c.bare.map((ms, i) => ms / c.ref[i]!);
    ctx.report.row(
      `demo ${name}: labclient started by the bench / ref`,
      `${fmt(median(bareRatios), 2)} (rounds ${bareRatios.map((r) => fmt(r, 2)).join(' ')})`,
      '(diagnosis)',
      '',
    );
  }
  ctx.report.row(`demo ${name}: lab's own share of the flood phase`, `${fmt(overheadMs, 0)} ms (phase - slowest client's own fill time)`, '', '');
  return {
    name,
    ratio,
    ratios,
    medianLabMs: median(c.lab),
    medianRefMs: median(c.ref),
    overheadMs,
    labFloodMs: c.lab,
    labSlowestFillMs: c.labFill,
    refMs: c.ref,
    bareMs: c.bare,
    clientCpuSeconds: c.cpu,
    refFirst: c.refFirst,
    labEstablished: c.established,
    refEstablished: c.refEstablished,
    processes: c.processes,
    quiet: c.quiet,
    refRuns: c.refRuns,
  };
}

/** The whole demo: every case's flood phase summed, against the reference's fills summed, round by round. */
function reportWholeDemo(ctx: BenchContext, all: DemoCase[]): number[] {
  const wholeRatios = Array.from(
    { length: all[0]?.lab.length ?? 0 },
    (_, i) => all.reduce((s, c) => s + c.lab[i]!, 0) / all.reduce((s, c) => s + c.ref[i]!, 0),
  );
  const byOrder = (refFirst: boolean) => median(wholeRatios.filter((_, i) => all[0]!.refFirst[i] === refFirst));
  if (wholeRatios.length) {
    ctx.report.row(
      `demo, all flood phases: lab/ref (median of ${wholeRatios.length} rounds)`,
      `${fmt(median(wholeRatios), 2)} (rounds ${wholeRatios.map((r) => fmt(r, 2)).join(' ')}; lab first ${fmt(byOrder(false), 2)}${wholeRatios.length > 1 ? `, reference first ${fmt(byOrder(true), 2)}` : ''})`,
      '<= 1.1',
      demoVerdict(ctx, median(wholeRatios)),
    );
  }
  return wholeRatios;
}
