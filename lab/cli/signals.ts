/**
 * Interruptions during a command: SIGINT and SIGTERM, and SIGHUP and SIGQUIT (a closed terminal or SSH
 * session), abort the work, which removes what it made; then the command exits 130 (Interrupted). The work
 * can interrupt itself the same way (Ctrl-C or Ctrl-D at a --step prompt, read in raw mode, is no signal).
 */
import { Interrupted } from '../errors.ts';

export const INTERRUPTING_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/** Interrupts the work: by a signal's name, or by what happened ("end of input at the --step prompt"). */
export type Interrupt = (cause: NodeJS.Signals | string) => void;

export async function interruptible<T>(what: string, work: (signal: AbortSignal, interrupt: Interrupt) => Promise<T>): Promise<T> {
  const aborter = new AbortController();
  let cause = '';
  const interrupt: Interrupt = (why) => {
    if (aborter.signal.aborted) return;
    cause = why;
    process.stderr.write(`\nlab: ${why}: ${what}...\n`);
    // The reason is a signal's name for those who read it (unlessAborted); one that is no signal reads as SIGINT.
    aborter.abort(isSignal(why) ? why : 'SIGINT');
  };
  const onSignal = (signal: NodeJS.Signals) => interrupt(signal);
  for (const signal of INTERRUPTING_SIGNALS) process.on(signal, onSignal);
  const interrupted = () => {
    const error = new Interrupted(aborter.signal.reason as NodeJS.Signals);
    if (!isSignal(cause)) error.message = `interrupted (${cause}): tore down what this run created`;
    return error;
  };
  try {
    const result = await work(aborter.signal, interrupt);
    // A signal that came too late to stop anything (during the last teardown, say) still interrupted the run.
    if (aborter.signal.aborted) throw interrupted();
    return result;
  } catch (error) {
    if (aborter.signal.aborted) throw interrupted();
    throw error;
  } finally {
    for (const signal of INTERRUPTING_SIGNALS) process.off(signal, onSignal);
  }
}

function isSignal(cause: string): cause is NodeJS.Signals {
  return /^SIG[A-Z0-9]+$/.test(cause);
}
