/**
 * The tables of this machine a run may tune, where its hosts run here: conntrack's ceiling (raised for a
 * run, or lowered for a case) and exemption from tracking, and fs.file-max. Each raise, lowering or exemption
 * is held in its ledger for the run, and undone when the run closes. Containers on a bridge pass the
 * machine's own netfilter too (bridge-nf-call-iptables); on an overlay each container's namespace is the
 * only place its connections are tracked.
 */
import type { ConnectionTracking, Log, RaisableLimit } from '../runtime.ts';
import { hostConntrack } from './conntrack.ts';
import { hostFileMax } from './file-max.ts';

export class MachineTables {
  readonly connectionTracking: ConnectionTracking;
  readonly fileMax: RaisableLimit;
  /** The subnet exempt from tracking: each host's own namespace gets its NOTRACK rules as it starts. */
  untracked?: string;
  private restoreTracking?: () => Promise<void>;
  private deleteExemption?: () => Promise<void>;
  private restoreFileMax?: () => Promise<void>;
  /** Put back a ceiling lowered for a case, if the case did not. */
  private restoreLowered?: () => Promise<void>;

  constructor(
    private readonly runId: string,
    /** The hosts' traffic crosses this machine's own netfilter (a bridge here), not only their namespaces'. */
    bridged: boolean,
  ) {
    this.connectionTracking = {
      // Docker's DNS rules load conntrack in every container's namespace: a fresh table per host, the machine's ceiling.
      read: async () => (bridged ? hostConntrack.read() : { tracked: true, max: await hostConntrack.lastingMax(), count: 0 }),
      reclaim: (log) => hostConntrack.reclaim(log),
      raise: async (max, log) => {
        this.restoreTracking ??= await hostConntrack.raise(this.runId, max, log);
      },
      exempt: async (subnet, log) => {
        if (this.untracked) return;
        if (bridged) this.deleteExemption = await hostConntrack.exempt(this.runId, subnet, log);
        else log(`exempting ${subnet} from connection tracking in each host's namespace (--notrack)`);
        this.untracked = subnet;
      },
      endExemption: async () => {
        const exemption = this.deleteExemption;
        this.deleteExemption = this.untracked = undefined;
        await exemption?.();
      },
      lower: async (max, log) => {
        const restore = await hostConntrack.lower(this.runId, max, log);
        this.restoreLowered = restore;
        return restore;
      },
      namespaceCounts: () => hostConntrack.namespaceCounts(),
    };
    this.fileMax = {
      lasting: () => hostFileMax.lasting(),
      reclaim: (log: Log) => hostFileMax.reclaim(log),
      raise: async (value, log) => {
        this.restoreFileMax ??= await hostFileMax.raise(this.runId, value, log);
      },
    };
  }

  /** Puts back what the run raised or lowered and deletes its exemption; safe to call more than once. */
  async close(): Promise<void> {
    const [lowered, restore, exemption, fileMax] = [this.restoreLowered, this.restoreTracking, this.deleteExemption, this.restoreFileMax];
    this.restoreLowered = this.restoreTracking = this.deleteExemption = this.restoreFileMax = this.untracked = undefined;
    // Each is undone even where one before it failed; the first failure is then said.
    const failures: unknown[] = [];
    for (const undo of [lowered, restore, exemption, fileMax]) await undo?.().catch((error: unknown) => failures.push(error));
    if (failures.length) throw failures[0];
  }
}
