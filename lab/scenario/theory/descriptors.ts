/** How many connections open-file limits leave a client and the server: each connection end is a descriptor. */
import type { Prediction } from '../types.ts';
import { capAt, scale } from './arithmetic.ts';
import type { ClientTheory, TheoryContext } from './context.ts';
import { exactly, MissingFigure } from './prediction.ts';

/**
 * Sockets one process can open: socket() and accept() take the lowest free descriptor below RLIMIT_NOFILE
 * and fail with EMFILE when there is none, so what is left is the limit less what the process already
 * holds (stdio, its epoll instance, listeners), as the program reported at start.
 */
export function descriptorsLeft(host: { nofile: number; openFilesAtStart?: number }, what = 'the process'): Prediction {
  if (host.openFilesAtStart === undefined) throw new MissingFigure(`${what} did not report the descriptors it held at start`);
  return exactly(
    host.nofile - host.openFilesAtStart,
    `RLIMIT_NOFILE ${host.nofile} - ${host.openFilesAtStart} descriptors ${what} held before its first socket`,
  );
}

/** Connections a client holds when its open-file limit is the wall: descriptors left, per flood process. */
export function clientFdCeiling(client: ClientTheory): Prediction {
  const one = descriptorsLeft(client, 'each flood process');
  if (client.processes === 1) return capAt(one, client.asked);
  return capAt(scale(one, client.processes, `${client.processes} processes x (${one.why})`), client.asked);
}

/** Connections the server program can accept: descriptors left in each worker. */
export function serverAccepts(ctx: TheoryContext): Prediction {
  const one = descriptorsLeft(ctx.server, 'each server worker');
  return ctx.server.workers === 1 ? one : scale(one, ctx.server.workers, `${ctx.server.workers} workers x (${one.why})`);
}

/**
 * What the server's kernel holds once its program cannot accept: what it accepted, plus a full accept queue
 * per listener (backlog + 1: the queue counts as full when it holds more than backlog) of connections whose
 * handshake the kernel finished and that no program holds.
 */
export function acceptedPlusQueues(ctx: TheoryContext): Prediction {
  const accepted = serverAccepts(ctx);
  const listeners = ctx.server.ports.length * ctx.server.workers;
  const queued = listeners * (ctx.server.backlog + 1);
  return {
    min: accepted.min + queued,
    max: accepted.max + queued,
    why: `${accepted.why}, plus ${listeners} accept queue(s) of backlog ${ctx.server.backlog} + 1`,
  };
}
