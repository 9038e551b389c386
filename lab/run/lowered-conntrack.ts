/**
 * A case whose NAT gateway needs a small conntrack table ("table full"). The kernel keeps one
 * nf_conntrack_max per machine (read-only inside a namespace) and counts each namespace against it on its
 * own, so the gateway's table is small only if the machine's ceiling is: every namespace on the machine
 * gets it for as long as the case runs. The case therefore takes it only with the machine to itself:
 *
 * - no other lab run live on this kernel (the run ledger; a run on another kernel, a VM's, does not count):
 *   waited for, bounded, then refused;
 * - the case's own traffic not tracked by the machine (the run's NOTRACK rule for its subnet, and in each
 *   host's namespace but the gateway's), so that only the gateway's namespace tracks it;
 * - every namespace the lab can read well under the lowered ceiling;
 *
 * and puts it back after the case (and on failure, Ctrl-C, the session's close; the ledger lets the next run
 * or `lab clean` put it back where the lab died). While it is lowered, a run that starts on this kernel, or
 * the machine's own namespace filling towards it, puts it back at once.
 */
import { sleep, unlessAborted } from '../abort.ts';
import { EnvironmentError, Interrupted } from '../errors.ts';
import type { ExpectationResult } from '../results/results.ts';
import { liveRuns, type ActiveRun } from '../run-ledger.ts';
import type { ConnectionTracking, Log, NamespaceCount } from '../runtime/runtime.ts';

/** How long a case waits for the machine to be its own before it refuses (LAB_ALONE_WAIT_SECONDS changes it). */
export const ALONE_WAIT_SECONDS = 600;
/** Every namespace must track under this share of the lowered ceiling before it is lowered. */
export const ROOM_SHARE = 0.5;
/** While lowered, the machine's own namespace past this share of it puts it back at once. */
export const WATCH_SHARE = 0.8;
const LOOK_EVERY_MS = 1000;

export interface LoweringRequest {
  runId: string;
  /** The lowered ceiling. */
  max: number;
  /** The case, for people: "case 8 (a small nf_conntrack_max in the gateway)". */
  label: string;
  /** The run's subnet, exempt from the machine's tracking for the case. */
  subnet: string;
  /** The run is exempt already (--notrack): the exemption stays when the case ends. */
  exemptAlready: boolean;
  /** The boot id of the kernel the hosts run on, where known: runs on other kernels do not count. */
  bootId?: string;
  log: Log;
  signal?: AbortSignal;
  /** For tests: the ledger's runs, and how long to wait. */
  runs?: typeof liveRuns;
  waitSeconds?: number;
}

/** The other runs that share this kernel: live or just ended, on it or not yet saying where they run. */
export function runsOnThisKernel(runs: readonly ActiveRun[], runId: string, bootId: string | undefined): string[] {
  return runs.filter((r) => r.runId !== runId && (!bootId || !r.kernels || r.kernels.includes(bootId))).map((r) => r.runId);
}

/** The namespaces with too little room under the lowered ceiling, named for people. */
export function crowdedNamespaces(counts: readonly NamespaceCount[], max: number, share = ROOM_SHARE): string[] {
  return counts
    .filter((c) => c.count >= max * share)
    .map((c) => `${c.machine ? "the machine's own namespace" : `the namespace of pid ${c.pid} (${c.command})`} tracks ${c.count}`);
}

/** The wait's bound: LAB_ALONE_WAIT_SECONDS where set (a whole number of seconds), else ALONE_WAIT_SECONDS. */
export function aloneWaitSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const given = Number(env.LAB_ALONE_WAIT_SECONDS);
  return env.LAB_ALONE_WAIT_SECONDS !== undefined && Number.isInteger(given) && given >= 0 ? given : ALONE_WAIT_SECONDS;
}

/** The machine's ceiling as lowered for a case. */
export interface LoweredCeiling {
  /** Puts the ceiling back, then ends the case's exemption (even where that failed); once, however often called. */
  putBack(): Promise<void>;
  /** Why the ceiling went back while the case still ran, where it did: the case's figures are then not the small table's. */
  readonly putBackEarly: string | undefined;
}

