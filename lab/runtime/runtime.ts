/**
 * What the lab needs from a place to run plans (Docker, plain network namespaces here, namespaces in a VM),
 * and how runtimes register. The orchestrator only talks to these types: it asks a runtime what it can do,
 * never which one it is.
 */
import type { PlannedHost } from '../plan/plan.ts';

export interface EnvironmentFingerprint {
  runtime: string;
  /** What one host is, for people: "container", "namespace". */
  hostKind?: string;
  kernel: string;
  /** `uname -v`, where it can be read: Debian's names the upstream version the release is built from. */
  kernelVersion?: string;
  engine: string;
  /** CPUs the hosts' machine has, where a runtime boots one for the run (a VM's vCPUs). */
  cpus?: number;
  /** The images (or root filesystems) the hosts run, by role: name and id. */
  images?: Record<string, { name: string; id: string }>;
  /** What a fresh network namespace starts with on this kernel (port range, somaxconn, ...). */
  namespaceDefaults?: Record<string, string>;
  /** Machine-wide limits no host can set (tcp_mem, fs.file-max...), read in the machine's own namespace. */
  machineSysctls?: Record<string, string>;
  /** A run across several engines (a swarm's nodes): each one's own kernel, engine and open-file ceiling. */
  nodes?: NodeFacts[];
}

export interface NodeFacts {
  name: string;
  /** How the lab reaches its engine. */
  address: string;
  kernel: string;
  engine: string;
  /** The highest open-file limit a host on it can be given. */
  nofileCeiling: number;
}

export type Log = (message: string) => void;

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type MachineShell = (argv: string[]) => Promise<ExecResult>;

/** A program started inside a host; its stdout arrives line by line. */
export interface RunningProgram {
  /** Resolves with the exit code once the program has ended. */
  readonly exited: Promise<number>;
  /** Sends a signal to every process of that program inside the host (labclient: USR2 "go on", HUP "enough"). */
  signal(signal: 'TERM' | 'KILL' | 'USR2' | 'HUP'): Promise<void>;
  readonly stderr: () => string;
}

export interface Host {
  readonly plan: PlannedHost;
  /**
   * Present where the host has a memory cgroup of its own (a container), so the kernel memory its sockets
   * cost is accounted to it; tcpAccounted: its socket buffers are counted too.
   */
  readonly memoryCgroup?: { tcpAccounted: boolean };
  /** The node the runtime put the host on, where it has several (a swarm's). */
  readonly node?: string;
  exec(argv: string[]): Promise<ExecResult>;
  spawn(argv: string[], onLine: (line: string) => void): Promise<RunningProgram>;
  /** Whether the host still runs (a killed container does not). */
  alive(): Promise<boolean>;
  /** Whether the host is there at all: a host removed from outside the run (lab clean, docker rm) is not. */
  exists(): Promise<boolean>;
  /** Removes the host (its programs should have been stopped first). */
  remove(): Promise<void>;
}

export interface LabNetwork {
  readonly name: string;
  readonly subnet: string;
  /** Its IPv6 subnet, where it carries IPv6 too. */
  readonly subnet6?: string;
}

/** A machine-wide table every lab connection takes an entry in (netfilter's conntrack, on Docker). */
export interface ConnectionTracking {
  /** max: the ceiling as it stays, not as other lab runs raised it for a while. */
  read(): Promise<{ tracked: boolean; max: number; count: number }>;
  /** Raises the table's ceiling for the session's run; the session puts the old one back when it closes. */
  raise(max: number, log: Log): Promise<void>;
  /**
   * Exempts the run's subnet from tracking (NOTRACK rules: the machine's raw table, and each host's own
   * namespace as it starts); the session deletes them when it closes.
   */
  exempt(subnet: string, log: Log): Promise<void>;
  /** Puts back a ceiling that runs now gone left raised (killed before they could); says what it did. */
  reclaim(log: Log): Promise<string[]>;
  /** Deletes the run's exemption before the run ends (a case had it for itself); nothing where there is none. */
  endExemption?(log: Log): Promise<void>;
  /**
   * Present where the lab holds the machine's table: lowers its ceiling for a case, machine-wide (the kernel
   * keeps one per machine, every namespace counted against it), refused while another lab run holds it set.
   * Resolves with the function that puts it back; the session's close does too, and where the lab died the
   * next run or `lab clean`.
   */
  lower?(max: number, log: Log): Promise<() => Promise<void>>;
  /** The entries each network namespace of the machine tracks, those the lab can read; the machine's own first. */
  namespaceCounts?(): Promise<NamespaceCount[]>;
}

