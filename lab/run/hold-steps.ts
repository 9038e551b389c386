/**
 * connscale's hold stepping down (holdPing.stepDownMs) keeps one schedule on every client from the signal that
 * starts it: each cadence for the hold's length, so the machine carries one cadence at a time. Once every
 * process of every client held one (its time over, its Pings in, none later than a quarter of the timeout), the
 * slower ones after it tell nothing more: the hold is ended everywhere at once, each program told by SIGHUP
 * (labclient's "enough", which in such a hold means "over"). Only the orchestrator sees every client's lines,
 * so only it can say so.
 */
import { sleep } from '../abort.ts';
import { stepHeld, type ClientLine } from '../programs/lines.ts';
import type { ClientFlood } from './client-flood.ts';

const POLL_MS = 250;

/** The first cadence (its interval) every client's every process held, by their latest lines; none yet. */
export function cadenceHeldEverywhere(clients: ReadonlyArray<{ processes: number; line?: ClientLine }>): number | undefined {
  const steps = clients.map((c) => c.line?.hold_ping?.steps ?? []);
  const count = Math.min(...steps.map((s) => s.length));
  for (let k = 0; k < count; k++) {
    if (clients.every((c, i) => stepHeld(steps[i]![k]!, c.processes))) return steps[0]![k]!.interval_ms;
  }
  return undefined;
}

/** Ends the holds of these floods once a cadence was held everywhere, unless they end first (over). */
export async function endHoldsOnceHeld(floods: readonly ClientFlood[], over: Promise<unknown>): Promise<void> {
  let done = false;
  const stop = () => void (done = true);
  over.then(stop, stop);
  while (!done) {
    const held = cadenceHeldEverywhere(floods.map((f) => ({ processes: f.plan.processes, line: f.last })));
    if (held !== undefined) {
      await Promise.all(floods.map((f) => f.program.signal('HUP').catch(() => undefined)));
      return;
    }
    await sleep(POLL_MS);
  }
}
