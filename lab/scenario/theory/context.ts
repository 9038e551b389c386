/**
 * What the theory knows when it predicts: the kernel, the clients and the server as they really run. Stated
 * here, not derived from the scenario's schema, because the schema needs these types (an expectation's
 * predict() takes a TheoryContext): the settings the theory reads (the bind mode, the family, the source
 * mode, the hold-ping) are stated here too, and schema.ts builds its fields from them. types.ts re-exports
 * these for authors.
 */
import type { PortRange } from '../port-range.ts';

/** How a client's sockets are bound before connect(): the bind-before-connect experiment's modes. */
export const BIND_MODES = ['none', 'any', 'reuseaddr', 'nobindport'] as const;
export type BindMode = (typeof BIND_MODES)[number];

/** Which IP families a case connects over: IPv4, IPv6, or both side by side ('dual'). */
export const FAMILIES = ['ipv4', 'ipv6', 'dual'] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * Which of its addresses a client's sockets leave from: 'route', none bound (the kernel takes the route's
 * source: one address per family); 'bind', each socket bound to the client's addresses in turn with port 0
 * (bind() picks the port); 'nobindport', the same with IP_BIND_ADDRESS_NO_PORT (connect() picks the port).
 */
export const SOURCE_MODES = ['route', 'bind', 'nobindport'] as const;
export type SourceMode = (typeof SOURCE_MODES)[number];

/** One of a client's addresses. */
export interface SourceAddress {
  address: string;
  family: 'ipv4' | 'ipv6';
}

/** A socket bound inside a host before the flood (a listener, as `ss -tln` lists it: "127.0.0.11", "*", "::"). */
export interface BoundSocket {
  address: string;
  port: number;
}

/** The settings of connscale's hold (client.holdPing, which schema.ts describes). */
export interface HoldPing {
  /** How long each cadence is pinged. */
  seconds: number;
  intervalMs: number;
  timeoutMs: number;
  /**
   * Slower intervals to step down to, in turn, where the machine falls behind intervalMs (a Pong later than a
   * quarter of the timeout): no more Pings until those out are in, then the next one for `seconds`. The hold
   * ends with the first cadence held to its end, or with the slowest.
   */
  stepDownMs?: readonly number[];
}

/** What the theory knows about a client when predicting: its settings and what its kernel already holds. */
export interface ClientTheory {
  name: string;
  ip: string;
  /** net.ipv4.ip_local_port_range as the container really has it (read back from inside). */
  portRange: PortRange;
  /** net.ipv4.ip_local_reserved_ports, expanded. */
  reservedPorts: readonly number[];
  /** TCP ports bound inside the container before the flood (Docker's DNS listener, for one). */
  boundPorts: readonly number[];
  /** TCP ports bound inside the container before the flood (Docker's DNS listener, for one), with their addresses. */
  boundSockets?: readonly BoundSocket[];
  /** Distinct (server IP, port) destinations this client connects to, over every family it uses. */
  destinations: number;
  /** The families it connects over (IPv4 when not said): with 'dual', half its destinations are IPv6. */
  family?: Family;
  /** Which of its addresses its sockets leave from (the route's source when not said). */
  source?: SourceMode;
  /**
   * Its addresses in the families it uses, each family's in the order they were added (the runtime's first);
   * just ip when not said.
   */
  addresses?: readonly SourceAddress[];
  /** net.ipv6.bindv6only as read back: a socket bound to [::] then covers IPv6 only, not IPv4 too. */
  bindv6only?: boolean;
  /** Connections the client asks for. */
  asked: number;
  bind: BindMode;
  /** The per-socket range (IP_LOCAL_PORT_RANGE) the client sets, if any. */
  socketPortRange?: PortRange;
  /** Open-file limit of each flood process, and how many processes flood. */
  nofile: number;
  processes: number;
  /** Descriptors a flood process held before its first socket, as the program reported (stdio, epoll...). */
  openFilesAtStart?: number;
  holdPing?: HoldPing;
  /** HTTP requests (client.request): answers taken per connection, and with a churn how long it lasts. */
  requests?: { perConnection: number; churnSeconds?: number };
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
  /**
   * A server program of the scenario's own: the listening sockets it held once it listened, as the server's
   * kernel listed them, one per address and port (a status page's included; reuseport's per-worker copies
   * once). Its own ports are what the clients connect to; these are what it really listens on.
   */
  listeners?: readonly ServerListener[];
  /** A server program of the scenario's own: what the scenario set it to (server.program.settings). */
  settings?: Readonly<Record<string, number | string | boolean>>;
}

/** A listening socket's local address ("0.0.0.0", "127.0.0.1", "::") and port. */
export interface ServerListener {
  address: string;
  port: number;
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

/** What the theory knows of the host between the clients and the server. */
export interface MiddleTheory {
  name: string;
  role: 'gateway' | 'proxy';
  /** The addresses it connects (or translates) onward from, its own first. */
  ips: readonly string[];
  /** The server's endpoints (ip:port) it forwards or connects to. */
  backends: number;
  /** A NAT gateway: which clients each of its addresses translates, and the ports it picks from. */
  nat?: {
    /** Client names by the gateway address their connections leave from. */
    clientsOf: Readonly<Record<string, readonly string[]>>;
    /** --to-ports; none: the kernel's own search (1024-65535). */
    ports?: PortRange;
    randomFully: boolean;
    /** nf_conntrack_max as the lab lowered it for the case (machine-wide), where it did. */
    conntrackMax?: number;
  };
  /** nf_conntrack_max as read inside it (machine-wide: read-only in a namespace), where it was read. */
  conntrackMax?: number;
  /** A reverse proxy: what it runs, and the ports its kernel gives its upstream connections. */
  proxy?: ProxyTheory;
}

/** A reverse proxy as the theory reads it (lab/scenario/theory/proxy.ts): its kernel's range as read back before the flood. */
export interface ProxyTheory {
  software: 'nginx' | 'haproxy';
  /** net.ipv4.ip_local_port_range inside the proxy (the plan's, or the kernel's default, where not read). */
  portRange: PortRange;
  reservedPorts: readonly number[];
  /** TCP ports bound inside the proxy before the flood (its own listeners, Docker's DNS listener). */
  boundPorts: readonly number[];
  /** The addresses its upstream connections leave from, in turn. */
  sources: readonly string[];
  /** Idle upstream connections it keeps for reuse; 0: a new upstream connection for every request. */
  keepalive: number;
  /** nginx worker processes, HAProxy threads. */
  workers: number;
  /** net.ipv4.tcp_tw_reuse inside the proxy (2, the default: loopback only). */
  twReuse: number;
}

export interface TheoryContext {
  kernel: KernelRelease;
  clients: readonly ClientTheory[];
  server: ServerTheory;
  /** The host between the clients and the server, where the case has one. */
  middle?: MiddleTheory;
  /** Object size per slab cache on this kernel (/proc/slabinfo), read before the flood. */
  slabObjectSizes?: Readonly<Record<string, number>>;
  /** Whether each connection takes conntrack entries (bridged traffic tracked, not exempt with --notrack). */
  tracked?: boolean;
  /**
   * Whether the runtime gives each host a memory cgroup of its own (not a VM's namespaces): where it does not,
   * the figures read from one do not apply on that runtime.
   */
  hostMemoryCgroups?: boolean;
  /** The client the row is about, for subjects 'each client' and 'each address'. */
  client?: ClientTheory;
  /** The client's address the row is about, for subject 'each address'. */
  address?: SourceAddress;
}
