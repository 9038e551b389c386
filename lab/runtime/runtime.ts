/**
 * What the lab needs from a place to run plans: Docker, plain network namespaces here, or namespaces in a VM.
 * The orchestrator only talks to these types.
 */
import type { PlannedHost } from '../plan/plan.ts';

export interface EnvironmentFingerprint {
  runtime: string;
  kernel: string;
  /** `uname -v`, where it can be read: Debian's names the upstream version the release is built from. */
  kernelVersion?: string;
  engine: string;
  /** The images (or root filesystems) the hosts run, by role: name and id. */
  images?: Record<string, { name: string; id: string }>;
  /** What a fresh network namespace starts with on this kernel (port range, somaxconn, ...). */
  namespaceDefaults?: Record<string, string>;
  /** Machine-wide limits no host can set (tcp_mem, fs.file-max...), read in the machine's own namespace. */
  machineSysctls?: Record<string, string>;
}

export type Log = (message: string) => void;

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A program started inside a host; its stdout arrives line by line. */
export interface RunningProgram {
  /** Resolves with the exit code once the program has ended. */
  readonly exited: Promise<number>;
  /** Sends a signal to every process of that program inside the host (USR2: "go on", see labclient). */
  signal(signal: 'TERM' | 'KILL' | 'USR2'): Promise<void>;
  readonly stderr: () => string;
}

export interface Host {
  readonly plan: PlannedHost;
  /**
   * Present where the host has a memory cgroup of its own (a container), so the kernel memory its sockets
   * cost is accounted to it; tcpAccounted: its socket buffers are counted too.
   */
  readonly memoryCgroup?: { tcpAccounted: boolean };
  exec(argv: string[]): Promise<ExecResult>;
  spawn(argv: string[], onLine: (line: string) => void): Promise<RunningProgram>;
  /** Whether the host still runs (a killed container does not). */
  alive(): Promise<boolean>;
  /** Removes the host (its programs should have been stopped first). */
  remove(): Promise<void>;
}

export interface LabNetwork {
  readonly name: string;
  readonly subnet: string;
}

/** A host-wide table every lab connection takes an entry in (netfilter's conntrack, on Docker). */
export interface ConnectionTracking {
  /** max: the ceiling as it stays, not as other lab runs raised it for a while. */
  read(): Promise<{ tracked: boolean; max: number; count: number }>;
  /** Raises the table's ceiling for a run; resolves with the function that puts the old one back. */
  raise(runId: string, max: number, log: Log): Promise<() => Promise<void>>;
  /** Puts back a ceiling that runs now gone left raised (killed before they could); says what it did. */
  reclaim(log: Log): Promise<string[]>;
}

export interface Runtime {
  /** Present where the runtime's connections pass a host-wide tracking table. */
  readonly connectionTracking?: ConnectionTracking;
  readonly name: string;
  /** What one host is, for people: "container", "namespace". */
  readonly hostKind: string;
  /** Reaches the engine (starting one where the runtime may), saying what it does. */
  connect(log: Log): Promise<void>;
  /**
   * Gets what plans need (images, and those of scenarios' own client programs, by Dockerfile), saying what
   * it does; connects first if needed.
   */
  prepare(log: Log, programDockerfiles?: readonly string[]): Promise<void>;
  fingerprint(): Promise<EnvironmentFingerprint>;
  /** Whether the engine still answers (false once it has stopped mid-run). */
  answers(): Promise<boolean>;
  /** The highest open-file limit a host can be given. */
  nofileCeiling(): Promise<number>;
  /** The subnets the runtime's networks already use (a scenario's own subnet must not overlap them). */
  subnetsInUse(): Promise<string[]>;
  /** A fresh isolated network for one run: internal, no egress. `subnet` is the user's choice, if any. */
  createNetwork(runId: string, subnet: string | undefined, scenarioFile: string): Promise<LabNetwork>;
  startHosts(runId: string, network: LabNetwork, hosts: PlannedHost[], lifetimeSeconds: number): Promise<Host[]>;
  /** Removes every object of one run (or of every run when runId is undefined); returns what it removed. */
  removeRun(runId: string | undefined): Promise<string[]>;
  /** Lets go of what the runtime started for itself (a VM); the run's own objects are gone by then. */
  close?(): Promise<void>;
}
