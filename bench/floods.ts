/** The flood programs the bench compares, and the labserver they flood. */
import { labclientArgv, labserverArgv } from '../lab/programs/argv.ts';
import { LABCLIENT } from '../lab/programs/programs.ts';
import type { Container } from '../lab/runtime/docker/plain-engine.ts';
import type { BenchContext } from './context.ts';
import type { Program, ProgramLine } from './lib.ts';

/** labclient (the lab's), refconnect (the reference, images/bench/refconnect.c), node (bench/node-flood.mjs). */
export type Tool = 'lab' | 'ref' | 'node';

export const INFLIGHT = 256;
export const FLOOD_DEADLINE_S = 120;

/** The process name each tool runs as, to find or kill it in a container. */
export const PROGRAM_NAME: Record<Tool, string> = { lab: LABCLIENT.name, ref: 'refconnect', node: 'node' };

export function floodArgv(tool: Tool, targets: string[], count: number, processes = 1): string[] {
  // The argv lab/plan/clients.ts gives a client that asks for nothing more (bind none).
  if (tool === 'lab') return labclientArgv({ targets, count, processes, inflight: INFLIGHT, bind: 'none', deadlineSeconds: FLOOD_DEADLINE_S });
  if (tool === 'ref') return ['refconnect', targets.join(','), String(count), String(INFLIGHT), String(FLOOD_DEADLINE_S), '60'];
  return ['node', '/bench/node-flood.mjs', targets.join(','), String(count), String(INFLIGHT), String(FLOOD_DEADLINE_S), '60'];
}

/** A flood program's last word: labclient's "filled", the others' "done". */
export const isDone = (json: ProgramLine['json']) => json.type === 'filled' || json.type === 'done';

export async function startLabserver(ctx: BenchContext, container: Container, ports: number[], workers = 1): Promise<Program> {
  const server = await ctx.bench.run(container, labserverArgv({ ports, backlog: 4096, workers, deadlineSeconds: 600, progressMs: 200 }));
  await untilReady(server);
  return server;
}

/** Waits for labserver's "ready" line; fails on its "error" line. */
export async function untilReady(labserver: Program): Promise<void> {
  const ready = await labserver.waitLine((j) => j.type === 'ready' || j.type === 'error', 20_000);
  if (ready.json.type !== 'ready') throw new Error(`labserver: ${JSON.stringify(ready.json)}`);
}
