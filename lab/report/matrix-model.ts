/** The kernel matrix's shape (matrix.ts builds it) and the blocks its parts render, in a leaf of their own. */
import type { MatrixFailure, ComparedRun } from '../results/runs.ts';
import type { Comparison } from './compare.ts';

/** The runs of every scenario by kernel, and the runs that broke (a VM that did not boot, a scenario that broke). */
export interface Matrix {
  /** Column labels: kernel releases in version order, with the VM's CPUs where a VM had several ("…, 2 vCPU"). */
  kernels: string[];
  /** Whether the columns tell VMs of different CPU counts apart (matrix-columns.ts). */
  byCpus: boolean;
  scenarios: Array<{
    name: string;
    claim: string;
    /** Per column: its first run (round) of the scenario. */
    runs: Array<ComparedRun | undefined>;
    /** Per column: every run of the scenario (lab matrix --rounds), in the order they came. */
    rounds: ComparedRun[][];
    comparison: Comparison;
  }>;
  failures: MatrixFailure[];
  pass: boolean;
  /** Whether any scenario measured something different on some kernel. */
  kernelsDiffer: boolean;
}

/** A chart is drawn in matrix.html only: the Markdown has its table. */
export type MatrixBlock = { heading: string; level: 2 | 3 } | { text: string } | { table: string[][] } | { chart: string };
