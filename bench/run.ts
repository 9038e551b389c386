/**
 * `npm run bench [-- --only rate,node,rss,overhead,demo,hold] [--skip ...] [--quick] [--reps N] [--hold-sizes 10k,1M]`
 *
 * Measures, side by side in one run on this machine, the lab's flood client (labclient) against a minimal
 * reference connector (images/bench/refconnect.c) and a plain Node net.connect flood, the user-space bytes
 * per held connection of labclient and labserver, the lab's own create/teardown overhead, and the 64k-myth
 * demo's flood phases against the reference doing the same fills. Prints each figure as it completes, then
 * a table; writes bench/results/latest.json. See BENCHMARKS.md for the method; each part is in bench/parts/.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DockerRuntime } from '../lab/runtime/docker/docker-runtime.ts';
import { markLive } from '../lab/run-ledger.ts';
import { root, sizes, type BenchContext } from './context.ts';
import { INFLIGHT } from './floods.ts';
import { BenchDocker } from './lib.ts';
import { parseOptions, type Options, type Part } from './options.ts';
import { BenchReport, say } from './output.ts';
import { measureDemo } from './parts/demo.ts';
import { measureHold } from './parts/hold.ts';
import { measureNodeFlood } from './parts/node.ts';
import { measureOverhead } from './parts/overhead.ts';
import { measureRate } from './parts/rate.ts';
import { measureRss } from './parts/rss.ts';
import { prepare } from './setup.ts';

const MEASURE: Record<Part, (ctx: BenchContext) => Promise<void>> = {
  rate: measureRate,
  node: measureNodeFlood,
  rss: measureRss,
  overhead: measureOverhead,
  demo: measureDemo,
  hold: measureHold,
};

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const runId = `bench-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const bench = new BenchDocker(runId);
  // In the lab's ledger of live runs, so that a `lab clean` meanwhile leaves the bench's objects alone.
  const over = await markLive(runId);
  cleanUpOnSignal(bench, over);
  const started = new Date();
  say(`bench ${runId}: ${options.parts.join(', ')}${options.quick ? ' (quick)' : ''}, ${options.reps} repetition(s)`);
  const runtime = new DockerRuntime(root);
  const labSession = runtime.open(`${runId}-lab`);
  const report = new BenchReport();
  let failure: Error | undefined;
  try {
    const ctx = await prepare(bench, runtime, labSession, options, report);
    await measureParts(ctx, options.parts);
  } catch (error) {
    failure = error as Error;
    console.error(`bench: ${failure.message}`);
  } finally {
    const removed = await bench.cleanup().catch((e: Error) => [`cleanup failed: ${e.message}`]);
    say(`\ncleanup: removed ${removed.length} object(s) labelled ${runId}*`);
    await over();
  }
  report.printTable();
  await saveResults(options, runId, started, report);
  return failure || report.results.errors ? 1 : 0;
}

/** On SIGINT or SIGTERM, once: make nothing more, undo what parts changed on the machine, remove what this run created, and exit. */
function cleanUpOnSignal(bench: BenchDocker, over: () => Promise<void>): void {
  let interrupted = false;
  const onSignal = async (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nbench: ${signal}: removing what this run created (${bench.runId})...`);
    await bench.stop().catch(() => undefined);
    await over();
    process.exit(130);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
}

/** Each part in turn: one that fails is said, given an ERROR row and named in the results, and the next goes on. */
async function measureParts(ctx: BenchContext, parts: Part[]): Promise<void> {
  const errors: Record<string, string> = {};
  for (const part of parts) {
    try {
      await MEASURE[part](ctx);
    } catch (error) {
      errors[part] = (error as Error).message;
      say(`  [${part}] FAILED: ${(error as Error).message}`);
      ctx.report.row(`${part}`, 'failed (see above)', '', 'ERROR');
    }
  }
  if (Object.keys(errors).length) ctx.report.results.errors = errors;
}

async function saveResults(options: Options, runId: string, started: Date, report: BenchReport): Promise<void> {
  const document = {
    runId,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    options,
    sizes: sizes(options.quick),
    inflight: INFLIGHT,
    ...report.results,
    table: report.rows.map(([what, figure, target, met]) => ({ what, figure, target, verdict: met })),
  };
  await mkdir(join(root, 'bench/results'), { recursive: true });
  await writeFile(options.out, JSON.stringify(document, null, 2) + '\n');
  say(`\nsaved ${options.out}`);
}

const code = await main();
process.exit(code);
