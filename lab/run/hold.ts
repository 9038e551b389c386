import { sleep, unlessAborted } from '../abort.ts';

const HOLD_LIMIT_MS = 60_000;

/**
 * A seam for the lab's own fault tests: LAB_HOLD_PHASE=<phase> holds the run just before that phase (for
 * at most a minute, or until it is interrupted), so a test can signal or kill it at a known point.
 */
export async function holdIfAsked(phase: string, signal: AbortSignal | undefined): Promise<void> {
  if (process.env.LAB_HOLD_PHASE !== phase) return;
  process.stderr.write(`lab: holding before ${phase} (LAB_HOLD_PHASE)\n`);
  await unlessAborted(sleep(HOLD_LIMIT_MS), signal);
}
