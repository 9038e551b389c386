/**
 * The lab's own output, stdout and stderr, can go away mid-run: `lab run ... | head` closes stdout (EPIPE),
 * a closed terminal fails every write (EIO). A failed write must never abort a run (its teardown least of
 * all) and is no failed expectation: from the first error on, the stream is written no more, the run goes
 * on, removes what it made and exits with its own code.
 */

const silenced = new Set<NodeJS.WriteStream>();

/** Whether writes to this stream are being dropped since it failed. */
export function isClosed(stream: NodeJS.WriteStream): boolean {
  return silenced.has(stream);
}

/** From now on, a write error on stdout or stderr silences that stream instead of killing the process. */
export function guardOutput(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    if (stream.listeners('error').includes(silence)) continue;
    stream.on('error', silence);
  }
}

function silence(this: NodeJS.WriteStream): void {
  const stream = this;
  if (silenced.has(stream)) return;
  silenced.add(stream);
  // Writes after this are dropped, their callbacks called (bin/lab.js exits from one).
  stream.write = ((_chunk: unknown, encoding?: unknown, callback?: unknown) => {
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  }) as typeof stream.write;
}
