/**
 * Bridged traffic between containers goes through the host's netfilter when br_netfilter is loaded with
 * bridge-nf-call-iptables=1: every lab connection then takes a host-wide conntrack entry, and past
 * nf_conntrack_max new SYNs are dropped ("nf_conntrack: table full"). The lab reads that ceiling, and raises
 * it only when the user says so, restoring the old value afterwards. Or, also only when the user says so,
 * it exempts the run's subnet from tracking: a NOTRACK rule in the host's raw table for that subnet alone.
 *
 * A ledger (/run/lab/conntrack.json: the value before any lab raised it, which lab processes hold it
 * raised, and which hold an exemption) makes that safe when two labs do it at once, and when a lab dies
 * without undoing it (SIGKILL): the last holder puts the original back, and a holder whose process is gone
 * is dropped by the next lab run or by `lab clean`, which then restore the value and delete the rule.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { $ } from 'zx';
import type { ConnectionTracking, Log } from '../runtime.ts';

const BRIDGE_CALLS_IPTABLES = '/proc/sys/net/bridge/bridge-nf-call-iptables';
const CONNTRACK_MAX = '/proc/sys/net/netfilter/nf_conntrack_max';
const CONNTRACK_COUNT = '/proc/sys/net/netfilter/nf_conntrack_count';
/** In /run: gone at reboot, as is the raised value itself. */
export const CONNTRACK_LEDGER = '/run/lab/conntrack.json';

const read = (path: string) => Number(readFileSync(path, 'utf8').trim());

interface Ledger {
  /** nf_conntrack_max before the first lab raised it. */
  original: number;
  /** The pids of the lab processes holding it raised, by run id. */
  holders: Record<string, number>;
  /** The runs whose subnet is exempt from tracking: their lab's pid and the subnet, by run id. */
  exempt?: Record<string, { pid: number; subnet: string }>;
}

/** The NOTRACK rule for one run's subnet, as iptables takes it after -I or -D (the comment names the run). */
const notrackRule = (runId: string, subnet: string) => ['PREROUTING', '-s', subnet, '-d', subnet, '-m', 'comment', '--comment', `lab.run=${runId}`, '-j', 'NOTRACK'];

async function iptablesRaw(action: '-I' | '-D', rule: string[]): Promise<void> {
  const result = await $({ quiet: true, nothrow: true })`iptables -w 10 -t raw ${action} ${rule}`;
  if (result.exitCode !== 0) throw new Error(`iptables -t raw ${action} ${rule.join(' ')}: ${result.stderr.trim()}`);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function readLedger(): Promise<Ledger | undefined> {
  const text = await readFile(CONNTRACK_LEDGER, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Ledger;
  } catch {
    return undefined;
  }
}

async function writeLedger(ledger: Ledger | undefined): Promise<void> {
  if (!ledger) return void (await rm(CONNTRACK_LEDGER, { force: true }));
  const temporary = `${CONNTRACK_LEDGER}.${process.pid}`;
  await writeFile(temporary, JSON.stringify(ledger) + '\n');
  await rename(temporary, CONNTRACK_LEDGER);
}

/** One lab process at a time reads and changes the ledger and the sysctl; a lock older than 30 s is stale. */
async function locked<T>(work: () => Promise<T>): Promise<T> {
  const lock = `${CONNTRACK_LEDGER}.lock`;
  await mkdir(dirname(lock), { recursive: true });
  for (let tries = 0; ; tries++) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now());
      if (age > 30_000 || tries > 100) await rmdir(lock).catch(() => undefined);
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    return await work();
  } finally {
    await rmdir(lock).catch(() => undefined);
  }
}

/** The ledger's holders whose process still runs. */
const liveHolders = (ledger: Ledger) => Object.fromEntries(Object.entries(ledger.holders).filter(([, pid]) => alive(pid)));

const restoredLine = (from: number, to: number) => `restored the host's nf_conntrack_max from ${from} to ${to}`;

interface Settled {
  ledger?: Ledger;
  restoredFrom?: number;
  /** The exemptions whose rule was deleted, as "subnet (run id)". */
  deleted: string[];
}

/**
 * Drops holders whose process is gone (deleting their NOTRACK rules); with no raise held, puts the original
 * value back; a ledger with nothing held ends. Returns the ledger to keep, and what it undid.
 */
async function settle(ledger: Ledger | undefined, raisedByLab = !!ledger && Object.keys(ledger.holders).length > 0): Promise<Settled> {
  if (!ledger) return { deleted: [] };
  const holders = liveHolders(ledger);
  const exempt: NonNullable<Ledger['exempt']> = {};
  const deleted: string[] = [];
  for (const [runId, held] of Object.entries(ledger.exempt ?? {})) {
    if (alive(held.pid)) exempt[runId] = held;
    else {
      // Gone already (deleted by hand, or the machine rebooted) is as good as deleted.
      await iptablesRaw('-D', notrackRule(runId, held.subnet)).catch(() => undefined);
      deleted.push(`${held.subnet} (${runId})`);
    }
  }
  const kept = Object.keys(holders).length || Object.keys(exempt).length ? { ...ledger, holders, exempt } : undefined;
  // Raised by none (only exemptions held): the value is not the lab's to put back.
  if (Object.keys(holders).length || !raisedByLab) return { ...(kept && { ledger: kept }), deleted };
  const now = read(CONNTRACK_MAX);
  if (now === ledger.original) return { ...(kept && { ledger: kept }), deleted };
  writeFileSync(CONNTRACK_MAX, String(ledger.original));
  return { ...(kept && { ledger: kept }), restoredFrom: now, deleted };
}

