/**
 * The runtimes the lab knows. Each runtime's folder registers itself here (lab/runtime/runtimes.ts imports
 * them); selection, `lab clean` and `lab setup` iterate the registry and never name a runtime.
 */
import type { Log, Runtime } from './runtime.ts';

export interface RuntimeRegistration {
  readonly name: string;
  /** One line for people: what its hosts are and what it needs. */
  readonly summary: string;
  /**
   * Which kernel its hosts run: this machine's ('host'), or one chosen with --kernel ('chosen'). Why it
   * cannot run another, when it cannot ("containers share this machine's kernel").
   */
  readonly kernel:
    | { runs: 'host'; whyNotOthers: string }
    | {
        runs: 'chosen';
        check(kernel: string): string | undefined;
        /** The kernels it knows by name, oldest first: what `--kernels all` means. */
        named?: readonly string[];
      };
  /** Chosen when neither --runtime nor --kernel says otherwise. */
  readonly isDefault?: boolean;
  create(options: { projectRoot: string; kernel?: string }): Runtime;
  /**
   * Removes what runs left (of one run, or of every run when runId is undefined), except what belongs to a
   * run `keep` names (one still going); says what it removed.
   */
  removeLeftovers(runId: string | undefined, log: Log, keep?: (runId: string) => boolean): Promise<string[]>;
  /** `lab setup`: gets ready what runs need; says what it has, for people. */
  setup?(projectRoot: string, log: Log): Promise<string>;
}

const registrations: RuntimeRegistration[] = [];

export function registerRuntime(registration: RuntimeRegistration): void {
  if (registrations.some((r) => r.name === registration.name)) throw new Error(`runtime ${registration.name} registered twice`);
  registrations.push(registration);
}

export function registeredRuntimes(): readonly RuntimeRegistration[] {
  return registrations;
}
