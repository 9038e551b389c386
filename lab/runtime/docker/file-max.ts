/**
 * fs.file-max bounds the open files of the whole machine: with both ends of every connection in its one
 * kernel, each held connection is two of them. The lab raises it only when the user says so
 * (--raise-file-max), held in its own ledger like nf_conntrack_max, and puts it back afterwards.
 */
import type { Log } from '../runtime.ts';
import { HeldSysctl } from './raised-sysctl.ts';

export const FILE_MAX_LEDGER = '/run/lab/file-max.json';

const fileMax = new HeldSysctl('fs.file-max', '/proc/sys/fs/file-max', FILE_MAX_LEDGER, '--raise-file-max');

/** This machine's open-file ceiling, shared by every run: raises are held per run in the ledger. */
export const hostFileMax = {
  lasting: () => fileMax.lasting(),
  reclaim: (log: Log) => fileMax.reclaim(log),
  /** Resolves with the function that puts the old value back. */
  raise: (runId: string, value: number, log: Log) => fileMax.raise(runId, value, log, () => ({ original: fileMax.value(), holders: {} })),
};
