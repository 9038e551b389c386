/** `--kernel <version>`: network namespaces inside a qemu VM booted on another kernel, one VM per run. */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { registerRuntime } from '../registry.ts';
import { NetnsRuntime } from '../netns/netns-runtime.ts';
import { debianKernelNames, KERNEL_ALIASES } from './kernels.ts';
import { bootVm, removeVms } from './vm-machine.ts';

/**
 * A VM per run: one emulated CPU each unless asked (--cpus), so that kernels can run side by side on a small
 * machine; at most this machine's cores, each vCPU a thread of qemu's multi-threaded TCG.
 */
const VM_CPUS = 1;
const VM_MEMORY_MIB = 1024;

registerRuntime({
  name: 'vm',
  summary: 'network namespaces in a qemu VM on the kernel --kernel names',
  kernel: {
    runs: 'chosen',
    named: debianKernelNames().filter((name) => !KERNEL_ALIASES.includes(name)),
    check: (kernel) => (debianKernelNames().includes(kernel) ? undefined : kernelFileProblem(kernel)),
  },
  cpus: { most: availableParallelism() },
  create: ({ kernel, cpus = VM_CPUS }) =>
    new NetnsRuntime({
      name: 'vm',
      machineOfItsOwn: true,
      // The VM carries the run's id, so `lab clean --run <id>` finds its qemu and its files.
      startMachine: (log, runId) => bootVm({ kernel: kernel!, runId, cpus, memoryMiB: VM_MEMORY_MIB, log }),
      engine: async () =>
        `network namespaces in a qemu VM (${process.env.LAB_VM_ACCEL === 'kvm' ? 'KVM' : 'software emulation'}, ${cpus} CPU, ${VM_MEMORY_MIB} MiB), kernel ${kernel}`,
    }),
  removeLeftovers: (runId, _log, keep) => removeVms(runId, keep),
});

/** What a kernel path must start with: a .deb is an ar archive; an x86 bzImage has "HdrS" at 0x202. */
const DEB_MAGIC = '!<arch>\n';
const BZIMAGE_MAGIC = 'HdrS';
const BZIMAGE_MAGIC_AT = 0x202;

/** Why a --kernel path is not a kernel this runtime boots (a linux-image .deb or a bzImage), if it is not. */
export function kernelFileProblem(path: string): string | undefined {
  const known = `neither one of ${debianKernelNames().join(', ')}, host, nor`;
  let size: number;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) return `"${path}" is a folder: give a kernel image (bzImage) or a linux-image .deb`;
    if (!stats.isFile()) return `"${path}" is not a regular file: give a kernel image (bzImage) or a linux-image .deb`;
    size = stats.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `"${path}" is ${known} an existing kernel image or .deb`;
    return `"${path}" cannot be read (${code === 'ELOOP' ? 'a symlink loop' : code === 'EACCES' ? 'permission denied' : code})`;
  }
  const head = Buffer.alloc(BZIMAGE_MAGIC_AT + BZIMAGE_MAGIC.length);
  let read = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      read = readSync(fd, head, 0, Math.min(head.length, size), 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return `"${path}" cannot be read (${code === 'EACCES' ? 'permission denied' : code})`;
  }
  const at = (offset: number, magic: string) => read >= offset + magic.length && head.toString('latin1', offset, offset + magic.length) === magic;
  if (at(0, DEB_MAGIC) || at(BZIMAGE_MAGIC_AT, BZIMAGE_MAGIC)) return undefined;
  return `"${path}" is not a kernel: neither a linux-image .deb (an ar archive) nor a bzImage (no "HdrS" at 0x202)`;
}
