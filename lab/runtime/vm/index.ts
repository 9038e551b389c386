/** `--kernel <version>`: network namespaces inside a qemu VM booted on another kernel, one VM per run. */
import { existsSync } from 'node:fs';
import { registerRuntime } from '../registry.ts';
import { NetnsRuntime } from '../netns/netns-runtime.ts';
import { KERNEL_SUITES } from './kernels.ts';
import { bootVm, removeVms } from './vm-machine.ts';

/** A VM per run: one emulated CPU each, so that kernels can run side by side on a small machine. */
const VM_CPUS = 1;
const VM_MEMORY_MIB = 1024;

registerRuntime({
  name: 'vm',
  summary: 'network namespaces in a qemu VM on the kernel --kernel names',
  kernel: {
    runs: 'chosen',
    check: (kernel) =>
      kernel in KERNEL_SUITES || existsSync(kernel) ? undefined : `"${kernel}" is neither one of ${Object.keys(KERNEL_SUITES).join(', ')}, host, nor an existing kernel image or .deb`,
  },
  create: ({ kernel }) =>
    new NetnsRuntime({
      name: 'vm',
      // The VM carries the run's id, so `lab clean --run <id>` finds its qemu and its files.
      startMachine: (log, runId) => bootVm({ kernel: kernel!, runId, cpus: VM_CPUS, memoryMiB: VM_MEMORY_MIB, log }),
      engine: async () =>
        `network namespaces in a qemu VM (${process.env.LAB_VM_ACCEL === 'kvm' ? 'KVM' : 'software emulation'}, ${VM_CPUS} CPU, ${VM_MEMORY_MIB} MiB), kernel ${kernel}`,
    }),
  removeLeftovers: (runId) => removeVms(runId),
});
