/** The types a scenario author sees. Everything here is plain data or pure functions. */

export type SysctlValue = string | number;
export type Sysctls = Record<string, SysctlValue>;

/** How a client's sockets are bound before connect(): the bind-before-connect experiment's modes. */
export type BindMode = 'none' | 'any' | 'reuseaddr' | 'nobindport';

export interface HostSettings {
  /** Network-namespaced sysctls set on the container (checked before anything starts). */
  sysctls?: Sysctls;
  /** Open-file limit (soft = hard) per process; defaults to the engine's ceiling, which the lab detects. */
  nofile?: number;
  /**
   * Linux capabilities to add, each with the reason the experiment needs it (hosts run unprivileged and
   * with Docker's default set otherwise), e.g. { NET_ADMIN: 'adds a second address inside the server' }.
   */
  capabilities?: Record<string, string>;
}

export interface ServerSpec extends HostSettings {
  /** Ports the server listens on, on every one of its addresses. */
  ports: number[];
  /**
   * How many IP addresses the server answers on (1 by default). Docker gives a container one address per
   * network; the others are added inside the server, which needs capabilities: { NET_ADMIN: 'why' }.
   */
  addresses?: number;
  /** listen() backlog; the kernel caps it at net.core.somaxconn. */
  backlog?: number;
  /** How the server accepts: at once (default), never ('paused'), or one connection per worker every N ms. */
  accept?: 'immediate' | 'paused' | { everyMs: number };
  /** The server closes each connection after answering its Ping: the server closes first. */
  closeFirst?: boolean;
  /** What the server speaks: Ping/Pong (default), or enough HTTP/1.1 for keep-alive clients (an empty 200 each). */
  protocol?: 'ping' | 'http';
  /** SO_REUSEPORT worker processes; by default as many as the open-file limit needs for the connections asked. */
  workers?: number;
  /** Accept and hold every connection but never read from it: what clients send stays in the receive queues. */
  holdUnread?: boolean;
  /**
   * How long the server stops accepting after accept() fails with EMFILE (default 100 ms). 0 retries at once:
   * the listener stays readable, so the accept loop spins, as a naive server's does.
   */
  emfileBackoffMs?: number;
}

export interface ClientSpec extends HostSettings {
  /** Connections this client asks for, or 'fill': as many as its port range can give (then a few more). */
  connections?: number | 'fill';
  /** Connects in flight per flood process. */
  inflight?: number;
  /** How long a connect may stay unanswered before it counts as ETIMEDOUT (default 10 s). */
  connectTimeoutMs?: number;
  bind?: BindMode;
  /**
   * IP_LOCAL_PORT_RANGE on every socket before connect(), "LOW HIGH": a per-socket range inside the
   * namespace's (Linux 6.3+; older kernels refuse the option with ENOPROTOOPT).
   */
  socketPortRange?: string;
  /** After the fill, a Ping/Pong round on every held connection (measured as metric 'pongs'). */
  ping?: boolean;
  /** How long the Ping round waits for the last answers (default 300 s; it ends as soon as all are in). */
  pingWaitMs?: number;
  /**
   * Make exactly `connections` attempts even after EADDRNOTAVAIL or EADDRINUSE. By default a client stops
   * asking a destination once its range is spent (each further failure costs a scan of the whole range);
   * where a failure is a clash rather than exhaustion (ip_autobind_reuse) the experiment needs every try.
   */
  keepAsking?: boolean;
  /**
   * Instead of opening and holding: short-lived connections at `rate` per second for `seconds` (connect, Ping,
   * Pong, close: the client closes first unless the server does). For the TIME_WAIT experiments.
   */
  churn?: { rate: number; seconds: number };
  /** Your own client program instead of the lab's flood: does it exhaust ports? */
  program?: ClientProgram;
  /** Flood processes; by default as many as the open-file limit needs. 1 makes the per-process limit visible. */
  processes?: number;
  /** Bytes each connection sends once it is up (the server may leave them unread: socket-memory). */
  sendBytes?: number;
  /**
   * connscale's hold: after the fill, every connection sends "Ping" every intervalMs for `seconds` and waits
   * for "Pong" within timeoutMs; a late or missing Pong is a timeout and ends that connection. Round trips
   * go into a histogram inside the program (metrics ping.sent, ping.pongs, ping.timeouts, ping.perSecond,
   * ping.p50 ... ping.max in ms).
   */
  holdPing?: HoldPing;
}

