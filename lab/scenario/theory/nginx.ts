/**
 * The theory of a server program of the scenario's own: what its processes held once it listened (read from
 * /proc in the server), and nginx's connection slots. nginx takes one of a worker's worker_connections for
 * every listener that worker polls and one for its channel to the master (ngx_event_process_init,
 * ngx_add_channel_event); a connection it accepts with no slot left it closes at once (ngx_event_accept).
 */
import type { Prediction } from '../types.ts';
import type { HostProcess, TheoryContext } from './context.ts';
import { serverHolds } from './ports.ts';
import { between, MissingFigure } from './prediction.ts';

/** The processes of the server's own program whose command matches, as read once it listened. */
export function programProcesses(ctx: TheoryContext, command: RegExp): HostProcess[] {
  if (!ctx.server.processes) throw new MissingFigure("the server program's processes were not read (it had not listened yet)");
  const found = ctx.server.processes.filter((p) => command.test(p.command));
  if (!found.length) throw new MissingFigure(`no process of the server program matches ${command}`);
  return found;
}

/** What a scenario sets in nginx.conf (the settings that decide its walls), as server.program.settings. */
export interface NginxSettings {
  workers: number;
  workerConnections: number;
  workerRlimitNofile: number;
  /** listen ... backlog=N (the kernel caps it at net.core.somaxconn). */
  backlog: number;
  /** listen ... reuseport: a listener per worker, the kernel spreading connections over them by hash. */
  reuseport: boolean;
}

/** The case's nginx settings with its ports, from server.program.settings, and the listeners it polls. */
export function nginxSettings(ctx: TheoryContext): NginxSettings & { ports: readonly number[]; listeners: NginxListeners } {
  const given = ctx.server.settings ?? {};
  const field = <T extends 'number' | 'boolean'>(name: keyof NginxSettings, type: T) => {
    const value = given[name];
    if (typeof value !== type) throw new Error(`server.program.settings.${name} must be a ${type} (nginx's setting)`);
    return value as T extends 'number' ? number : boolean;
  };
  return {
    workers: field('workers', 'number'),
    workerConnections: field('workerConnections', 'number'),
    workerRlimitNofile: field('workerRlimitNofile', 'number'),
    backlog: field('backlog', 'number'),
    reuseport: field('reuseport', 'boolean'),
    ports: ctx.server.ports,
    listeners: nginxListeners(ctx),
  };
}

/** How many listeners each nginx worker polls, and where that count comes from. */
export interface NginxListeners {
  count: number;
  why: string;
}

/**
 * The listeners a worker polls: one per address and port nginx listens on (with reuseport, its own copy of
 * each), as the server's kernel listed them once nginx listened, a status page's included. Where the kernel's
 * list was not read (lab explain, before any run), the ports the scenario gave, said so.
 */
export function nginxListeners(ctx: TheoryContext): NginxListeners {
  const listed = ctx.server.listeners;
  if (!listed?.length) return { count: ctx.server.ports.length, why: "listeners: its ports as given, the kernel's list not read" };
  const at = listed.map((l) => `${l.address.includes(':') ? `[${l.address}]` : l.address}:${l.port}`).join(', ');
  return { count: listed.length, why: `listeners as the kernel listed them: ${at}` };
}

const NGINX_WORKER = /^nginx: worker process/;

/** How many idle connections nginx closes at once to make room (ngx_drain_connections). */
export function nginxDrainedAtOnce(idle: number): number {
  return Math.max(Math.min(32, Math.floor(idle / 8)), 1);
}

/**
 * Which limit of a worker runs out first, how many connections that leaves it, and how many workers run.
 * Each connection nginx takes first calls ngx_drain_connections: once its free slots are down to
 * worker_connections / 16 it closes its oldest idle connections (those still waiting for a request: all of
 * the lab's), max(min(32, idle / 8), 1) at a time, before taking the new one. So a worker the flood filled
 * holds from (slots - worker_connections / 16) down to that less what one drain closed, plus the one it
 * took. Out of descriptors instead, accept() fails with EMFILE and nothing is drained.
 */
