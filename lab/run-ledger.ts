/**
 * The runs going on on this machine: a file per run naming its lab process, from before it makes anything
 * until everything of it is gone. `lab clean` leaves a live run alone; a run whose lab died (SIGKILL) is not
 * live: its file names a process that is gone, or another one that took the pid since.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A run's entry in the ledger. */
export interface LiveRun {
  pid: number;
  /** The process's start time (clock ticks since boot, /proc/<pid>/stat), so a reused pid is told apart. */
  startTicks: number;
  /**
   * The kernels the run's hosts run on (their boot ids), once it has read them: a run whose hosts are on
   * another kernel (a VM's, another machine's) does not share this one's slab or memory.
   */
  kernels?: string[];
  /** When the run ended (ms since the epoch): kept a moment in an .ended file, for the runs measuring beside it. */
  endedAt?: number;
}

export function ledgerDir(): string {
  if (process.getuid?.() === 0) return '/run/lab/runs';
  return join(process.env.XDG_RUNTIME_DIR || tmpdir(), `lab-${process.getuid?.() ?? 'user'}`, 'runs');
}

const fileOf = (runId: string) => join(ledgerDir(), `${runId}.json`);
/** A run that has just ended: not live (`lab clean` never reads these), still a neighbour for a moment. */
const endedFileOf = (runId: string) => join(ledgerDir(), `${runId}.ended`);

/**
 * How long an ended run still counts as active beside others: the kernel frees what a run's hosts held a
 * little after its lab says all is gone (its conntrack entries up to 0.6 s after, measured with 10,000 held).
 */
export const ENDED_GRACE_MS = 5000;
/** Ended traces older than this are removed by whoever reads the ledger next. */
const ENDED_KEPT_MS = 60_000;

/** When a live process started; undefined for one that is gone, or dead and not yet reaped (a zombie). */
function startTicks(pid: number): number | undefined {
  try {
    // "pid (comm) state ppid ...": the 22nd field counts from the pid, after a comm that may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' || fields[0] === 'X' ? undefined : Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** Records this process as the run's lab; resolves with the function that says the run is over. */
export async function markLive(runId: string): Promise<() => Promise<void>> {
  const entry: LiveRun = { pid: process.pid, startTicks: startTicks(process.pid) ?? 0 };
  try {
    await mkdir(ledgerDir(), { recursive: true });
    await writeFile(fileOf(runId), JSON.stringify(entry));
  } catch {
    // Nowhere to write it: the run goes on, only unprotected from a `lab clean` meanwhile.
    return async () => {};
  }
  return async () => {
    // The trace first, then the entry: a reader never sees the run neither live nor ended.
    await writeEnded(runId);
    await rm(fileOf(runId), { force: true });
  };
}

async function writeEnded(runId: string): Promise<void> {
  try {
    const entry = JSON.parse(await readFile(fileOf(runId), 'utf8')) as LiveRun;
    await writeFile(endedFileOf(runId), JSON.stringify({ ...entry, endedAt: Date.now() }));
  } catch {
    // No trace: others' readings only lose the moment after this run.
  }
}

/** Whether the run's lab process is still alive on this machine. */
export function isLive(runId: string): boolean {
  const file = fileOf(runId);
  if (!existsSync(file)) return false;
  try {
    const entry = JSON.parse(readFileSync(file, 'utf8')) as LiveRun;
    return startTicks(entry.pid) === entry.startTicks;
  } catch {
    return false;
  }
}

/**
 * Adds the kernels (boot ids) the run's hosts run on to its entry. The entry is replaced whole (written
 * beside it, then renamed): whoever reads it meanwhile reads the old one or the new one, never half.
 */
export async function announceKernels(runId: string, kernels: readonly string[]): Promise<void> {
  const file = fileOf(runId);
  try {
    const entry = JSON.parse(await readFile(file, 'utf8')) as LiveRun;
    const known = entry.kernels ?? [];
    const all = [...new Set([...known, ...kernels])];
    if (all.length === known.length) return;
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify({ ...entry, kernels: all }));
    await rename(temporary, file);
  } catch {
    // No entry (it could not be written): the run is unknown to others either way.
  }
}

/**
 * The runs active on this machine now, with the kernels each has said its hosts run on (none yet: unknown):
 * those alive, and those that ended within ENDED_GRACE_MS.
 */
export async function liveRuns(now = Date.now()): Promise<ActiveRun[]> {
  const files = await readdir(ledgerDir()).catch(() => [] as string[]);
  const runs = await Promise.all(
    files.map(async (file) => {
      if (!file.endsWith('.json') && !file.endsWith('.ended')) return undefined;
      const entry = await readFile(join(ledgerDir(), file), 'utf8').then(
        (text) => JSON.parse(text) as LiveRun,
        () => undefined,
      );
      if (file.endsWith('.ended') && now - (entry?.endedAt ?? 0) > ENDED_KEPT_MS) await rm(join(ledgerDir(), file), { force: true });
      return activeRun(file, entry, now);
    }),
  );
  return runs.filter((run): run is ActiveRun => run !== undefined);
}

export interface ActiveRun {
  runId: string;
  kernels?: readonly string[];
  /** Set for a run that has ended and is still within ENDED_GRACE_MS of it. */
  endedAt?: number;
}

/** A ledger file's run, if it is active: its lab alive (<id>.json), or ended within the grace (<id>.ended). */
export function activeRun(file: string, entry: LiveRun | undefined, now: number): ActiveRun | undefined {
  const ended = file.endsWith('.ended');
  if (!entry || (!ended && !file.endsWith('.json'))) return undefined;
  const active = ended ? now - (entry.endedAt ?? 0) <= ENDED_GRACE_MS : startTicks(entry.pid) === entry.startTicks;
  if (!active) return undefined;
  return {
    runId: file.slice(0, file.lastIndexOf('.')),
    ...(entry.kernels?.length && { kernels: entry.kernels }),
    ...(ended && { endedAt: entry.endedAt ?? 0 }),
  };
}

/** Forgets a run whose lab is gone (its objects have just been removed). */
export async function forget(runId: string): Promise<void> {
  if (!isLive(runId)) await rm(fileOf(runId), { force: true });
}

/** The runs the ledger holds, live or not. */
export async function ledgerRuns(): Promise<string[]> {
  const files = await readdir(ledgerDir()).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
}
