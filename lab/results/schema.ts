/**
 * The results document's schema: results.ts derives its types from it, and `lab report` and `lab compare`
 * check every file they read against it. Fields a newer lab added are optional: older files lack them.
 */
import { z } from 'zod';
import type { Sample } from '../collect/sampler.ts';
import type { Role } from '../plan/plan.ts';
import type { EnvironmentFingerprint } from '../runtime/runtime.ts';
import { metric, prediction, subject } from '../scenario/schema.ts';

export const RESULTS_SCHEMA = 'lab.results/1';

const counts = z.record(z.string(), z.number());
/** A figure the run had none for (nothing predicted, nothing measured) is NaN. */
const numberOrNaN = z.union([z.number(), z.nan()]);

// Types stated by other modules: checked as far as the reports read them, and typed as those types.
const role: z.ZodType<Role> = z.enum(['server', 'client', 'gateway', 'proxy']);
/** Older files have samples without a source: the reports read only these fields of one. */
const sample = z.object({ t: z.number(), host: z.string(), estab: z.number(), errors: z.number() }).pipe(z.custom<Sample>());
const environmentFingerprint: z.ZodType<EnvironmentFingerprint> = z.object({
  runtime: z.string(),
  hostKind: z.string().optional(),
  kernel: z.string(),
  engine: z.string(),
  cpus: z.number().optional(),
  images: z.record(z.string(), z.object({ name: z.string(), id: z.string() })).optional(),
  namespaceDefaults: z.record(z.string(), z.string()).optional(),
  machineSysctls: z.record(z.string(), z.string()).optional(),
  nodes: z.array(z.object({ name: z.string(), address: z.string(), kernel: z.string(), engine: z.string(), nofileCeiling: z.number() })).optional(),
});

export const rttPercentiles = z.object({
  count: z.number(),
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  p999: z.number(),
  max: z.number(),
});

/**
 * One cadence of a hold that steps down (holdPing.stepDownMs). held: every process of the client pinged it to
 * its end with no Pong later than a quarter of the timeout and none past it; behind: the processes that saw
 * one later than that quarter (and stepped down, where a slower cadence was left).
 */
export const holdPingStep = z.object({
  intervalMs: z.number(),
  askedPerSecond: z.number(),
  perSecond: z.number(),
  seconds: z.number(),
  sent: z.number(),
  pongs: z.number(),
  timeouts: z.number(),
  unanswered: z.number(),
  processes: z.number(),
  behind: z.number(),
  held: z.boolean(),
  rttMs: rttPercentiles.optional(),
});

export const holdPingFigures = z.object({
  /** The cadence the hold ended at: the one asked, or with steps the one held (or the slowest). */
  intervalMs: z.number(),
  timeoutMs: z.number(),
  /** How long the program pinged. */
  seconds: z.number(),
  sent: z.number(),
  pongs: z.number(),
  /** Pongs later than the timeout, or missing at the connection's next turn: each ended its connection. */
  timeouts: z.number(),
  /**
   * Of the timeouts, the Pings no Pong had answered when they were given up: they are in rttMs at the time
   * they waited (at least the timeout), so a percentile there is a lower bound. Older files lack it.
   */
  unanswered: z.number().optional(),
  /** Pongs per second over the hold, and what the settings ask for (held connections / interval). */
  perSecond: z.number(),
  askedPerSecond: z.number(),
  /**
   * Round trips in ms, every timeout among them; absent when no Pong came back, as a percentile of no round
   * trip is none (older files wrote zeros with a count of 0).
   */
  rttMs: rttPercentiles.optional(),
  /** Per progress window: seconds since the flood started, Pongs per second, p99 in ms. */
  series: z.array(z.object({ t: z.number(), perSecond: z.number(), p99: z.number() })),
  /**
   * A hold that steps down: each cadence in turn. Then perSecond, askedPerSecond, seconds and rttMs are
   * the last cadence's (where the hold ended), and sent, pongs, timeouts and unanswered the whole hold's.
   */
  steps: z.array(holdPingStep).optional(),
});

