/**
 * Bridged traffic between containers goes through the host's netfilter when br_netfilter is loaded with
 * bridge-nf-call-iptables=1: every lab connection then takes a host-wide conntrack entry, and past
 * nf_conntrack_max new SYNs are dropped ("nf_conntrack: table full"). The lab reads that ceiling, and raises
 * it only when the user says so, restoring the old value afterwards. Or, also only when the user says so,
 * it exempts the run's subnet from tracking: a NOTRACK rule in the host's raw table for that subnet alone.
 *
 * For a case that needs a small table (a NAT gateway's "table full") it lowers the ceiling, machine-wide (the
 * kernel keeps one nf_conntrack_max per machine; each namespace is counted against it on its own), only
 * while no other lab run holds it set, and puts it back after the case.
 *
 * A ledger (/run/lab/conntrack.json: the value before any lab set it, which lab processes hold it set, and
 * which hold an exemption) makes that safe when two labs do it at once, and when a lab dies
 * without undoing it (SIGKILL): the last holder puts the original back, and a holder whose process is gone
 * is dropped by the next lab run or by `lab clean`, which then restore the value and delete the rule.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { $ } from 'zx';
import type { ConnectionTracking, Log, NamespaceCount } from '../runtime.ts';
import { alive } from '../../process-alive.ts';
import { HeldSysctl, type RaiseLedger } from './raised-sysctl.ts';

const BRIDGE_CALLS_IPTABLES = '/proc/sys/net/bridge/bridge-nf-call-iptables';
const CONNTRACK_MAX = '/proc/sys/net/netfilter/nf_conntrack_max';
const CONNTRACK_COUNT = '/proc/sys/net/netfilter/nf_conntrack_count';
const CONNTRACK_BUCKETS = '/proc/sys/net/netfilter/nf_conntrack_buckets';
/** In /run: gone at reboot, as is the raised value itself. */
export const CONNTRACK_LEDGER = '/run/lab/conntrack.json';

const read = (path: string) => Number(readFileSync(path, 'utf8').trim());

interface Ledger extends RaiseLedger {
  /** The runs whose subnet is exempt from tracking: their lab's pid and the subnet, by run id. */
  exempt?: Record<string, { pid: number; subnet: string }>;
}

const ceiling = new HeldSysctl<Ledger>(
  'nf_conntrack_max',
  CONNTRACK_MAX,
  CONNTRACK_LEDGER,
  '--raise-conntrack',
  (l) => Object.keys(l.exempt ?? {}).length > 0,
);
const freshLedger = (): Ledger => ({ original: ceiling.value(), holders: {} });

export const CONNTRACK_BUCKETS_LEDGER = '/run/lab/conntrack-buckets.json';
/**
 * The hash the entries of every namespace share. Raising nf_conntrack_max does not grow it, so a million
 * connections (three entries each) in 262,144 buckets make each lookup walk a chain of about eleven: at 1M
 * held and pinged, the lookup was 21% of the machine's samples. It grows with the ceiling to one bucket per
 * entry allowed (as the kernel sizes both at boot on 64-bit: nf_conntrack_max = nf_conntrack_buckets), up to
 * MAX_CONNTRACK_BUCKETS.
 */
const hash = new HeldSysctl('nf_conntrack_buckets', CONNTRACK_BUCKETS, CONNTRACK_BUCKETS_LEDGER, '--raise-conntrack');
/** 32 MiB of bucket heads: the hash for 4M entries. */
export const MAX_CONNTRACK_BUCKETS = 4_194_304;

/** The kernel rounds the hash up to whole pages of bucket heads (nf_ct_alloc_hashtable): 4 KiB of 8-byte heads. */
const BUCKETS_PER_PAGE = 512;

/** The buckets for a ceiling: one per entry allowed, in whole pages as the kernel sizes them, up to MAX_CONNTRACK_BUCKETS. */
export function bucketsFor(max: number): number {
  return Math.min(Math.ceil(max / BUCKETS_PER_PAGE) * BUCKETS_PER_PAGE, MAX_CONNTRACK_BUCKETS);
}

