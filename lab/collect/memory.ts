/**
 * Kernel memory from inside a host: its own memory cgroup (cgroup v1's memory.kmem.*, or v2's memory.stat),
 * and the machine's slab caches (/proc/slabinfo, host-wide: every container's and the host's objects).
 */

export interface CgroupMemory {
  /** Kernel memory charged to the cgroup (slab objects, kernel stacks, page tables...). */
  kernelBytes: number;
  /** Socket buffers charged to it; undefined where the kernel does not count them for this cgroup. */
  tcpBufferBytes?: number;
  source: string;
}

/** Active objects and object size per slab cache. */
export type SlabObjects = Record<string, { objects: number; size: number }>;

const V1 = '/sys/fs/cgroup/memory';

export const CGROUP_MEMORY_SCRIPT = [
  `if [ -r ${V1}/memory.kmem.usage_in_bytes ]; then echo "v1 $(cat ${V1}/memory.kmem.usage_in_bytes) $(cat ${V1}/memory.kmem.tcp.usage_in_bytes)";`,
  `elif [ -r /sys/fs/cgroup/memory.stat ]; then awk '$1 == "kernel" || $1 == "slab" || $1 == "sock" { print "v2", $1, $2 }' /sys/fs/cgroup/memory.stat; fi`,
].join(' ');

export const SLABINFO_SCRIPT = "awk 'NR > 2 { print $1, $2, $4 }' /proc/slabinfo 2>/dev/null";

export function parseCgroupMemory(text: string, tcpAccounted: boolean): CgroupMemory | undefined {
  const v1 = /^v1 (\d+) (\d+)$/m.exec(text);
  if (v1) {
    return {
      kernelBytes: Number(v1[1]),
      ...(tcpAccounted && { tcpBufferBytes: Number(v1[2]) }),
      source: 'cgroup v1 memory.kmem.usage_in_bytes, memory.kmem.tcp.usage_in_bytes',
    };
  }
  const v2 = Object.fromEntries([...text.matchAll(/^v2 (\w+) (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
  const kernel = v2.kernel ?? v2.slab;
  if (kernel === undefined) return undefined;
  return {
    kernelBytes: kernel,
    ...(v2.sock !== undefined && { tcpBufferBytes: v2.sock }),
    source: `cgroup v2 memory.stat ${v2.kernel !== undefined ? 'kernel' : 'slab'}, sock`,
  };
}

export function parseSlabinfo(text: string): SlabObjects {
  const caches: SlabObjects = {};
  for (const line of text.split('\n')) {
    const [name, objects, size] = line.trim().split(/\s+/);
    if (name && Number.isFinite(Number(objects)) && Number(size) > 0) caches[name] = { objects: Number(objects), size: Number(size) };
  }
  return caches;
}

/** Object size per slab cache, as the theory reads it. */
export function objectSizesOf(caches: SlabObjects): Record<string, number> {
  return Object.fromEntries(Object.entries(caches).map(([cache, s]) => [cache, s.size]));
}
