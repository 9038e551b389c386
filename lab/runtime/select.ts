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
    return registration.create({ projectRoot });
  }
  const registration = named ?? all.find((r) => r.kernel.runs === 'chosen');
  if (!registration) throw new InputError(field, undefined, 'no runtime here runs another kernel');
  return registration.create({ projectRoot, kernel: checkedKernel(registration, kernel, field) });
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