/** One network namespace's connection tracking, as counted against the machine's ceiling. */
export interface NamespaceCount {
  /** Its id, as /proc/<pid>/ns/net names it: net:[4026531833]. */
  namespace: string;
  /** The machine's own (init) namespace. */
  machine: boolean;
  count: number;
  /** A process in it, and its command, to name it by. */
  pid: number;
  command: string;
}

/** A machine-wide limit a run may raise, only when the user says so (fs.file-max); the session puts it back. */
export interface RaisableLimit {
  /** The value as it stays, not as other lab runs raised it for a while. */
  lasting(): Promise<number>;
  /** Raises it for the session's run (never lowers it); the session puts the old value back when it closes. */
  raise(value: number, log: Log): Promise<void>;
  /** Puts back a value that runs now gone left raised; says what it did. */
  reclaim(log: Log): Promise<string[]>;
}

/** What a runtime can do, for code that must choose: asked, never inferred from its name. */
export interface RuntimeAbilities {
  /** Hosts can run a scenario's own client or server program, an image built from its Dockerfile. */
  programImages: boolean;
  /** The run's network can carry IPv6 beside IPv4 (its own ULA /64), for cases over IPv6. */
  ipv6: boolean;
  /**
   * Each host has a memory cgroup of its own (Host.memoryCgroup), so the kernel memory its sockets cost is
   * charged to it: where not, the figures read from one (memory.cgroupBytesPerConnection...) do not apply.
   */
  hostMemoryCgroups: boolean;
  /**
   * Each run's hosts run on a machine booted for that run alone (a VM per run): no other run shares its
   * kernel, so none can add to its host-wide figures (its slab), whatever it says of itself.
   */
  machineOfItsOwn: boolean;
  /**
   * A host can be a NAT gateway for the others: routes, addresses and netfilter rules set in its namespace from
   * outside (PlannedHost.routes, setFromOutside), its namespace left tracking connections.
   */
  natGateway: boolean;
}

/** A place to run plans. Everything of one run goes through the session it opens for that run's id. */
export interface Runtime {
  readonly name: string;
  /** What one host is, for people: "container", "namespace". */
  readonly hostKind: string;
  readonly can: RuntimeAbilities;
  /** Opens one run: everything the session makes carries the run's id and goes when it closes. */
  open(runId: string): RunSession;
}

/** One run on a runtime: it owns the run's id, its network, its hosts, and their removal. */
export interface RunSession {
  readonly runId: string;
  /** Present where the run's connections pass a machine-wide tracking table. */
  readonly connectionTracking?: ConnectionTracking;
  /** Present where the lab may raise the open-file ceiling of the machine the hosts run on. */
  readonly fileMax?: RaisableLimit;
  /** Reaches the engine (starting one, or a VM, where the runtime may), saying what it does. */
  connect(log: Log): Promise<void>;
  /**
   * Gets what plans need (images, and those of scenarios' own programs, by Dockerfile), saying what
   * it does; connects first if needed.
   */
  prepare(log: Log, programDockerfiles?: readonly string[]): Promise<void>;
  /** What runs the hosts: runtime, kernel, engine, images (the machine's own limits are read through machineShell). */
  fingerprint(): Promise<EnvironmentFingerprint>;
  /**
   * A shell on the machine the hosts run on, in its own namespaces, where the lab has one (root beside a
   * local engine, a VM's agent): its machine-wide limits are read there. Undefined where there is none.
   */
  machineShell(): MachineShell | undefined;
  /** What no longer answers, named for people ("the docker engine", a node's engine), or undefined while all do. */
  silentEngine(): Promise<string | undefined>;
  /** The highest open-file limit a host can be given. */
  nofileCeiling(): Promise<number>;
  /** How many clients a subnet has room for, where the runtime keeps some of its addresses (a swarm's own). */
  clientRoom?(subnet: string): { clients: number; why: string };
  /** The subnets the runtime's networks already use (a run's subnet must not overlap them). */
  subnetsInUse(): Promise<string[]>;
  /**
   * The run's isolated network (internal, no egress) in exactly this subnet, and this IPv6 subnet too where
   * one is given (only asked of a runtime that can.ipv6). Rejects with SubnetTaken when another network took
   * it meanwhile, so that the run can choose again.
   */
  createNetwork(subnet: string, subnet6?: string): Promise<LabNetwork>;
  startHosts(network: LabNetwork, hosts: PlannedHost[], lifetimeSeconds: number): Promise<Host[]>;
  /**
   * Removes every object of the run, puts back what it tuned, and lets go of what the runtime started for
   * it (a VM); returns what it removed. Safe to call more than once, and after any failure.
   */
  close(): Promise<string[]>;
}

/** A network could not be made in the subnet chosen: someone else's took it first. */
export class SubnetTaken extends Error {
  constructor(readonly subnet: string) {
    super(`subnet ${subnet} was taken meanwhile`);
  }
}