/**
 * connectCost: per 2% of the ports in use (index b: 2b to 2b+2%), the connect() calls that got a port, the ns
 * they spent in all, and the histogram of one call's µs as [top of bin, calls] pairs (bins within 6.25%).
 */
export const connectCost = z.object({
  ports: z.number(),
  calls: z.array(z.number()),
  ns: z.array(z.number()),
  us: z.array(z.array(z.tuple([z.number(), z.number()]))),
});

export const floodFigures = z.object({
  program: z.string(),
  asked: z.number(),
  processes: z.number(),
  established: z.number(),
  failed: z.number(),
  /** Seconds from the flood's start to its 'filled' line. */
  fillSeconds: z.number(),
  /** Pong answers to the Ping/Pong round, when the case asks for one. */
  pongs: z.number().optional(),
  /** The program ended without printing its figures: none of them is a measurement. */
  unreported: z.literal(true).optional(),
  /** Descriptors each flood process held before its first socket (the most of any), as it reported. */
  openFilesAtStart: z.number().optional(),
  /** Bytes the kernel took into the send queues (sendBytes). */
  sentBytes: z.number().optional(),
  holdPing: holdPingFigures.optional(),
  connectCost: connectCost.optional(),
  /** client.request: GETs sent, answered, cut short by a close, and the answers per HTTP status ("200", "502", "other"). */
  requests: z
    .object({ sent: z.number(), answered: z.number(), cutShort: z.number(), statuses: z.record(z.string(), z.number()) })
    .optional(),
});

const milestoneReading = z.object({ connections: z.number(), seconds: z.number() });

export const milestone = z.object({
  connections: z.number(),
  /** Absent where the sampler did not see it happen (notSampled): no reading came near the crossing. */
  seconds: z.number().optional(),
  /** The server's readings either side of a crossing in a gap of the sampler's (it stalled): no time is known. */
  notSampled: z.object({ before: milestoneReading.optional(), after: milestoneReading }).optional(),
});

export const endMemory = z.object({
  /** Kernel memory (slab and pages) charged to the end's cgroup, per connection it holds. */
  kernelBytes: z.number(),
  /** Socket buffers charged to it (cgroup v1 counts them only once the cgroup has a TCP limit). */
  tcpBufferBytes: z.number().optional(),
  source: z.string(),
});

export const slabGrowth = z.object({
  cache: z.string(),
  /** Object size on this kernel (/proc/slabinfo). */
  objectSize: z.number(),
  objectsPerConnection: z.number(),
  bytesPerConnection: z.number(),
  /** What the theory expects per connection (both ends), where it names this cache. */
  predictedObjects: z.number().optional(),
  why: z.string().optional(),
});

/** A slab cache the memory theory names, as the kernel has it (/sys/kernel/slab/<cache>). */
export const slabCacheSize = z.object({
  cache: z.string(),
  /** sizeof the object as compiled (object_size). */
  objectSize: z.number(),
  /** Bytes each object takes in its slab (slab_size): aligned, with the free pointer where it sits outside the object. */
  slabSize: z.number(),
  /** The cache it is merged into (SLUB's ":A-0000128"), where it shares one. */
  mergedInto: z.string().optional(),
});
export const memoryFigures = z.object({
  connections: z.number(),
  /** Slab and TCP memory growth per connection on the server's machine: both ends where the clients share its kernel. */
  kernelBytesPerConnection: z.number(),
  /** Which ends kernelBytesPerConnection holds: 'server' when the clients ran on other kernels (boot ids). */
  kernelEnds: z.enum(['both', 'server']).optional(),
  /** Resident memory growth of the server program per connection it holds. */
  serverUserBytesPerConnection: z.number(),
  /** Resident memory of all client programs per connection they hold, fixed costs of each process included. */
  clientRssBytesPerConnection: z.number(),
  /** Growth of the pages all TCP sockets' buffers use (/proc/net/sockstat "mem", host-wide; bounded by tcp_mem). */
  tcpMemPages: z.number().optional(),
  /** Per connection end, from each host's own memory cgroup (server end, client end), where hosts have one. */
  perEnd: z.object({ server: endMemory.optional(), client: endMemory.optional() }).optional(),
  /** Host-wide slab growth per connection, cache by cache, largest first (both ends and conntrack). */
  slabCaches: z.array(slabGrowth).optional(),
  /** The caches the memory theory names, as the server's kernel has them: its objects' sizes. */
  slabCacheSizes: z.array(slabCacheSize).optional(),
  /**
   * Why the host-wide figures (kernelBytesPerConnection, tcpMemPages, slabCaches) are not the case's: another
   * run was active on the machine between the readings. tcpMemPages and slabCaches are then left out.
   */
  hostWideNotMeasured: z.string().optional(),
});

