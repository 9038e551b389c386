/** The matrix's columns: one per kernel, and per VM size where runs had VMs of different CPU counts. */
import type { Results } from '../results/results.ts';

/**
 * A run's column: its kernel, and with `byCpus` its VM's CPU count where that is more than one. A VM of one
 * CPU shares its kernel's column with results written before runs recorded their CPUs (VMs had one then).
 */
export function matrixColumn(results: Results, byCpus: boolean): string {
  const { kernel, cpus } = results.environment;
  return byCpus && cpus !== undefined && cpus > 1 ? `${kernel}, ${cpus} vCPU` : kernel;
}

/** Whether the matrix's columns tell VM sizes apart: some run had a VM of several CPUs. */
export function columnsByCpus(runs: ReadonlyArray<{ results: Results }>): boolean {
  return runs.some((r) => (r.results.environment.cpus ?? 1) > 1);
}

/** The CPU count a column names ("…, 2 vCPU"), if it names one (a column of one CPU, or of a host, does not). */
export function columnCpus(column: string): number | undefined {
  const m = /, (\d+) vCPU$/.exec(column);
  return m ? Number(m[1]) : undefined;
}
