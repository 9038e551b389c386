/**
 * A machine-wide sysctl that lab runs set for a while and put back afterwards: raised only when the user
 * says so (nf_conntrack_max, fs.file-max), or lowered for one case that needs a small value and has the
 * machine alone (nf_conntrack_max: the kernel keeps one per machine). A ledger in /run/lab (the value before
 * any lab set it, and which lab processes hold it set) makes that safe when two labs do it at once, and when
 * a lab dies without undoing it (SIGKILL): the last holder puts the original back, and a holder whose process
 * is gone is dropped by the next lab run or by `lab clean`, which then restore the value.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { EnvironmentError } from '../../errors.ts';
import { alive } from '../../process-alive.ts';
import type { Log } from '../runtime.ts';

/** A lowering's holder in the ledger: the run's id and this. */
const LOWERED = '/lowered';

export interface RaiseLedger {
  /** The value before the first lab set it. */
  original: number;
  /** The pids of the lab processes holding it set (raised or lowered), by run id. */
  holders: Record<string, number>;
}

export interface Restored {
  /** The ledger to keep (none once nothing is held). */
  ledger?: RaiseLedger;
  /** The value it was put back from, where it was. */
  restoredFrom?: number;
}

export class HeldSysctl<L extends RaiseLedger = RaiseLedger> {
  constructor(
    /** As people know it: fs.file-max, nf_conntrack_max. */
    readonly name: string,
    /** Where it is read and written: /proc/sys/... */
    readonly file: string,
    /** In /run: gone at reboot, as is the raised value itself. */
    readonly ledgerPath: string,
    /** The flag that lets the lab raise it, for what it says. */
    private readonly flag: string,
    /** Whether a ledger holds anything besides raises (kept even once no raise is held). */
    private readonly holdsMore: (ledger: L) => boolean = () => false,
  ) {}

  /** Its full key where its file is under /proc/sys (net.netfilter.nf_conntrack_max), else its name. */
  get key(): string {
    return this.file.startsWith('/proc/sys/') ? this.file.slice('/proc/sys/'.length).replaceAll('/', '.') : this.name;
  }

  value(): number {
    return Number(readFileSync(this.file, 'utf8').trim());
  }

  /** The value as it stays: set by other lab runs still going, it goes back to the original when they end. */
  async lasting(): Promise<number> {
    const ledger = await this.load();
    return ledger && Object.keys(this.liveHolders(ledger)).length ? ledger.original : this.value();
  }

  async load(): Promise<L | undefined> {
    const text = await readFile(this.ledgerPath, 'utf8').catch(() => undefined);
    if (!text) return undefined;
    try {
      return JSON.parse(text) as L;
    } catch {
      return undefined;
    }
  }

  async save(ledger: L | undefined): Promise<void> {
    if (!ledger) return void (await rm(this.ledgerPath, { force: true }));
    const temporary = `${this.ledgerPath}.${process.pid}`;
    await writeFile(temporary, JSON.stringify(ledger) + '\n');
    await rename(temporary, this.ledgerPath);
  }

