/**
 * A container's own memory cgroup, seen from the engine's machine. On cgroup v1 the kernel counts a cgroup's
 * socket buffers (memory.kmem.tcp.usage_in_bytes) only once a TCP limit has been written for it; writing
 * "-1" (no limit) turns the accounting on without limiting anything. cgroup v2 always accounts them
 * (memory.stat's sock). Where the cgroup cannot be reached (a remote engine), nothing is turned on.
 */
import { readFile, writeFile } from 'node:fs/promises';

export async function accountSocketBuffers(pid: number): Promise<boolean> {
  const cgroups = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
  const v1 = /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m.exec(cgroups)?.[1];
  if (v1 === undefined) return /^0::/m.test(cgroups);
  return writeFile(`/sys/fs/cgroup/memory${v1}/memory.kmem.tcp.limit_in_bytes`, '-1').then(
    () => true,
    () => false,
  );
}
