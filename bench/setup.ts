/** What the parts need first: the engine, the machine described, the images, the bench's network. */
import { cpus, loadavg, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { DockerRuntime, DockerSession } from '../lab/runtime/docker/docker-runtime.ts';
import { root, sizes, type BenchContext, type Images } from './context.ts';
import type { BenchDocker } from './lib.ts';
import type { Options } from './options.ts';
import { fmt, say, type BenchReport } from './output.ts';

/** Everything up to the bench's network; the machine is described in the report as soon as it is known. */
export async function prepare(
  bench: BenchDocker,
  runtime: DockerRuntime,
  labSession: DockerSession,
  options: Options,
  report: BenchReport,
): Promise<BenchContext> {
  await labSession.connect(() => {});
  const nofile = await labSession.nofileCeiling();
  report.results.machine = await describeMachine(bench, nofile);
  const images = await prepareImages(bench, labSession);
  const net = await bench.createNetwork();
  say(`network: ${net.name} ${net.subnet} (internal)`);
  return {
    bench,
    runtime,
    images,
    nofile,
    sizes: sizes(options.quick),
    reps: options.reps,
    quick: options.quick,
    maxWaitS: options.maxWaitS,
    demoCases: options.demoCases,
    demoBare: options.demoBare,
    holdSizes: options.holdSizes,
    holdBuckets: options.holdBuckets,
    report,
  };
}

async function describeMachine(bench: BenchDocker, nofile: number): Promise<Record<string, unknown>> {
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

/** The lab's own images, as the lab gets them (built when their sources changed), then the bench's. */
async function prepareImages(bench: BenchDocker, labSession: DockerSession): Promise<Images> {
  const log = (line: string) => say(`  (images) ${line}`);
  await labSession.prepare(log);
  const { base, client, server } = await bench.engine.labImages(root, log);
  const t = performance.now();
  const benchImage = await buildBenchImage(bench, base, client);
  const benchServer = await buildBenchServerImage(bench, base, server);
  say(`images: ${client}, ${server}, ${benchImage}, ${benchServer} (built in ${fmt((performance.now() - t) / 1000, 1)} s)`);
  return { base, client, server, bench: benchImage, benchServer };
}

function buildBenchImage(bench: BenchDocker, base: string, client: string): Promise<string> {
  return bench.engine.buildImage({
    context: root,
    files: ['images/bench/Dockerfile.refconnect', 'images/bench/refconnect.c', 'images/bench/refhold.c', 'images/common/histogram.h'],
    tag: `lab-bench-refconnect:${bench.runId}`,
    dockerfile: 'images/bench/Dockerfile.refconnect',
    buildArgs: { BASE_IMAGE: base, CLIENT_IMAGE: client, BENCH_RUN: bench.runId },
    labels: bench.labels(),
  });
}

function buildBenchServerImage(bench: BenchDocker, base: string, server: string): Promise<string> {
  return bench.engine.buildImage({
    context: root,
    files: ['images/bench/Dockerfile.refpong', 'images/bench/refpong.c'],
    tag: `lab-bench-refpong:${bench.runId}`,
    dockerfile: 'images/bench/Dockerfile.refpong',
    buildArgs: { BASE_IMAGE: base, SERVER_IMAGE: server, BENCH_RUN: bench.runId },
    labels: bench.labels(),
  });
}
