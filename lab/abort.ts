import { Interrupted } from './errors.ts';

/** Races a wait against the run's abort signal (SIGINT, SIGTERM): an interrupted run tears down at once. */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new Interrupted(signal.reason as NodeJS.Signals));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Interrupted(signal.reason as NodeJS.Signals));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Rejects after ms without keeping the process alive: for races against work that may finish first. */
export function failAfter(ms: number, error: () => Error): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(error()), ms).unref());
}

/** What work settled to within ms, or 'late' (the timer is cleared as soon as the work settles first). */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