/** Lowers the machine's ceiling for the case; resolves with what puts everything back. */
export async function lowerForCase(tracking: ConnectionTracking, request: LoweringRequest): Promise<LoweredCeiling> {
  const { lower, namespaceCounts } = tracking;
  if (!lower || !namespaceCounts)
    throw new EnvironmentError(`${request.label} needs the machine's nf_conntrack_max lowered, which this runtime cannot do`);
  const runs = request.runs ?? liveRuns;
  await waitAlone(request, runs);
  const crowded = crowdedNamespaces(await namespaceCounts(), request.max);
  if (crowded.length)
    throw new EnvironmentError(
      `${request.label} would lower the machine's nf_conntrack_max to ${request.max} (every namespace's ceiling) but ${crowded.join(', ')}: each must be under ${Math.floor(request.max * ROOM_SHARE)}`,
      'run the case again when the machine tracks less',
    );
  const endExemption = async () => {
    if (!request.exemptAlready) await tracking.endExemption?.(request.log);
  };
  if (!request.exemptAlready) await tracking.exempt(request.subnet, request.log);
  let restore: () => Promise<void>;
  try {
    restore = await lower(request.max, request.log);
  } catch (error) {
    await endExemption();
    throw error;
  }
  let early: string | undefined;
  const watch = watchWhileLowered(request, runs, namespaceCounts, restore, (why) => (early = why));
  let puttingBack: Promise<void> | undefined;
  const lowered: LoweredCeiling = {
    putBack: () =>
      (puttingBack ??= (async () => {
        clearInterval(watch);
        try {
          await restore();
        } finally {
          await endExemption();
        }
      })()),
    get putBackEarly() {
      return early;
    },
  };
  // Interrupted while it was being lowered: back at once, the case never starts.
  if (request.signal?.aborted) {
    await lowered.putBack();
    throw new Interrupted(request.signal.reason as NodeJS.Signals);
  }
  return lowered;
}

/**
 * A case's rows where its ceiling went back before they were judged: INVALID, saying why (its figures may
 * be the machine's usual table's, not the small one's: no verdict on the kernel). Rows that do not apply stay.
 */
export function putBackEarly(rows: ExpectationResult[], why: string | undefined): ExpectationResult[] {
  if (why === undefined) return rows;
  const invalid = `nf_conntrack_max was put back before the case's figures were judged (${why})`;
  return rows.map((row) => (row.notApplicable !== undefined ? row : { ...row, pass: false, invalid }));
}

/** Until no other run shares the kernel, saying why (again only when a run it has not named yet appears); bounded. */
async function waitAlone(request: LoweringRequest, runs: typeof liveRuns): Promise<void> {
  const seconds = request.waitSeconds ?? aloneWaitSeconds();
  const until = Date.now() + seconds * 1000;
  const named = new Set<string>();
  for (;;) {
    const others = runsOnThisKernel(await runs(), request.runId, request.bootId);
    if (!others.length) return;
    const who = others.join(', ');
    if (Date.now() >= until)
      throw new EnvironmentError(
        `${request.label} needs the machine alone to lower nf_conntrack_max (machine-wide) but run(s) ${who} stayed live on this kernel for ${seconds} s`,
        'run the case again when they have ended',
      );
    if (others.some((runId) => !named.has(runId)))
      request.log(
        `waiting up to ${seconds} s for the machine alone: ${request.label} lowers nf_conntrack_max, machine-wide; run(s) ${who} live on this kernel`,
      );
    others.forEach((runId) => named.add(runId));
    await unlessAborted(sleep(LOOK_EVERY_MS), request.signal);
  }
}

/** Every second while lowered: a run starting on this kernel, or the machine's own namespace filling up, puts it back at once. */
function watchWhileLowered(
  request: LoweringRequest,
  runs: typeof liveRuns,
  namespaceCounts: () => Promise<NamespaceCount[]>,
  restore: () => Promise<void>,
  putBackEarly: (why: string) => void,
): NodeJS.Timeout {
  let looking = false;
  const timer = setInterval(() => {
    if (looking) return;
    looking = true;
    void (async () => {
      const others = runsOnThisKernel(await runs(), request.runId, request.bootId);
      const own = (await namespaceCounts()).filter((c) => c.machine);
      const crowded = crowdedNamespaces(own, request.max, WATCH_SHARE);
      const why = others.length ? `run(s) ${others.join(', ')} started on this kernel` : crowded[0];
      if (!why) return;
      clearInterval(timer);
      putBackEarly(why);
      request.log(`putting nf_conntrack_max back before ${request.label} ends: ${why}`);
      await restore();
    })()
      .catch((error: Error) => request.log(`could not watch the lowered nf_conntrack_max: ${error.message}`))
      .finally(() => (looking = false));
  }, LOOK_EVERY_MS);
  timer.unref();
  return timer;
}
