/** SIGINT and SIGTERM during a command: the work is aborted (and removes what it made), then the command exits. */
import { Interrupted } from '../errors.ts';

export async function interruptible<T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const aborter = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (aborter.signal.aborted) return;
    process.stderr.write(`\nlab: ${signal}: ${what}...\n`);
    aborter.abort(signal);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  try {
    return await work(aborter.signal);
  } catch (error) {
    if (aborter.signal.aborted) throw new Interrupted(aborter.signal.reason as NodeJS.Signals);
    throw error;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}