  /** One lab process at a time reads and changes the ledger and the sysctl; a lock older than 30 s is stale. */
  async locked<T>(work: () => Promise<T>): Promise<T> {
    const lock = `${this.ledgerPath}.lock`;
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

  /**
   * Drops holders whose process is gone; with no raise held, puts the original value back (where a lab
   * raised it: a ledger kept only for what else it holds was raised by none). Returns the ledger to keep.
   */
  restoreUnheld(ledger: L | undefined, setByLab = !!ledger && Object.keys(ledger.holders).length > 0): Restored & { ledger?: L } {
    if (!ledger) return {};
    const kept = { ...ledger, holders: this.liveHolders(ledger) };
    const keep = Object.keys(kept.holders).length > 0 || this.holdsMore(kept);
    if (Object.keys(kept.holders).length || !setByLab) return keep ? { ledger: kept } : {};
    const now = this.value();
    if (now !== ledger.original) writeFileSync(this.file, String(ledger.original));
    return { ...(keep && { ledger: kept }), ...(now !== ledger.original && { restoredFrom: now }) };
  }

  restoredLine(from: number, to: number): string {
    return `restored the host's ${this.name} from ${from} to ${to}`;
  }

  /** A ledger as found, its dead holders dropped: what that undid was left by a run that is gone, and it says so. */
  leftovers(found: L | undefined, log: Log): Restored & { ledger?: L } {
    const restored = this.restoreUnheld(found);
    if (restored.restoredFrom !== undefined)
      log(
        `${this.restoredLine(restored.restoredFrom, found!.original)} (left ${restored.restoredFrom > found!.original ? 'raised' : 'lowered'} by a lab run that is gone)`,
      );
    return restored;
  }

  /** Puts back what runs now gone left raised; says what it did. */
  async reclaim(log: Log): Promise<string[]> {
    // Nothing held: nothing to take the lock for (which a user who may not write /run/lab could not).
    if (!existsSync(this.ledgerPath)) return [];
    try {
      return await this.locked(async () => {
        const found = await this.load();
        if (!found) return [];
        const restored = this.leftovers(found, log);
        await this.save(restored.ledger);
        return restored.restoredFrom === undefined ? [] : [`${this.name} back to ${found.original}`];
      });
    } catch (error) {
      // Not root, say: the next lab run as root puts it back.
      log(`could not check ${this.ledgerPath}: ${(error as Error).message}`);
      return [];
    }
  }

  /** Raises it for one run (never lowers it); resolves with the function that puts the old value back. */
  raise(runId: string, value: number, log: Log, fresh: () => L): Promise<() => Promise<void>> {
    return this.hold(runId, fresh, log, (before) => {
      if (value <= before) return;
      writeFileSync(this.file, String(value));
      log(`raised the host's ${this.name} from ${before} to ${value} for this run (${this.flag})`);
    });
  }

  /**
   * Lowers it for one run (never raises it), only where no other lab run holds it set: a value lowered for
   * one run is every run's on the machine. `why` ends the line that says so. Resolves with the function that
   * puts the old value back.
   */
  lower(runId: string, value: number, log: Log, fresh: () => L, why: string): Promise<() => Promise<void>> {
    // Its own holder: a run that raised it for its other cases keeps that hold apart, and is refused below.
    return this.hold(
      `${runId}${LOWERED}`,
      fresh,
      log,
      (before) => {
        if (value >= before) return log(`${this.key} is ${before} already, not above ${value}: left as it is`);
        writeFileSync(this.file, String(value));
        log(`lowered ${this.key} from ${before} to ${value} ${why}`);
      },
      (ledger) => {
        const holders = Object.keys(this.liveHolders(ledger));
        if (holders.includes(runId))
          throw new EnvironmentError(
            `cannot lower ${this.name} to ${value}: this run raised it (${this.flag}) for its other cases`,
            'run the case that lowers it on its own (--case)',
          );
        if (holders.length)
          throw new EnvironmentError(
            `cannot lower ${this.name} to ${value}: lab run(s) ${holders.map((h) => h.replace(LOWERED, '')).join(', ')} hold it set (${this.value()} now) and may need more`,
            'run the case again once they have ended',
          );
      },
    );
  }

  /**
   * Holds it set for one run: the ledger first (so a lab killed meanwhile leaves a value the next run puts
   * back), then `change` given the value before. Resolves with the function that lets go, putting the
   * original back when no other run holds it.
   */
  private async hold(
    runId: string,
    fresh: () => L,
    log: Log,
    change: (before: number) => void,
    refuse?: (ledger: L) => void,
  ): Promise<() => Promise<void>> {
    await this.locked(async () => {
      const ledger = this.leftovers(await this.load(), log).ledger ?? fresh();
      refuse?.(ledger);
      // Kept only for what else it holds: nothing set it, so its value now is the original.
      if (!Object.keys(ledger.holders).length) ledger.original = this.value();
      ledger.holders[runId] = process.pid;
      await this.save(ledger);
      try {
        change(this.value());
      } catch (error) {
        // Not set after all: no hold left behind for this (live) process, which nobody would drop before it ends.
        await this.save(this.letGo(ledger, runId, log));
        throw error;
      }
    });
    // Once: a second call (the session's close after the case's own) waits for the first; one that failed may try again.
    let releasing: Promise<void> | undefined;
    return () =>
      (releasing ??= this.locked(async () => this.save(this.letGo(await this.load(), runId, log))).catch((error: unknown) => {
        releasing = undefined;
        throw error;
      }));
  }

  /** The ledger without one run's hold, the original put back (and said) where no other run holds it. */
  private letGo(ledger: L | undefined, runId: string, log: Log): L | undefined {
    if (ledger) delete ledger.holders[runId];
    const restored = this.restoreUnheld(ledger, true);
    if (restored.restoredFrom !== undefined) log(this.restoredLine(restored.restoredFrom, ledger!.original));
    return restored.ledger;
  }

  private liveHolders(ledger: L): Record<string, number> {
    return Object.fromEntries(Object.entries(ledger.holders).filter(([, pid]) => alive(pid)));
  }
}
