/**
 * What the kernel's readings before and after a flood say about memory: per connection, host-wide and per
 * end (from each host's own cgroup), cache by cache.
 */
import { objectSizesOf, type CgroupMemory, type SlabObjects } from '../collect/memory.ts';
import { bytesPerObject } from '../collect/slab-caches.ts';
import type { KernelView } from '../collect/kernel-view.ts';
import { slabObjectsPerConnection } from '../scenario/theory/memory.ts';
import type { EndMemory, HostResult, MemoryFigures, SlabCacheSize, SlabGrowth } from './results.ts';

const MEMORY_MIN_CONNECTIONS = 10_000;

export const formatGiB = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

/**
 * Memory per connection, from the differences between before the flood and after it. Kernel: slab and TCP
 * buffer pages, machine-wide on the server's machine (both ends where the clients share its kernel). User space: the resident
 * memory of the lab's programs. Undefined when no connection was held.
 */
export function memoryPerConnection(
  before: Map<string, KernelView>,
  hosts: ReadonlyArray<{ plan: { name: string; role: string } }>,
  after: readonly (KernelView | undefined)[],
  connections: number,
  results: readonly HostResult[],
  tracked: boolean,
  machine: {
    /** Whether the clients ran on the server's kernel: its growth is then both ends'; else the server's alone. */
    oneKernel?: boolean | undefined;
    /** Why the host-wide growth is not the case's (another run was active on the machine meanwhile). */
    hostWideNotMeasured?: string | undefined;
  } = {},
): MemoryFigures | undefined {
  const { oneKernel, hostWideNotMeasured } = machine;
  // Below this the host-wide slab figures are noise from everything else the machine does.
  if (connections < MEMORY_MIN_CONNECTIONS) return undefined;
  // The server runs before the flood, so its growth is measured; the clients start with it.
  const rssDelta = (role: 'server' | 'client') =>
    hosts.reduce((sum, h, i) => (h.plan.role === role && after[i] ? sum + (after[i]!.programRssKiB - (before.get(h.plan.name)?.programRssKiB ?? 0)) : sum), 0);
  const serverIndex = hosts.findIndex((h) => h.plan.role === 'server');
  const was = before.get(hosts[serverIndex]!.plan.name)?.hostMemory;
  const now = after[serverIndex]?.hostMemory;
  if (!was || !now) return undefined;
  const kernelBytes = (now.slabKiB - was.slabKiB) * 1024 + (now.tcpMemPages - was.tcpMemPages) * 4096;
  const serverBefore = before.get(hosts[serverIndex]!.plan.name)!;
  const sizes = slabCacheSizes(serverBefore);
  const perEnd = {
    ...endMemory(results.filter((r) => r.role === 'server'), 'server'),
    ...endMemory(results.filter((r) => r.role === 'client'), 'client'),
  };
  const ends = oneKernel === false ? 'server' : 'both';
  // The theory's objects per connection are both ends': on the server's kernel alone they are not a prediction.
  const slabCaches = ends === 'both' && !hostWideNotMeasured ? slabCachesPerConnection(serverBefore.slabObjects, after[serverIndex]!.slabObjects, connections, tracked) : [];
  return {
    connections,
    kernelBytesPerConnection: Math.round(kernelBytes / connections),
    kernelEnds: ends,
    ...(hostWideNotMeasured ? { hostWideNotMeasured } : { tcpMemPages: now.tcpMemPages - was.tcpMemPages }),
    serverUserBytesPerConnection: Math.round((rssDelta('server') * 1024) / connections),
    clientRssBytesPerConnection: Math.round((rssDelta('client') * 1024) / connections),
    ...(Object.keys(perEnd).length && { perEnd }),
    ...(slabCaches.length && { slabCaches }),
    ...(sizes.length && { slabCacheSizes: sizes }),
  };
}

/** One end's kernel memory per connection it holds, from its hosts' own cgroups (summed over clients). */
function endMemory(hosts: readonly HostResult[], end: 'server' | 'client'): Partial<Record<'server' | 'client', EndMemory>> {
  const cgroups = hosts.flatMap((h) => (h.cgroupMemory && !h.lost ? [{ ...h.cgroupMemory, estab: h.estab }] : []));
  const held = cgroups.reduce((sum, c) => sum + c.estab, 0);
  if (!held) return {};
  const perConnection = (bytes: number) => Math.round(bytes / held);
  const kernelBytes = perConnection(cgroups.reduce((sum, c) => sum + c.kernelBytes, 0));
  // Socket buffers only where every host of the end counts them.
  const tcp = cgroups.every((c) => c.tcpBufferBytes !== undefined) ? perConnection(cgroups.reduce((sum, c) => sum + c.tcpBufferBytes!, 0)) : undefined;
  return { [end]: { kernelBytes, ...(tcp !== undefined && { tcpBufferBytes: tcp }), source: cgroups[0]!.source } };
}

/** Bytes per object per slab cache, as the theory reads it: the slab size where sysfs has it, slabinfo's elsewhere. */
export function objectSizes(view: KernelView | undefined): Record<string, number> {
  return bytesPerObject(objectSizesOf(view?.slabObjects ?? {}), view?.slabSizes ?? {});
}

/** The caches the theory names as the kernel has them, in the theory's order. */
export function slabCacheSizes(view: KernelView | undefined): SlabCacheSize[] {
  return Object.entries(view?.slabSizes ?? {}).map(([cache, s]) => ({ cache, ...s }));
}

export function slabGrowth(before: SlabObjects, after: SlabObjects): Array<{ cache: string; objects: number; size: number; bytes: number }> {
  return Object.entries(after).map(([cache, now]) => {
    const objects = now.objects - (before[cache]?.objects ?? 0);
    return { cache, objects, size: now.size, bytes: objects * now.size };
  });
}

/**
 * Host-wide slab growth per connection, cache by cache: the caches the theory names, and any other that grew
 * by half an object per connection or more. Largest first.
 */
export function slabCachesPerConnection(before: SlabObjects, after: SlabObjects, connections: number, tracked: boolean): SlabGrowth[] {
  const predicted = new Map(slabObjectsPerConnection(objectSizesOf(after), tracked).map((p) => [p.cache, p]));
  return slabGrowth(before, after)
    .filter((g) => predicted.has(g.cache) || g.objects / connections >= 0.5)
    .map((g) => ({
      cache: g.cache,
      objectSize: g.size,
      objectsPerConnection: Math.round((g.objects / connections) * 100) / 100,
      bytesPerConnection: Math.round(g.bytes / connections),
      ...(predicted.has(g.cache) && { predictedObjects: predicted.get(g.cache)!.objects, why: predicted.get(g.cache)!.why }),
    }))
    .sort((a, b) => b.bytesPerConnection - a.bytesPerConnection);
}

export function cgroupGrowth(before: CgroupMemory, after: CgroupMemory): NonNullable<HostResult['cgroupMemory']> {
  return {
    kernelBytes: after.kernelBytes - before.kernelBytes,
    ...(after.tcpBufferBytes !== undefined && before.tcpBufferBytes !== undefined && { tcpBufferBytes: after.tcpBufferBytes - before.tcpBufferBytes }),
    source: after.source,
  };
}

