/**
 * The types a scenario author sees. Everything here is plain data or pure functions. What a scenario file
 * says is derived from its schema (schema.ts), which validation checks; the theory's view is stated here.
 */
import type { z } from 'zod';
import type * as schema from './schema.ts';

export type Sysctls = z.infer<typeof schema.sysctls>;
export type SysctlValue = Sysctls[string];

/** How a client's sockets are bound before connect(): the bind-before-connect experiment's modes. */
export type BindMode = z.infer<typeof schema.bindMode>;

export type HostSettings = z.infer<typeof schema.hostSettings>;
export type ServerSpec = z.infer<typeof schema.serverSpec>;
export type ClientSpec = z.infer<typeof schema.clientSpec>;
export type HoldPing = z.infer<typeof schema.holdPing>;
export type ClientProgram = z.infer<typeof schema.clientProgram>;

/** A closed interval of acceptable values; max may be Infinity. */
export type Prediction = z.infer<typeof schema.prediction>;

/**
 * estab, timewait: `ss -s` inside the host. opened: connections the host's program opened (held, or for a
 * churn completed). pongs: answers to the Ping round. accepted: connections the server program accepted.
 * listen.backlog: the server's listener backlog. errors.<ERRNO>: the program's failures. nstat.<Counter>:
 * the namespace's counter. ping.<figure>: connscale's hold (holdPing). memory.<figure>: kernel memory per
 * connection end (memory.cgroupBytesPerConnection: the host's own cgroup; memory.slabBytesPerConnection:
 * host-wide slab, both ends).
 */
export type Metric = z.infer<typeof schema.metric>;

/** Who is measured: the server, each client (one row each), or the sum over all clients. */
export type Subject = z.infer<typeof schema.subject>;

/** What the theory knows about a client when predicting: its settings and what its kernel already holds. */
export interface ClientTheory {
  name: string;
  ip: string;
  /** net.ipv4.ip_local_port_range as the container really has it (read back from inside). */
  portRange: readonly [number, number];
  /** net.ipv4.ip_local_reserved_ports, expanded. */
  reservedPorts: readonly number[];
  /** TCP ports bound inside the container before the flood (Docker's DNS listener, for one). */
  boundPorts: readonly number[];
  /** Distinct (server IP, port) destinations this client connects to. */
  destinations: number;
  /** Connections the client asks for. */
  asked: number;
  bind: BindMode;
  /** The per-socket range (IP_LOCAL_PORT_RANGE) the client sets, if any. */
  socketPortRange?: readonly [number, number];
  /** Open-file limit of each flood process, and how many processes flood. */
  nofile: number;
  processes: number;
  /** Descriptors a flood process held before its first socket, as the program reported (stdio, epoll...). */
  openFilesAtStart?: number;
  holdPing?: HoldPing;
  /** The kernel this client runs on, where it was read inside it: its own node's in a swarm (else ctx.kernel's). */
  kernel?: KernelRelease;
}

/** What the theory knows about the server: its settings and what its program reported at start. */
export interface ServerTheory {
  ip: string;
  ports: readonly number[];
  /** The backlog the kernel gave the listeners (listen()'s, capped at somaxconn), read back. */
  backlog: number;
  workers: number;
  nofile: number;
  /** Descriptors each server worker held before its first accept (stdio, epoll, listeners). */
  openFilesAtStart?: number;
  /** The server's own memory cgroup accounts its sockets (buffers, and since 6.12 accepted sockets' slab). */
  socketsAccounted?: boolean;
  /** A server program of the scenario's own: its processes once it listened (nginx's master and workers). */
  processes?: readonly HostProcess[];
  /** A server program of the scenario's own: what the scenario set it to (server.program.settings). */
  settings?: Readonly<Record<string, number | string | boolean>>;
}

/** A process inside a host, read from /proc there. */
export interface HostProcess {
  pid: number;
  /** Its argv joined by spaces, as it shows it ("nginx: worker process"). */
  command: string;
  /** Descriptors it held. */
  openFiles: number;
  /** Its soft open-file limit. */
  nofile: number;
}

/** The kernel a case ran on, for predictions that differ between kernels. */
export interface KernelRelease {
  /** As `uname -r` prints it: "6.1.0-28-amd64". */
  release: string;
  /** The upstream version it is built from, [major, minor, patch]: Debian's 6.1.0-56 is 6.1.192. */
  upstream: readonly [number, number, number];
  /** A release candidate of that version ("Debian 7.3~rc7-1~exp1": 7): the theory treats it as the version. */
  rc?: number;
  /** The upstream version as people write it: "6.1.192", "7.3-rc7". */
  name: string;
  /** Whether its upstream version is this one or newer: atLeast(6, 3), atLeast(6, 1, 32). */
  atLeast(major: number, minor: number, patch?: number): boolean;
  /** Whether it is of this stable series: series(6, 1). */
  series(major: number, minor: number): boolean;
}

export interface TheoryContext {
  kernel: KernelRelease;
  clients: readonly ClientTheory[];
  server: ServerTheory;
  /** Object size per slab cache on this kernel (/proc/slabinfo), read before the flood. */
  slabObjectSizes?: Readonly<Record<string, number>>;
  /** Whether each connection takes conntrack entries (bridged traffic tracked, not exempt with --notrack). */
  tracked?: boolean;
  /** The client the row is about, for subject 'each client'. */
  client?: ClientTheory;
}

export type Expectation = z.infer<typeof schema.expectation>;
export type CaseOverrides = z.infer<typeof schema.caseOverrides>;
export type CaseSpec = z.infer<typeof schema.caseSpec>;

type ScenarioDocument = z.infer<typeof schema.scenario>;
/** What a scenario file passes to defineScenario. */
export type ScenarioSpec = Omit<ScenarioDocument, 'kind'>;
/** What defineScenario returns: the spec, marked as made by it. */
export type Scenario = ScenarioSpec & Readonly<Pick<ScenarioDocument, 'kind'>>;