/** settle() on a ledger as found: what it undid there was left by a run that is gone, and it says so. */
async function settleLeftovers(found: Ledger | undefined, log: Log): Promise<Settled> {
  const settled = await settle(found);
  if (settled.restoredFrom !== undefined) log(`${restoredLine(settled.restoredFrom, found!.original)} (left raised by a lab run that is gone)`);
  for (const rule of settled.deleted) log(`deleted the host's NOTRACK rule for ${rule} (left by a lab run that is gone)`);
  return settled;
}

/** This machine's conntrack table, shared by every run: raises and exemptions are held per run in the ledger. */
export interface MachineConntrack extends Omit<ConnectionTracking, 'raise' | 'exempt'> {
  /** Raises the ceiling for one run; resolves with the function that puts the old one back. */
  raise(runId: string, max: number, log: Log): Promise<() => Promise<void>>;
  /** Exempts one run's subnet from tracking; resolves with the function that deletes the rule. */
  exempt(runId: string, subnet: string, log: Log): Promise<() => Promise<void>>;
}

export const hostConntrack: MachineConntrack = {
  async read() {
    const tracked = existsSync(BRIDGE_CALLS_IPTABLES) && existsSync(CONNTRACK_MAX) && read(BRIDGE_CALLS_IPTABLES) === 1;
    if (!tracked) return { tracked: false, max: Infinity, count: 0 };
    // Raised by other lab runs still going: it drops back to the original when they end, so that counts.
    const ledger = await readLedger();
    const raised = ledger && Object.keys(liveHolders(ledger)).length > 0;
    return { tracked: true, max: raised ? ledger.original : read(CONNTRACK_MAX), count: existsSync(CONNTRACK_COUNT) ? read(CONNTRACK_COUNT) : 0 };
  },

  async reclaim(log: Log) {
    if (!existsSync(CONNTRACK_LEDGER) || !existsSync(CONNTRACK_MAX)) return [];
    try {
      return await locked(async () => {
        const found = await readLedger();
        const { ledger, restoredFrom, deleted } = await settleLeftovers(found, log);
        await writeLedger(ledger);
        return [...(restoredFrom === undefined ? [] : [`nf_conntrack_max back to ${found!.original}`]), ...deleted.map((rule) => `the NOTRACK rule for ${rule}`)];
      });
    } catch (error) {
      // Not root, say: the next lab run as root puts it back.
      log(`could not check ${CONNTRACK_LEDGER}: ${(error as Error).message}`);
      return [];
    }
  },

  async raise(runId: string, max: number, log: Log) {
    await locked(async () => {
      const ledger = (await settleLeftovers(await readLedger(), log)).ledger ?? { original: read(CONNTRACK_MAX), holders: {} };
      // Kept only for exemptions so far: nothing raised it, so its value now is the original.
      if (!Object.keys(ledger.holders).length) ledger.original = read(CONNTRACK_MAX);
      ledger.holders[runId] = process.pid;
      await writeLedger(ledger);
      const before = read(CONNTRACK_MAX);
      if (max > before) {
        writeFileSync(CONNTRACK_MAX, String(max));
        log(`raised the host's nf_conntrack_max from ${before} to ${max} for this run (--raise-conntrack)`);
      }
    });
    return () =>
      locked(async () => {
        const ledger = await readLedger();
        if (ledger) delete ledger.holders[runId];
        const settled = await settle(ledger, true);
        if (settled.restoredFrom !== undefined) log(restoredLine(settled.restoredFrom, ledger!.original));
        await writeLedger(settled.ledger);
      });
  },

  async exempt(runId: string, subnet: string, log: Log) {
    await locked(async () => {
      const ledger = (await settleLeftovers(await readLedger(), log)).ledger ?? { original: read(CONNTRACK_MAX), holders: {} };
      // In the ledger before the rule exists: a lab killed in between leaves a rule the next run deletes.
      ledger.exempt = { ...ledger.exempt, [runId]: { pid: process.pid, subnet } };
      await writeLedger(ledger);
      await iptablesRaw('-I', notrackRule(runId, subnet));
      log(`exempted ${subnet} from the host's connection tracking for this run (--notrack: a NOTRACK rule in the raw table)`);
    });
    return () =>
      locked(async () => {
        const ledger = await readLedger();
        const held = ledger?.exempt?.[runId];
        if (held) {
          await iptablesRaw('-D', notrackRule(runId, held.subnet)).catch((error: Error) => log(`could not delete the NOTRACK rule for ${held.subnet}: ${error.message}`));
          delete ledger!.exempt![runId];
          log(`deleted the host's NOTRACK rule for ${held.subnet}`);
        }
        await writeLedger((await settle(ledger)).ledger);
      });
  },
};