/** The machine under a host, as read inside it; with its node's engine and ceiling where the run has nodes. */
export const hostMachine = z.object({
  node: z.string().optional(),
  kernel: z.string(),
  kernelVersion: z.string(),
  /** Hosts on one machine share its kernel and so its boot id. */
  bootId: z.string(),
  /** Conntrack's ceiling on that kernel (machine-wide), where conntrack is loaded. */
  conntrackMax: z.number().optional(),
  engine: z.string().optional(),
  nofileCeiling: z.number().optional(),
});

export const hostResult = z.object({
  name: z.string(),
  role,
  ip: z.string(),
  /** Its IPv6 address, where the run's network carried IPv6. */
  ip6: z.string().optional(),
  machine: hostMachine.optional(),
  /** The host vanished mid-run (container killed): its figures below are not measurements. */
  lost: z.boolean().optional(),
  /** The container's own figures from `ss -s`. */
  estab: z.number(),
  timewait: z.number(),
  /** Failures by errno name as the host's program counted them (connect() and SO_ERROR). */
  errors: counts,
  /** Failures of bind() before connect(), by errno name. */
  bindErrors: counts,
  /** Sysctls read back from inside the host. */
  sysctls: z.record(z.string(), z.string()),
  nofile: z.number(),
  /** The backlog the kernel gave the server's listeners (after the cap at somaxconn), read before the flood. */
  listenBacklog: z.number().optional(),
  /** Resident memory of the host's lab program (all its processes), in KiB, at collection. */
  programRssKiB: z.number().optional(),
  /** Connections the server program accepted (its own count; the kernel's is estab). */
  accepted: z.number().optional(),
  /** Descriptors the host's program (each of its processes) held before its first socket, as it reported. */
  openFilesAtStart: z.number().optional(),
  /** Kernel memory charged to this host's own memory cgroup, growth over the case (where hosts have one). */
  cgroupMemory: endMemory.optional(),
  /** TCP ports bound inside a client before its flood (connect() skips them). */
  boundPortsBefore: z.array(z.number()).optional(),
  /** A client's established connections per local address (`ss -tn state established src <address>`), after the flood. */
  sources: counts.optional(),
  /** The namespace's SNMP and netstat counters (nstat -asz) at collection. Tcp* count both families: Linux has no Tcp6 MIB. */
  nstat: counts,
  /** The namespace's TCP sockets in use per family at collection (`ss -s` table: connected and listening, not TIME_WAIT). estab counts both. */
  tcpSockets: z.object({ ipv4: z.number(), ipv6: z.number() }).optional(),
  /** `ss -s` figures that are host-wide, kept apart: never this host's own. */
  hostWide: z.object({
    total: z.number(),
    tcp: z.number(),
    closed: z.number(),
    orphaned: z.number(),
    /** Packets dropped by the kernel's per-CPU backlog (netdev_max_backlog) between observe and collect. */
    softnetDropped: z.number().optional(),
    /** Growth of every slab cache's objects between observe and collect, in bytes (objects x object size). */
    slabObjectBytes: z.number().optional(),
    /**
     * Why the growth figures (softnetDropped, slabObjectBytes) are not the case's and are left out: another
     * run was active on the machine between the readings ("run <id> was active on this machine").
     */
    notMeasured: z.string().optional(),
  }),
  flood: floodFigures.optional(),
  /** Connection tracking in the host's own namespace (a NAT gateway's), at collection. */
  conntrack: z.object({ count: z.number(), max: z.number(), insertFailed: z.number(), drop: z.number(), earlyDrop: z.number() }).optional(),
  /** The server's established connections per peer address, for the middle host's addresses (`ss state established dst`). */
  peers: counts.optional(),
  /** A middle host's addresses beyond ip (a gateway's further translation addresses). */
  ips: z.array(z.string()).optional(),
});