/** Grows the hash for one run (never shrinks it); resolves with the function that puts the old size back. */
export function growHash(runId: string, buckets: number, log: Log): Promise<() => Promise<void>> {
  return hash.raise(runId, buckets, log, () => ({ original: hash.value(), holders: {} }));
}

/** The NOTRACK rule for one run's subnet, as iptables takes it after -I or -D (the comment names the run). */
const notrackRule = (runId: string, subnet: string) => [
  'PREROUTING',
  '-s',
  subnet,
  '-d',
  subnet,
  '-m',
  'comment',
  '--comment',
  `lab.run=${runId}`,
  '-j',
  'NOTRACK',
];

async function iptablesRaw(action: '-I' | '-D', rule: string[]): Promise<void> {
  const result = await $({ quiet: true, nothrow: true })`iptables -w 10 -t raw ${action} ${rule}`;
  if (result.exitCode !== 0) throw new Error(`iptables -t raw ${action} ${rule.join(' ')}: ${result.stderr.trim()}`);
}

/** Deletes the NOTRACK rules of runs whose lab is gone; returns the ledger without them, and what went. */
async function dropDeadExemptions(ledger: Ledger | undefined, log: Log): Promise<{ ledger?: Ledger; deleted: string[] }> {
  if (!ledger) return { deleted: [] };
  const exempt: NonNullable<Ledger['exempt']> = {};
  const deleted: string[] = [];
  for (const [runId, held] of Object.entries(ledger.exempt ?? {})) {
    if (alive(held.pid)) exempt[runId] = held;
    else {
      // Gone already (deleted by hand, or the machine rebooted) is as good as deleted.
      await iptablesRaw('-D', notrackRule(runId, held.subnet)).catch(() => undefined);
      deleted.push(`${held.subnet} (${runId})`);
      log(`deleted the host's NOTRACK rule for ${held.subnet} (${runId}) (left by a lab run that is gone)`);
    }
  }
  return { ledger: { ...ledger, exempt }, deleted };
}

/** A ledger as found, with what runs now gone left (raises, rules) undone. */
async function settleLeftovers(found: Ledger | undefined, log: Log): Promise<{ ledger?: Ledger; restored: boolean; deleted: string[] }> {
  const { ledger, deleted } = await dropDeadExemptions(found, log);
  const restored = ceiling.leftovers(ledger, log);
  return { ...(restored.ledger && { ledger: restored.ledger }), restored: restored.restoredFrom !== undefined, deleted };
}

/**
 * The entries one namespace tracks, from /proc/<pid>/net/stat/nf_conntrack: its first column, "entries", is
 * the namespace's own count (repeated on every CPU's line). Undefined where it could not be read.
 */
export function namespaceEntries(statText: string): number | undefined {
  const [header, first] = statText.trim().split('\n');
  if (!header?.trim().startsWith('entries') || !first) return undefined;
  const value = parseInt(first.trim().split(/\s+/)[0] ?? '', 16);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Every network namespace some process of this machine is in, read through one of its processes; the
 * machine's own first (the lab's: it runs beside the engine, in the machine's namespaces).
 */
async function namespaceCounts(): Promise<NamespaceCount[]> {
  const own = await readlink(`/proc/${process.pid}/ns/net`).catch(() => undefined);
  const seen = new Map<string, NamespaceCount>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const namespace = await readlink(`/proc/${entry}/ns/net`).catch(() => undefined);
    if (!namespace || seen.has(namespace)) continue;
    const count = namespaceEntries(await readFile(`/proc/${entry}/net/stat/nf_conntrack`, 'utf8').catch(() => ''));
    if (count === undefined) continue;
    const command = (await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '?')).trim();
    seen.set(namespace, { namespace, machine: namespace === own, count, pid: Number(entry), command });
  }
  return [...seen.values()].sort((a, b) => Number(b.machine) - Number(a.machine) || b.count - a.count);
}

