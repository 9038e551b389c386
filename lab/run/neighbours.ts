/**
 * The other runs alive on this machine while a case measures. Host-wide figures (the slab's growth, TCP
 * buffer pages, MemAvailable) are read machine-wide: they are the case's only when no other run could add to
 * them between its readings before and after the flood. The run ledger knows which runs are alive; a run is
 * a neighbour when its hosts share a kernel with the case's, or when it has not yet said where its hosts are.
 */
import type { KernelView } from '../collect/kernel-view.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { announceKernels, ENDED_GRACE_MS, liveRuns } from '../run-ledger.ts';

/** Often enough to see any run that lives a second: no run with hosts starts and ends faster. */
const LOOK_EVERY_MS = 1000;

export class NeighbourWatch {
  /** Every other run seen alive since start(), with the kernels it last said it runs on. */
  private readonly seen = new Map<string, readonly string[] | undefined>();
  private timer?: NodeJS.Timeout;
  private watching = false;
  /** The kernels (boot ids) the case's hosts run on, as read before the flood. */
  private kernels: string[] = [];

  constructor(
    private readonly runId: string,
    private readonly runs: typeof liveRuns = liveRuns,
  ) {}

  /**
   * Waits out the runs that have just ended (the kernel is still freeing what they held: a case measured
   * back to back with the one before would see it as a neighbour), then looks at once (before the case's
   * first reading), then every second until stop().
   */
  async start(): Promise<void> {
    const ended = (await this.runs()).flatMap((run) => (run.endedAt === undefined || run.runId === this.runId ? [] : [run.endedAt]));
    const waitMs = Math.max(0, ...ended.map((endedAt) => endedAt + ENDED_GRACE_MS + 50 - Date.now()));
    if (waitMs > 0) await sleep(Math.min(waitMs, ENDED_GRACE_MS + 50));
    this.watching = true;
    await this.look();
    this.timer = setInterval(() => void this.look().catch(() => undefined), LOOK_EVERY_MS);
    this.timer.unref();
  }

  /** The kernels the case's hosts were read on (before the flood), told to other runs through the ledger. */
  async readOn(views: Iterable<KernelView>): Promise<void> {
    this.kernels = [...new Set([...views].flatMap((v) => (v.machine ? [v.machine.bootId] : [])))];
    await announceKernels(this.runId, this.kernels);
  }

  /** Looks a last time (after the case's last reading) and stops; safe to call more than once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (!this.watching) return;
    await this.look();
    this.watching = false;
  }

  /** Stops, and says why the case's host-wide figures are not its own, if another run may have added to them. */
  async stopAndTell(): Promise<string | undefined> {
    await this.stop();
    const runs = this.neighbours(this.kernels);
    return runs.length ? neighbourReason(runs) : undefined;
  }

  /**
   * The runs that may have added to the host-wide figures of a case whose hosts run on these kernels (boot
   * ids): those on one of them, or that never said where they run. Without the case's own kernels, every run.
   */
  neighbours(kernels: readonly string[]): string[] {
    return [...this.seen].filter(([, theirs]) => !theirs || !kernels.length || theirs.some((k) => kernels.includes(k))).map(([runId]) => runId);
  }

  private async look(): Promise<void> {
    const alive = await this.runs();
    if (!this.watching) return;
    for (const { runId, kernels } of alive) if (runId !== this.runId) this.seen.set(runId, kernels ?? this.seen.get(runId));
  }
}

/** Why a case's host-wide figures are not its own, in the words its rows and report give. */
export function neighbourReason(runs: readonly string[]): string {
  return runs.length === 1 ? `run ${runs[0]} was active on this machine` : `runs ${runs.join(', ')} were active on this machine`;
}