export const expectationResult = z.object({
  claim: z.string(),
  subject,
  /** The host the row is about ('each client'), or the subject. */
  host: z.string(),
  metric,
  /** min NaN: the theory could not predict the row. */
  predicted: prediction.extend({ min: numberOrNaN }),
  measured: numberOrNaN,
  pass: z.boolean(),
  /** Why no verdict could be reached (a host it depends on was lost); pass is then false. */
  invalid: z.string().optional(),
  /** Why the claim does not apply here (the theory said so before measuring); pass is then true. */
  notApplicable: z.string().optional(),
});

export const caseResult = z.object({
  name: z.string(),
  about: z.string().optional(),
  pass: z.boolean(),
  subnet: z.string(),
  /** Milliseconds per phase. */
  phases: counts,
  /** The kernel's counts (`ss -s` inside each host) about once a second during the flood. */
  samples: z.array(sample),
  /** Seconds from the flood's start until the server's kernel counted each 100k connections. */
  milestones: z.array(milestone).optional(),
  memory: memoryFigures.optional(),
  /** The machine's available memory as the lab watched it during the flood, and where it stopped the flood. */
  machineMemory: z
    .object({
      lowestAvailableBytes: z.number().optional(),
      floorBytes: z.number().optional(),
      /** The flood was told to ask for no more: available memory under the floor, at that many connections. */
      stopped: z.object({ availableBytes: z.number(), floorBytes: z.number(), atSeconds: z.number(), connections: z.number() }).optional(),
    })
    .optional(),
  /** connscale's hold began once the server's program had accepted what the clients held, or stopped accepting. */
  holdStart: z.object({ waitedSeconds: z.number(), serverAccepted: z.number(), clientsHeld: z.number() }).optional(),
  /** Every host reported the same boot id: one kernel held both ends of every connection (the local swarm's nodes too). */
  oneKernel: z.boolean().optional(),
  /** Who connected to whom, tier by tier (clients -> server, or through a middle host), as the case was planned. */
  legs: z.array(z.object({ from: z.array(z.string()), to: z.string(), endpoints: z.array(z.string()), via: z.string().optional() })).optional(),
  expectations: z.array(expectationResult),
  hosts: z.array(hostResult),
});

export const results = z.object(
  {
    schema: z.literal(RESULTS_SCHEMA, {
      error: (iss) => `not a lab results document: ${iss.input === undefined ? 'no schema field' : `schema is ${JSON.stringify(iss.input)}`}, expected "${RESULTS_SCHEMA}"`,
    }),
    scenario: z.string(),
    claim: z.string(),
    file: z.string(),
    runId: z.string(),
    quick: z.boolean(),
    startedAt: z.string(),
    finishedAt: z.string(),
    environment: z.intersection(environmentFingerprint, z.object({ lab: z.string(), node: z.string(), nofileCeiling: z.number() })),
    cases: z.array(caseResult),
    pass: z.boolean(),
  },
  { error: 'not a lab results document: not a JSON object' },
);