/** This machine's conntrack table, shared by every run: raises and exemptions are held per run in the ledger. */
export interface MachineConntrack extends Omit<ConnectionTracking, 'raise' | 'exempt' | 'lower'> {
  /** nf_conntrack_max as it stays (not as lab runs raised it for a while): every namespace's own ceiling. */
  lastingMax(): Promise<number>;
  /** Raises the ceiling for one run; resolves with the function that puts the old one back. */
  raise(runId: string, max: number, log: Log): Promise<() => Promise<void>>;
  /** Exempts one run's subnet from tracking; resolves with the function that deletes the rule. */
  exempt(runId: string, subnet: string, log: Log): Promise<() => Promise<void>>;
  /** Lowers the ceiling for one run's case, where no other lab run holds it set; resolves with the function that puts it back. */
  lower(runId: string, max: number, log: Log): Promise<() => Promise<void>>;
  namespaceCounts(): Promise<NamespaceCount[]>;
}

export const hostConntrack: MachineConntrack = {
  lastingMax: () => ceiling.lasting(),

  async read() {
    const tracked = existsSync(BRIDGE_CALLS_IPTABLES) && existsSync(CONNTRACK_MAX) && read(BRIDGE_CALLS_IPTABLES) === 1;
    if (!tracked) return { tracked: false, max: Infinity, count: 0 };
    return { tracked: true, max: await ceiling.lasting(), count: existsSync(CONNTRACK_COUNT) ? read(CONNTRACK_COUNT) : 0 };
  },

  async reclaim(log: Log) {
    const reclaimed = await hash.reclaim(log);
    if (!existsSync(CONNTRACK_LEDGER) || !existsSync(CONNTRACK_MAX)) return reclaimed;
    try {
      return await ceiling.locked(async () => {
        const found = await ceiling.load();
        const { ledger, restored, deleted } = await settleLeftovers(found, log);
        await ceiling.save(ledger);
        return [
          ...reclaimed,
          ...(restored ? [`nf_conntrack_max back to ${found!.original}`] : []),
          ...deleted.map((rule) => `the NOTRACK rule for ${rule}`),
        ];
      });
    } catch (error) {
      // Not root, say: the next lab run as root puts it back.
      log(`could not check ${CONNTRACK_LEDGER}: ${(error as Error).message}`);
      return reclaimed;
    }
  },

  async raise(runId: string, max: number, log: Log) {
    // Dead runs' rules first, under the lock raise() takes after: they share the ledger.
    await ceiling.locked(async () => ceiling.save((await dropDeadExemptions(await ceiling.load(), log)).ledger));
    const restoreMax = await ceiling.raise(runId, max, log, freshLedger);
    const restoreHash = await growHash(runId, bucketsFor(max), log).catch((error: Error) => {
      log(`could not grow the conntrack hash with its ceiling (each lookup walks longer chains): ${error.message}`);
      return async () => {};
    });
    return async () => {
      await restoreHash();
      await restoreMax();
    };
  },

  async lower(runId: string, max: number, log: Log) {
    await ceiling.locked(async () => ceiling.save((await dropDeadExemptions(await ceiling.load(), log)).ledger));
    return ceiling.lower(runId, max, log, freshLedger, 'for this case (machine-wide: the kernel keeps one per machine)');
  },

  namespaceCounts,

  async exempt(runId: string, subnet: string, log: Log) {
    await ceiling.locked(async () => {
      const ledger = (await settleLeftovers(await ceiling.load(), log)).ledger ?? freshLedger();
      // In the ledger before the rule exists: a lab killed in between leaves a rule the next run deletes.
      ledger.exempt = { ...ledger.exempt, [runId]: { pid: process.pid, subnet } };
      await ceiling.save(ledger);
      await iptablesRaw('-I', notrackRule(runId, subnet));
      log(`exempted ${subnet} from the host's connection tracking for this run (--notrack: a NOTRACK rule in the raw table)`);
    });
    return () =>
      ceiling.locked(async () => {
        const ledger = await ceiling.load();
        const held = ledger?.exempt?.[runId];
        if (held) {
          await iptablesRaw('-D', notrackRule(runId, held.subnet)).catch((error: Error) =>
            log(`could not delete the NOTRACK rule for ${held.subnet}: ${error.message}`),
          );
          delete ledger!.exempt![runId];
          log(`deleted the host's NOTRACK rule for ${held.subnet}`);
        }
        await ceiling.save(ceiling.restoreUnheld(ledger).ledger);
      });
  },
};
