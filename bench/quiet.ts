/** The quiet gate: every measurement waits for an idle machine, and records how idle it got. */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { RUN_LABEL } from '../lab/runtime/docker/labels.ts';
import type { BenchContext } from './context.ts';
import { sleep } from './lib.ts';
import { fmt, say } from './output.ts';

export interface Quiet {
  /** CPU busy fraction (all cores) over the second before the flood started. */
  busy: number;
  waitedMs: number;
  /** Running containers of other lab runs (another user of the machine) when the flood started. */
  otherLabContainers: number;
}

const QUIET_BUSY = 0.15;
export const isQuiet = (r: { quiet: Quiet }) => r.quiet.busy <= QUIET_BUSY && r.quiet.otherLabContainers === 0;

/**
 * Waits until the machine is quiet (CPU under QUIET_BUSY for one second, read from /proc/stat) for at most
 * --max-wait seconds; says how busy it was when the measurement started.
 */
export async function quietGate(ctx: BenchContext): Promise<Quiet> {
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
  if (busy > QUIET_BUSY || others)
    say(
      `  (noisy: cpu ${Math.round(busy * 100)}% busy after waiting ${fmt(quiet.waitedMs / 1000, 1)} s; ${others} running container(s) of other lab runs)`,
    );
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

async function foreignLabContainers(ctx: BenchContext): Promise<number> {
  const running = await ctx.bench.engine.runningLabelled(RUN_LABEL);
  return running.filter((labels) => {
    const run = labels[RUN_LABEL] ?? '';
    return !run.startsWith(ctx.bench.runId);
  }).length;
}
