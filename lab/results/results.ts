/** The results document: one JSON file per run, enough to re-render reports and compare kernels. */
import type { Metric, Prediction, Subject } from '../scenario/types.ts';
import type { EnvironmentFingerprint } from '../runtime/runtime.ts';
import type { Role } from '../plan/plan.ts';
import type { Sample } from '../collect/sampler.ts';

export const RESULTS_SCHEMA = 'lab.results/1';

export interface FloodFigures {
  program: string;
  asked: number;
  processes: number;
  established: number;
  failed: number;
  /** Seconds from the flood's start to its 'filled' line. */
  fillSeconds: number;
  /** Pong answers to the Ping/Pong round, when the case asks for one. */
  pongs?: number;
  /** The program ended without printing its figures: none of them is a measurement. */
  unreported?: true;
  /** Descriptors each flood process held before its first socket (the most of any), as it reported. */
  openFilesAtStart?: number;
  /** Bytes the kernel took into the send queues (sendBytes). */
  sentBytes?: number;
  holdPing?: HoldPingFigures;
}

/** Round-trip percentiles from the client program's histogram (within 6.25%): ms here, µs in its lines. */
export interface RttPercentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** connscale's hold: Pings every interval on every held connection, a Pong within the timeout. */
export interface HoldPingFigures {
  intervalMs: number;
  timeoutMs: number;
  /** How long the program pinged. */
  seconds: number;
  sent: number;
  pongs: number;
  /** Pongs later than the timeout, or missing at the connection's next turn: each ended its connection. */
  timeouts: number;
  /** Pongs per second over the hold, and what the settings ask for (held connections / interval). */
  perSecond: number;
  askedPerSecond: number;
  rttMs: RttPercentiles;
  /** Per progress window: seconds since the flood started, Pongs per second, p99 in ms. */
  series: Array<{ t: number; perSecond: number; p99: number }>;
}

export interface Milestone {
  connections: number;
  seconds: number;
}

export interface MemoryFigures {
  connections: number;
  /** Host-wide slab and TCP memory growth per connection: both ends, since both live in this kernel. */
  kernelBytesPerConnection: number;
  /** Resident memory growth of the server program per connection it holds. */
  serverUserBytesPerConnection: number;
  /** Resident memory of all client programs per connection they hold, fixed costs of each process included. */
  clientRssBytesPerConnection: number;
  /** Growth of the pages all TCP sockets' buffers use (/proc/net/sockstat "mem", host-wide; bounded by tcp_mem). */
  tcpMemPages?: number;
  /** Per connection end, from each host's own memory cgroup (server end, client end), where hosts have one. */
  perEnd?: { server?: EndMemory; client?: EndMemory };
  /** Host-wide slab growth per connection, cache by cache, largest first (both ends and conntrack). */
  slabCaches?: SlabGrowth[];
}

export interface EndMemory {
  /** Kernel memory (slab and pages) charged to the end's cgroup, per connection it holds. */
  kernelBytes: number;
  /** Socket buffers charged to it (cgroup v1 counts them only once the cgroup has a TCP limit). */
  tcpBufferBytes?: number;
  source: string;
}

export interface SlabGrowth {
  cache: string;
  /** Object size on this kernel (/proc/slabinfo). */
  objectSize: number;
  objectsPerConnection: number;
  bytesPerConnection: number;
  /** What the theory expects per connection (both ends), where it names this cache. */
  predictedObjects?: number;
  why?: string;
}

export interface HostResult {
  name: string;
  role: Role;
  ip: string;
  /** The host vanished mid-run (container killed): its figures below are not measurements. */
  lost?: boolean;
  /** The container's own figures from `ss -s`. */
  estab: number;
  timewait: number;
  /** Failures by errno name as the host's program counted them (connect() and SO_ERROR). */
  errors: Record<string, number>;
  /** Failures of bind() before connect(), by errno name. */
  bindErrors: Record<string, number>;
  /** Sysctls read back from inside the host. */
  sysctls: Record<string, string>;
  nofile: number;
  /** The backlog the kernel gave the server's listeners (after the cap at somaxconn), read before the flood. */
  listenBacklog?: number;
  /** Resident memory of the host's lab program (all its processes), in KiB, at collection. */
  programRssKiB?: number;
  /** Connections the server program accepted (its own count; the kernel's is estab). */
  accepted?: number;
  /** Descriptors the host's program (each of its processes) held before its first socket, as it reported. */
  openFilesAtStart?: number;
  /** Kernel memory charged to this host's own memory cgroup, growth over the case (where hosts have one). */
  cgroupMemory?: { kernelBytes: number; tcpBufferBytes?: number; source: string };
  /** TCP ports bound inside a client before its flood (connect() skips them). */
  boundPortsBefore?: number[];
  /** The namespace's SNMP and netstat counters (nstat -asz) at collection. */
  nstat: Record<string, number>;
  /** `ss -s` figures that are host-wide, kept apart: never this host's own. */
  hostWide: {
    total: number;
    tcp: number;
    closed: number;
    orphaned: number;
    /** Packets dropped by the kernel's per-CPU backlog (netdev_max_backlog) between observe and collect. */
    softnetDropped?: number;
    /** Growth of every slab cache's objects between observe and collect, in bytes (objects x object size). */
    slabObjectBytes?: number;
  };
  flood?: FloodFigures;
}

export interface ExpectationResult {
  claim: string;
  subject: Subject;
  /** The host the row is about ('each client'), or the subject. */
  host: string;
  metric: Metric;
  predicted: Prediction;
  measured: number;
  pass: boolean;
  /** Why no verdict could be reached (a host it depends on was lost); pass is then false. */
  invalid?: string;
}

export interface CaseResult {
  name: string;
  about?: string;
  pass: boolean;
  subnet: string;
  /** Milliseconds per phase. */
  phases: Record<string, number>;
  /** The kernel's counts (`ss -s` inside each host) about once a second during the flood. */
  samples: Sample[];
  /** Seconds from the flood's start until the server's kernel counted each 100k connections. */
  milestones: Milestone[];
  memory?: MemoryFigures;
  expectations: ExpectationResult[];
  hosts: HostResult[];
}

export interface Results {
  schema: typeof RESULTS_SCHEMA;
  scenario: string;
  claim: string;
  file: string;
  runId: string;
  quick: boolean;
  startedAt: string;
  finishedAt: string;
  environment: EnvironmentFingerprint & { lab: string; node: string; nofileCeiling: number };
  cases: CaseResult[];
  pass: boolean;
}

/** JSON has no Infinity: open-ended predictions are written with max null and read back as Infinity. */
export function resultsToJson(results: Results): string {
  return JSON.stringify(results, (_key, value) => (value === Infinity ? null : value), 2) + '\n';
}
