/** What every law answers: a Prediction, how to state one, whether a measurement falls in it, how to print it. */
import type { Prediction } from '../types.ts';

/**
 * A prediction needs a figure only the run reads (what a program reported, the kernel's slab sizes): before
 * the run the theory cannot tell yet, which is no fault of the scenario's.
 */
export class MissingFigure extends Error {
  override readonly name = 'MissingFigure';

  /**
   * By name, not instanceof: a scenario file imports the lab through its own module instance (the loader
   * gives each scenario file its own), so its theory's classes are not this module's.
   */
  static is(error: unknown): boolean {
    return (error as { name?: unknown } | null)?.name === 'MissingFigure';
  }
}

export function exactly(n: number, why?: string): Prediction {
  return { min: n, max: n, ...(why ? { why } : {}) };
}

export function between(min: number, max: number, why?: string): Prediction {
  return { min, max, ...(why ? { why } : {}) };
}

export function atLeast(n: number, why?: string): Prediction {
  return { min: n, max: Infinity, ...(why ? { why } : {}) };
}

/**
 * The claim does not apply on this kernel or setup (the option it measures does not exist there): the row
 * says so and why, and is neither a pass nor a failure of the case. Never for a figure that merely went
 * unmeasured: that is INVALID.
 */
export function doesNotApply(why: string): Prediction {
  return { min: -Infinity, max: Infinity, why, doesNotApply: true };
}

export function contains(p: Prediction, measured: number): boolean {
  return measured >= p.min && measured <= p.max;
}

export function formatPrediction(p: Prediction): string {
  // A row the theory could not predict has no bounds (NaN, written to JSON as null).
  if (typeof p.min !== 'number' || Number.isNaN(p.min)) return '-';
  if (p.min === p.max) return String(p.min);
  if (p.max === Infinity) return `>= ${p.min}`;
  return `${p.min}-${p.max}`;
}
