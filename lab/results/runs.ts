/** Runs as the matrix and comparisons hold them: a results document and where it was written. */
import type { Results } from './results.ts';

export interface ComparedRun {
  file: string;
  results: Results;
}

/** A run of the matrix that broke before it had results. */
export interface MatrixFailure {
  kernel: string;
  scenario: string;
  error: string;
}
