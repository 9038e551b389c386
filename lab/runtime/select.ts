/**
 * Which runtime runs a scenario, from --runtime and --kernel, by asking the registered runtimes: the default
 * one on this machine's kernel, or the one that runs a chosen kernel. Scenarios never know which.
 */
import { InputError } from '../errors.ts';
import type { RuntimeRegistration } from './registry.ts';
import type { Runtime } from './runtime.ts';
import { registeredRuntimes } from './runtimes.ts';

export interface RuntimeChoice {
  runtime?: string;
  /** A kernel the chosen runtime knows ('6.1', a path to a kernel image...), or 'host' (this machine's). */
  kernel?: string;
  /** CPUs of the machine a runtime boots for the run (a VM's vCPUs), where it boots one. */
  cpus?: number;
}

/** `field` names the flag the kernel came from, for errors: --kernel, or --kernels for lab matrix. */
export function selectRuntime(choice: RuntimeChoice, projectRoot: string, field = '--kernel'): Runtime {
  const all = registeredRuntimes();
  const named = choice.runtime === undefined ? undefined : all.find((r) => r.name === choice.runtime);
  if (choice.runtime !== undefined && !named)
    throw new InputError('--runtime', undefined, `must be one of ${all.map((r) => r.name).join(', ')}, not "${choice.runtime}"`);
  const kernel = choice.kernel === 'host' ? undefined : choice.kernel;
  if (kernel === undefined) {
    const registration = named ?? all.find((r) => r.isDefault)!;
    if (registration.kernel.runs === 'chosen')
      throw new InputError(field, undefined, `the ${registration.name} runtime runs a kernel you choose: give one`);
    if (choice.cpus !== undefined) checkedCpus(registration, choice.cpus);
    return registration.create({ projectRoot });
  }
  const registration = named ?? all.find((r) => r.kernel.runs === 'chosen');
  if (!registration) throw new InputError(field, undefined, 'no runtime here runs another kernel');
  const checked = checkedKernel(registration, kernel, field);
  return registration.create({ projectRoot, kernel: checked, ...(choice.cpus !== undefined && { cpus: checkedCpus(registration, choice.cpus) }) });
}

function checkedCpus(registration: RuntimeRegistration, cpus: number): number {
  if (!registration.cpus)
    throw new InputError('--cpus', undefined, `the ${registration.name} runtime does not boot a machine of its own to give CPUs to`);
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > registration.cpus.most)
    throw new InputError('--cpus', undefined, `must be a whole number from 1 to ${registration.cpus.most} (this machine's cores), not ${cpus}`);
  return cpus;
}

function checkedKernel(registration: RuntimeRegistration, kernel: string, field: string): string {
  if (registration.kernel.runs === 'host')
    throw new InputError(
      field,
      undefined,
      `${registration.kernel.whyNotOthers}: --kernel ${kernel} needs a runtime that boots it, not --runtime ${registration.name}`,
    );
  const problem = registration.kernel.check(kernel);
  if (problem) throw new InputError(field, undefined, problem);
  return kernel;
}

/** Every kernel a registered runtime knows by name, each runtime's oldest first. */
export function namedKernels(): string[] {
  const names = registeredRuntimes().flatMap((r) => (r.kernel.runs === 'chosen' ? (r.kernel.named ?? []) : []));
  return [...new Set(names)];
}
