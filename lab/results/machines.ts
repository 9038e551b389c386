/**
 * The machine under each host: its kernel as read inside the host, and, where the run spans several nodes
 * (a swarm's), the node's engine and open-file ceiling. Hosts with one boot id share one kernel.
 */
import type { MachineOfHost } from '../collect/kernel-view.ts';
import type { NodeFacts } from '../runtime/runtime.ts';
import type { HostMachine } from './results.ts';

export function hostMachine(node: string | undefined, read: MachineOfHost | undefined, nodes: readonly NodeFacts[] = []): HostMachine | undefined {
  if (!read) return undefined;
  const facts = node === undefined ? undefined : nodes.find((n) => n.name === node);
  return {
    ...(node !== undefined && { node }),
    kernel: read.release,
    kernelVersion: read.version,
    bootId: read.bootId,
    ...(read.conntrackMax !== undefined && { conntrackMax: read.conntrackMax }),
    ...(facts && { engine: facts.engine, nofileCeiling: facts.nofileCeiling }),
  };
}

/** Whether every host ran on one kernel (one boot id); undefined where a host's was not read. */
export function oneKernel(machines: ReadonlyArray<HostMachine | undefined>): boolean | undefined {
  if (!machines.length || machines.some((m) => !m)) return undefined;
  return new Set(machines.map((m) => m!.bootId)).size === 1;
}