export interface HoldPing {
  seconds: number;
  intervalMs: number;
  timeoutMs: number;
}

export interface ClientProgram {
  /**
   * The command run in each client, bounded by the scenario's deadline. {target} is the first server
   * "ip:port", {targets} all of them comma-separated, {url} "http://ip:port/". It may print the lab's JSON
   * line {"type":"filled","established":N,"failed":N,"errors":{"EADDRNOTAVAIL":N}} before it exits.
   */
  command: string[];
  /**
   * A Dockerfile, relative to the scenario file, that builds the client image FROM the lab's client image
   * (ARG LAB_CLIENT_IMAGE / FROM \${LAB_CLIENT_IMAGE}); its folder is the build context.
   */
  dockerfile?: string;
}

/** A closed interval of acceptable values; max may be Infinity. */
export interface Prediction {
  min: number;
  max: number;
  /** How the number was reached, shown beside it ("28232 ports - 1 bound by a listener"). */
  why?: string;
}

/**
 * estab, timewait: `ss -s` inside the host. opened: connections the host's program opened (held, or for a
 * churn completed). pongs: answers to the Ping round. accepted: connections the server program accepted.
 * listen.backlog: the server's listener backlog. errors.<ERRNO>: the program's failures. nstat.<Counter>:
 * the namespace's counter. ping.<figure>: connscale's hold (holdPing). memory.<figure>: kernel memory per
 * connection end (memory.cgroupBytesPerConnection: the host's own cgroup; memory.slabBytesPerConnection:
 * host-wide slab, both ends).
 */
export type Metric =
  | 'estab'
  | 'timewait'
  | 'opened'
  | 'pongs'
  | 'accepted'
  | 'listen.backlog'
  | `errors.${string}`
  | `nstat.${string}`
  | `ping.${string}`
  | `memory.${string}`;

/** Who is measured: the server, each client (one row each), or the sum over all clients. */
export type Subject = 'server' | 'each client' | 'all clients';

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
}

/** The kernel a case ran on, for predictions that differ between kernels. */
export interface KernelRelease {
  /** As `uname -r` prints it: "6.1.0-28-amd64". */
  release: string;
  /** The upstream version it is built from, [major, minor, patch]: Debian's 6.1.0-56 is 6.1.192. */
  upstream: readonly [number, number, number];
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
  /** The client the row is about, for subject 'each client'. */
  client?: ClientTheory;
}

export interface Expectation {
  claim: string;
  subject: Subject;
  metric: Metric;
  predict: (ctx: TheoryContext) => Prediction | number;
}

export interface CaseOverrides {
  clients?: number;
  /** Seconds to hold the connections after the fill (and ping) before the kernel's view is collected. */
  holdSeconds?: number;
  client?: ClientSpec;
  server?: Partial<ServerSpec>;
}

export interface CaseSpec extends CaseOverrides {
  name: string;
  /** One or two sentences a presenter can read out before the case runs. */
  about?: string;
  /** Expectations for this case, in addition to the scenario's own. */
  expect?: Expectation[];
  /** Overrides for --quick: narrower ranges and counts, the same laws. */
  quick?: CaseOverrides;
}

export interface ScenarioSpec {
  name: string;
  /** The one-line claim the scenario tests. */
  claim: string;
  /** The story and the rule, for `lab explain` and a presenter. */
  story?: string;
  /** Which seeds in shared/seeds it replays. */
  seeds?: string[];
  server: ServerSpec;
  client?: ClientSpec;
  /** Hard limit for each flood, enforced inside the flood program as well as by the lab. */
  deadlineSeconds?: number;
  /** Subnet of the run's internal network; by default a free /24 inside 198.18.0.0/15 (RFC 2544). */
  subnet?: string;
  expect?: Expectation[];
  cases: CaseSpec[];
}

export interface Scenario extends ScenarioSpec {
  readonly kind: 'lab.scenario';
}
