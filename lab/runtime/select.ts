/**
 * Which runtime runs a scenario: Docker on this machine's kernel (the default), plain network namespaces on
 * this machine (`--runtime netns`, root and iproute2, no engine), or namespaces inside a VM booted on
 * another kernel (`--kernel 6.1`). Scenarios never know which.
 */
import { existsSync } from 'node:fs';
import { $ } from 'zx';
import { EnvironmentError, InputError } from '../errors.ts';
import { newRunId } from '../run/run-id.ts';
import { DockerRuntime } from './docker/docker-runtime.ts';
import { LocalMachine } from './netns/local-machine.ts';
import { NetnsRuntime } from './netns/netns-runtime.ts';
import { buildLabPrograms } from './programs.ts';
import type { Runtime } from './runtime.ts';
import { bootVm } from './vm/vm-machine.ts';

export const RUNTIMES = ['docker', 'netns'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

export interface RuntimeChoice {
  runtime?: string;
  /** '5.10', '6.1', '6.12', a path to a kernel image or .deb, or 'host' (this machine's kernel). */
  kernel?: string;
}

/** The kernels `--kernel` knows by version (Debian's packages); anything else must be a path. */
export const KNOWN_KERNELS = ['5.10', '6.1', '6.12'] as const;

/** `field` names the flag the kernel came from, for errors: --kernel, or --kernels for lab matrix. */
export function selectRuntime(choice: RuntimeChoice, projectRoot: string, field = '--kernel'): Runtime {
  const runtime = choice.runtime ?? 'docker';
  if (!(RUNTIMES as readonly string[]).includes(runtime)) throw new InputError('--runtime', undefined, `must be one of ${RUNTIMES.join(', ')}, not "${runtime}"`);
  const kernel = choice.kernel;
  if (kernel === undefined || kernel === 'host') return runtime === 'netns' ? localNetnsRuntime(projectRoot) : new DockerRuntime(projectRoot);
  if (runtime === 'docker' && choice.runtime) {
    throw new InputError('--kernel', undefined, `containers share this machine's kernel: --kernel ${kernel} runs in a VM, not with --runtime docker`);
  }
  if (!(KNOWN_KERNELS as readonly string[]).includes(kernel) && !existsSync(kernel)) {
    throw new InputError(field, undefined, `"${kernel}" is neither one of ${KNOWN_KERNELS.join(', ')}, host, nor an existing kernel image or .deb`);
  }
  return vmRuntime(kernel);
}

function localNetnsRuntime(projectRoot: string): Runtime {
  return new NetnsRuntime({
    name: 'netns',
    startMachine: async (log) => {
      if (process.getuid?.() !== 0) throw new EnvironmentError('the netns runtime needs root: it creates network namespaces', 'run the lab as root, or use the docker runtime');
      const ip = await $({ quiet: true, nothrow: true })`ip -V`;
      if (ip.exitCode !== 0) throw new EnvironmentError('the netns runtime needs iproute2 (the ip command)', 'install iproute2');
      return new LocalMachine(await buildLabPrograms(projectRoot, { static: false }, log));
    },
    engine: async () => `network namespaces on this machine (${(await $({ quiet: true })`ip -V`).stdout.trim()})`,
  });
}

/** A VM per run: one emulated CPU each, so that kernels can run side by side on a small machine. */
const VM_CPUS = 1;
const VM_MEMORY_MIB = 1024;

function vmRuntime(kernel: string): Runtime {
  return new NetnsRuntime({
    name: 'vm',
    startMachine: (log) => bootVm({ kernel, runId: newRunId(), cpus: VM_CPUS, memoryMiB: VM_MEMORY_MIB, log }),
    engine: async () =>
      `network namespaces in a qemu VM (${process.env.LAB_VM_ACCEL === 'kvm' ? 'KVM' : 'software emulation'}, ${VM_CPUS} CPU, ${VM_MEMORY_MIB} MiB), kernel ${kernel}`,
  });
}
