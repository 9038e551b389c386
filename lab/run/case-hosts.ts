/**
 * A case's hosts as the case run sees them: each one's figures for the results, whether one is gone, and
 * the server phase's title.
 */
import type { KernelView } from '../collect/kernel-view.ts';
import type { MiddleReading } from '../collect/middle.ts';
import type { CasePlan } from '../plan/plan.ts';
import type { ServerLine } from '../programs/lines.ts';
import { hostResult } from '../results/host-result.ts';
import type { HostMachine, HostResult } from '../results/results.ts';
import type { Host } from '../runtime/runtime.ts';
import { sleep } from '../abort.ts';
import type { ClientFlood } from './client-flood.ts';

/** What the case run knows of one host at collection, besides what was read inside it. */
export interface HostFacts {
  before?: KernelView;
  machine?: HostMachine;
  /** Why the host-wide growth is not the case's (another run was active), if so. */
  hostWideNotMeasured?: string;
  server?: { last?: ServerLine; ready?: ServerLine };
  serverPorts: readonly number[];
  flood?: ClientFlood;
  sources?: Record<string, number>;
  middle?: MiddleReading;
}

/** A client's figures are its flood's; the server's its program's; a middle host's what was read of it (conntrack, a proxy's log). */
export function caseHostResult(host: Host, view: KernelView | undefined, facts: HostFacts): HostResult {
  const { before, machine, hostWideNotMeasured } = facts;
  const common = { plan: host.plan, view, before, ...(hostWideNotMeasured && { hostWideNotMeasured }), ...(machine && { machine }) };
  if (host.plan.role !== 'client') {
    const last = host.plan.role === 'server' ? facts.server?.last : undefined;
    return hostResult({
      ...common,
      errors: last?.errors ?? {},
      bindErrors: {},
      ...(last?.accepted !== undefined && { accepted: last.accepted }),
      ...(last && facts.server?.ready?.fds_at_start !== undefined && { openFilesAtStart: facts.server.ready.fds_at_start }),
      ...(host.plan.role === 'server' && { serverPorts: facts.serverPorts }),
      ...facts.middle,
    });
  }
  const { flood } = facts;
  const counts = flood?.lastFigures;
  return hostResult({
    ...common,
    errors: counts?.errors ?? {},
    bindErrors: counts?.bind_errors ?? {},
    ...(flood?.filled?.fds_at_start !== undefined && { openFilesAtStart: flood.filled.fds_at_start }),
    ...(flood && { flood: flood.figures() }),
    ...(facts.sources && { sources: facts.sources }),
  });
}

/** A container being removed dies first and is gone a moment later: a short wait tells removed from crashed. */
export async function removedFromOutside(host: Host): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    if (!(await host.exists())) return true;
    await sleep(200);
  }
  return false;
}

/** The engine may report a killed container as running for a moment after its processes died. */
export async function vanished(host: Host): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    if (!(await host.alive())) return true;
    await sleep(200);
  }
  return false;
}

export function serverTitle(plan: CasePlan): string {
  const { ports, workers, customProgram, ready } = plan.server;
  if (!customProgram) return `Start the server on port(s) ${ports.join(', ')} (${workers} worker(s))`;
  return `Start ${customProgram.command.join(' ')} and wait (at most ${ready!.timeoutSeconds} s) until it listens on port(s) ${ready!.ports.join(', ')}`;
}