export function nginxWorkerWall(ctx: TheoryContext): {
  min: number;
  max: number;
  wall: 'worker_connections' | 'worker_rlimit_nofile';
  why: string;
  workers: number;
} {
  const nginx = nginxSettings(ctx);
  const workers = programProcesses(ctx, NGINX_WORKER);
  // Every worker starts alike; the one with most descriptors open bounds them all.
  const busiest = workers.reduce((a, b) => (b.openFiles > a.openFiles ? b : a));
  const slots = nginx.workerConnections - nginx.listeners.count - 1;
  const kept = Math.floor(nginx.workerConnections / 16);
  const most = slots - kept;
  const descriptors = busiest.nofile - busiest.openFiles;
  const fdsWhy = `worker_rlimit_nofile ${busiest.nofile} - ${busiest.openFiles} descriptors a worker held once listening = ${descriptors}`;
  if (descriptors < most)
    return {
      min: descriptors,
      max: descriptors,
      wall: 'worker_rlimit_nofile',
      why: `${fdsWhy} (before its ${most} idle connections)`,
      workers: workers.length,
    };
  const drained = nginxDrainedAtOnce(most);
  return {
    min: most - drained + 1,
    max: most,
    wall: 'worker_connections',
    why:
      `worker_connections ${nginx.workerConnections} - ${nginx.listeners.count} listener(s) - 1 channel to the master - the ${kept} (1/16) it keeps free = ${most} (${nginx.listeners.why}), ` +
      `less the ${drained} idle ones one drain closes (max(min(32, ${most} / 8), 1)) + the one it then takes (before its ${fdsWhy})`,
    workers: workers.length,
  };
}

/**
 * Connections nginx holds: each worker's share up to its wall, workers x that when the clients offer far
 * more; what the clients offer (their ports) when no worker's share can reach its wall: with reuseport the
 * kernel spreads connections by hash (an even split, within half again), without it by wake-ups (one worker
 * may get them all). In between, that spread decides, so the theory gives a band.
 */
export function nginxHolds(ctx: TheoryContext): Prediction {
  const nginx = nginxSettings(ctx);
  const wall = nginxWorkerWall(ctx);
  const capacity = { min: wall.workers * wall.min, max: wall.workers * wall.max };
  const offered = serverHolds(ctx);
  const capacityWhy = `${wall.workers} worker(s) running x (${wall.why})`;
  if (offered.min >= 2 * capacity.max) return { ...capacity, why: `${capacityWhy}: the wall is ${wall.wall}` };
  const share = nginx.reuseport ? (offered.max / wall.workers) * 1.5 : offered.max;
  if (share <= wall.min) {
    const spread = nginx.reuseport
      ? `${wall.workers} workers' shares by hash, under ${wall.min} each even half again`
      : `under one worker's ${wall.min}`;
    return { ...offered, why: `what the clients' ports give (${offered.why}): ${spread} (${capacityWhy})` };
  }
  return between(
    Math.min(offered.min, wall.min),
    Math.min(offered.max, capacity.max),
    `near nginx's ${capacity.max} (${capacityWhy}): how the kernel spreads connections over the workers decides`,
  );
}

/**
 * What the server's kernel holds: what nginx holds, plus, where descriptors are the wall, a full accept queue
 * per listener (backlog + 1) that no worker can accept. Where worker_connections is the wall nginx accepts
 * and closes the rest, so no queue fills.
 */
export function nginxKernelHolds(ctx: TheoryContext): Prediction {
  const nginx = nginxSettings(ctx);
  const wall = nginxWorkerWall(ctx);
  const held = nginxHolds(ctx);
  if (wall.wall === 'worker_connections' || held.min < wall.workers * wall.min) return held;
  // Accept queues the flood fills: one per port the clients connect to, or with reuseport one per such port
  // and running worker (a status page's listener takes no flood).
  const listeners = nginx.ports.length * (nginx.reuseport ? wall.workers : 1);
  const queued = listeners * (ctx.server.backlog + 1);
  return {
    min: held.min + queued,
    max: held.max + queued,
    why: `${held.why}; plus ${listeners} full accept queue(s) of backlog ${ctx.server.backlog} + 1, accept() failing with EMFILE`,
  };
}
