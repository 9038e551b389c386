/**
 * The runtimes the lab knows. Each runtime's folder registers itself here (lab/runtime/runtimes.ts imports
 * them); selection, `lab clean`, `lab setup`, `lab local-swarm` and --runtime's help ask the registry what
 * each can do and never name a runtime.
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
  /** Where the hosts' machine is booted for the run (a VM): how many CPUs it may be given (--cpus). */
  readonly cpus?: { readonly most: number };
  create(options: { projectRoot: string; kernel?: string; cpus?: number }): Runtime;
  /**
   * Removes what runs left (of one run, or of every run when runId is undefined), except what belongs to a
   * run `keep` names (one still going); says what it removed.
   */
  removeLeftovers(runId: string | undefined, log: Log, keep?: (runId: string) => boolean): Promise<string[]>;
  /** `lab setup`: gets ready what runs need; says what it has, for people. */
  setup?(projectRoot: string, log: Log): Promise<string>;
  /** Where the runtime's hosts can span several machines: a cluster of them on this one, to try it (`lab local-swarm`). */
  readonly localCluster?: LocalCluster;
}

/** Several engines on this one machine, standing in for several machines. */
export interface LocalCluster {
  /** How many nodes up() can make, and how many it makes unless told. */
  readonly nodes: { readonly least: number; readonly most: number; readonly usual: number };
  /** Makes one of `nodes` nodes, taking down one already up; says how to use it, for people. */
  up(nodes: number, log: Log): Promise<string>;
  /** Takes it down, saying what it removed. */
  down(log: Log): Promise<void>;
  /** Its nodes and how to use it, or that none is up, for people. */
  status(): Promise<string>;
}

const registrations: RuntimeRegistration[] = [];

export function registerRuntime(registration: RuntimeRegistration): void {
  if (registrations.some((r) => r.name === registration.name)) throw new Error(`runtime ${registration.name} registered twice`);
  registrations.push(registration);
}

export function registeredRuntimes(): readonly RuntimeRegistration[] {
  return registrations;
}
