/**
 * The theory the scenarios predict with: which local ports connect() can use, and how many connections a
 * client can therefore hold. Each rule cites the kernel path that decides it.
 */
import type { ClientTheory, KernelRelease, Prediction, TheoryContext } from './types.ts';

export type PortRange = readonly [number, number];

/**
 * A prediction needs a figure only the run reads (what a program reported, the kernel's slab sizes): before
 * the run the theory cannot tell yet, which is no fault of the scenario's.
 */
export class MissingFigure extends Error {
  override readonly name = 'MissingFigure';

  /**
   * By name, not instanceof: a scenario file imports the lab through its own module instance (the loader
   * gives each scenario file its own), so its theory's classes are not this module's.
   */
  static is(error: unknown): boolean {
    return (error as { name?: unknown } | null)?.name === 'MissingFigure';
  }
}

export function exactly(n: number, why?: string): Prediction {
  return { min: n, max: n, ...(why ? { why } : {}) };
}

export function between(min: number, max: number, why?: string): Prediction {
  return { min, max, ...(why ? { why } : {}) };
}

export function atLeast(n: number, why?: string): Prediction {
  return { min: n, max: Infinity, ...(why ? { why } : {}) };
}

/**
 * The claim does not apply on this kernel or setup (the option it measures does not exist there): the row
 * says so and why, and is neither a pass nor a failure of the case. Never for a figure that merely went
 * unmeasured: that is INVALID.
 */
export function doesNotApply(why: string): Prediction {
  return { min: -Infinity, max: Infinity, why, doesNotApply: true };
}

/** "40000 40999" or "40000\t40999" (as /proc prints it) → [40000, 40999]. */
export function parsePortRange(text: string): PortRange {
  const parts = text.trim().split(/\s+/).map(Number);
  if (parts.length !== 2 || parts.some((p) => !Number.isInteger(p))) {
    throw new Error(`not a port range: "${text}" (expected "LOW HIGH")`);
  }
  return [parts[0]!, parts[1]!];
}

/** "40100-40199,40500" (ip_local_reserved_ports) → the ports it names. */
export function parsePortList(text: string): number[] {
  const ports: number[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [low, high = low] = item.split('-').map(Number);
    if (!Number.isInteger(low) || !Number.isInteger(high)) throw new Error(`not a port list: "${text}"`);
    for (let port = low!; port <= high!; port++) ports.push(port);
  }
  return ports;
}

/**
 * Ports connect() can pick from a range, as __inet_hash_connect() scans it.
 *
 * The scan runs over `remaining = (high + 1 - low) & ~1` offsets from a per-destination starting point, one
 * parity first, then the other. With an even number of ports every port is reachable from every start.
 * With an odd number, each scan covers all but one port and which one it misses depends on the start, so
 * the last free port may be out of reach of the connect() that asks for it: EADDRNOTAVAIL one early.
 * Ports in ip_local_reserved_ports are skipped, and so is any port a bound socket already holds
 * (a bind bucket with fastreuse >= 0, e.g. Docker's DNS listener on 127.0.0.11).
 */
export function usablePorts(range: PortRange, skipped: { reserved?: readonly number[]; bound?: readonly number[] } = {}): Prediction {
  const [low, high] = range;
  const count = high - low + 1;
  const inRange = (p: number) => p >= low && p <= high;
  const taken = new Set([...(skipped.reserved ?? []), ...(skipped.bound ?? [])].filter(inRange));
  const usable = count - taken.size;
  const parts = [`${count} ports in ${low}-${high}`];
  const reserved = (skipped.reserved ?? []).filter(inRange).length;
  const bound = new Set((skipped.bound ?? []).filter(inRange)).size;
  if (reserved) parts.push(`${reserved} reserved`);
  if (bound) parts.push(`${bound} held by a bound socket`);
  if (count % 2 === 1 && count > 1) {
    return between(usable - 1, usable, `${parts.join(' - ')}; odd count: the last may be out of the scan's reach`);
  }
  return exactly(usable, parts.join(' - '));
}

export function usablePortsOf(client: ClientTheory, given?: KernelRelease): Prediction {
  const skipped = { reserved: client.reservedPorts, bound: client.boundPorts };
  if (!client.socketPortRange) return usablePorts(client.portRange, skipped);
  const kernel = given ?? client.kernel;
  if (!kernel) throw new Error('a per-socket port range needs the kernel to predict from');
  return socketRangePorts(client.portRange, client.socketPortRange, kernel, skipped);
}

/**
 * A kernel from `uname -r` and, where it says more, `uname -v`: Debian's release "6.1.0-56-amd64" is built
 * from upstream 6.1.192, which `uname -v` names ("... Debian 6.1.192-2 ..."). Without either, 0.0.0.
 */
export function kernelRelease(release: string, version = ''): KernelRelease {
  const parse = (text: string) => /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  const candidate = /Debian (\d+\.\d+)~rc(\d+)/.exec(version);
  const match = parse(candidate?.[1] ?? /Debian (\d+\.\d+\.\d+)/.exec(version)?.[1] ?? '') ?? parse(release);
  const upstream = [Number(match?.[1] ?? 0), Number(match?.[2] ?? 0), Number(match?.[3] ?? 0)] as const;
  const rc = candidate ? Number(candidate[2]) : undefined;
  return {
    release,
    upstream,
    ...(rc !== undefined && { rc }),
    name: rc !== undefined ? `${upstream[0]}.${upstream[1]}-rc${rc}` : upstream.join('.'),
    atLeast: (major, minor, patch = 0) => compareVersions(upstream, [major, minor, patch]) >= 0,
    series: (major, minor) => upstream[0] === major && upstream[1] === minor,
  };
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * IP_LOCAL_PORT_RANGE came with Linux 6.3 and was backported to the 6.1 stable series in 6.1.32 (Debian's
 * bookworm kernel has it); older kernels refuse it with ENOPROTOOPT.
 */
export function hasSocketPortRange(kernel: KernelRelease): boolean {
  return kernel.atLeast(6, 3) || (kernel.series(6, 1) && kernel.atLeast(6, 1, 32));
}

/**
 * Whether connect() searches a per-socket range (IP_LOCAL_PORT_RANGE) as it searches the namespace's: one
 * parity first, over an even count of ports. 6.8 made the search step 1 over every port of a per-socket
 * range; Debian's 6.1 (6.1.192) still steps up at 50%, 6.12 and later do not (lab matrix, 7 kernels).
 */
function socketRangeByParity(kernel: KernelRelease): boolean {
  return !kernel.atLeast(6, 8);
}

/**
 * Ports connect() can pick with IP_LOCAL_PORT_RANGE set (inet_sk_get_local_port_range): each end of the
 * socket's range applies where it lies inside the namespace's range. From 6.8 every port of it is in reach
 * (all 999 of an odd-sized one, where the namespace's own odd range gives 998 or 999); before, the search
 * covers an even count as for the namespace's range, so the last port of an odd-sized one may be out of
 * reach (Debian's 6.1.0-57 gave 998 once, 999 in other runs).
 */
export function socketRangePorts(
  namespaceRange: PortRange,
  socketRange: PortRange,
  kernel: KernelRelease,
  skipped: { reserved?: readonly number[]; bound?: readonly number[] } = {},
): Prediction {
  if (!hasSocketPortRange(kernel)) return exactly(0, `Linux ${kernel.name} has no IP_LOCAL_PORT_RANGE (6.3+, 6.1.32+): every setsockopt fails`);
  const [nsLow, nsHigh] = namespaceRange;
  const inside = (port: number) => port >= nsLow && port <= nsHigh;
  const [low, high] = [inside(socketRange[0]) ? socketRange[0] : nsLow, inside(socketRange[1]) ? socketRange[1] : nsHigh];
  const count = high - low + 1;
  const taken = new Set([...(skipped.reserved ?? []), ...(skipped.bound ?? [])].filter((p) => p >= low && p <= high)).size;
  const what = `${count} ports in ${low}-${high} (per socket)${taken ? ` - ${taken} taken` : ''}`;
  if (socketRangeByParity(kernel) && count % 2 === 1 && count > 1) {
    return between(count - taken - 1, count - taken, `${what}; before 6.8 the search covers an even count, one parity at a time: the last may be out of reach`);
  }
  return exactly(count - taken, `${what}, every one in reach`);
}

/**
 * Connections one client can hold. Plain connect() (and IP_BIND_ADDRESS_NO_PORT) pick the port knowing the
 * destination, so each (server IP, server port) has the whole range: destinations x usable ports.
 * bind(0.0.0.0:0) before connect() picks the port without a destination: one range for everything
 * (measured on 5.10 to 6.18, also with SO_REUSEADDR unless net.ipv4.ip_autobind_reuse=1).
 */
export function clientCeiling(client: ClientTheory, kernel?: KernelRelease): Prediction {
  const ports = usablePortsOf(client, kernel);
  const perRange = client.bind === 'any' || client.bind === 'reuseaddr';
  const times = perRange ? 1 : client.destinations;
  const why = perRange
    ? `bind() before connect(): one range for all destinations (${ports.why})`
    : times === 1
      ? ports.why
      : `${times} destinations x (${ports.why})`;
  return capAt(scale(ports, times, why ?? ""), client.asked);
}

/** Sum of the clients' ceilings: what the server holds when every client fills its ranges. */
export function serverHolds(ctx: TheoryContext): Prediction {
  const ceilings = ctx.clients.map((c) => clientCeiling(c, c.kernel ?? ctx.kernel));
  const sum = ceilings.reduce((acc, p) => ({ min: acc.min + p.min, max: acc.max + p.max }), { min: 0, max: 0 });
  return { ...sum, why: `sum over ${ctx.clients.length} client(s)` };
}

function scale(p: Prediction, factor: number, why: string): Prediction {
  return { min: p.min * factor, max: p.max * factor, why };
}

function capAt(p: Prediction, asked: number): Prediction {
  if (asked >= p.max) return p;
  return { min: Math.min(p.min, asked), max: asked, why: `${asked} asked, below the ceiling (${p.why})` };
}

export function contains(p: Prediction, measured: number): boolean {
  return measured >= p.min && measured <= p.max;
}

export function formatPrediction(p: Prediction): string {
  // A row the theory could not predict has no bounds (NaN, written to JSON as null).
  if (typeof p.min !== 'number' || Number.isNaN(p.min)) return '-';
  if (p.min === p.max) return String(p.min);
  if (p.max === Infinity) return `>= ${p.min}`;
  return `${p.min}-${p.max}`;
}

/**
 * Sockets one process can open: socket() and accept() take the lowest free descriptor below RLIMIT_NOFILE
 * and fail with EMFILE when there is none, so what is left is the limit less what the process already
 * holds (stdio, its epoll instance, listeners), as the program reported at start.
 */
export function descriptorsLeft(host: { nofile: number; openFilesAtStart?: number }, what = 'the process'): Prediction {
  if (host.openFilesAtStart === undefined) throw new MissingFigure(`${what} did not report the descriptors it held at start`);
  return exactly(host.nofile - host.openFilesAtStart, `RLIMIT_NOFILE ${host.nofile} - ${host.openFilesAtStart} descriptors ${what} held before its first socket`);
}

/** Connections a client holds when its open-file limit is the wall: descriptors left, per flood process. */
export function clientFdCeiling(client: ClientTheory): Prediction {
  const one = descriptorsLeft(client, 'each flood process');
  if (client.processes === 1) return capAt(one, client.asked);
  return capAt(scale(one, client.processes, `${client.processes} processes x (${one.why})`), client.asked);
}

/** Connections the server program can accept: descriptors left in each worker. */
export function serverAccepts(ctx: TheoryContext): Prediction {
  const one = descriptorsLeft(ctx.server, 'each server worker');
  return ctx.server.workers === 1 ? one : scale(one, ctx.server.workers, `${ctx.server.workers} workers x (${one.why})`);
}

/**
 * What the server's kernel holds once its program cannot accept: what it accepted, plus a full accept queue
 * per listener (backlog + 1: the queue counts as full when it holds more than backlog) of connections whose
 * handshake the kernel finished and that no program holds.
 */
export function acceptedPlusQueues(ctx: TheoryContext): Prediction {
  const accepted = serverAccepts(ctx);
  const listeners = ctx.server.ports.length * ctx.server.workers;
  const queued = listeners * (ctx.server.backlog + 1);
  return { min: accepted.min + queued, max: accepted.max + queued, why: `${accepted.why}, plus ${listeners} accept queue(s) of backlog ${ctx.server.backlog} + 1` };
}

/** connscale: every held connection pings once per interval, so pings/s = connections / interval (within 5%). */
export function pingRate(client: ClientTheory, connections = client.asked): Prediction {
  if (!client.holdPing) throw new Error(`${client.name} holds no connscale ping`);
  const rate = (connections * 1000) / client.holdPing.intervalMs;
  return between(Math.floor(rate * 0.95), Math.ceil(rate * 1.05), `${connections} connections / ${client.holdPing.intervalMs} ms = ${Math.round(rate)} pings/s (within 5%: the first and last interval)`);
}

/**
 * The slab objects behind one connection end held by an epoll program: the socket (struct tcp_sock, from
 * the TCP cache), its inode, the descriptor's file and dentry, the epoll registration and its head, and with
 * an LSM its blobs. Caches this kernel does not have (or merges into others) are left out. Each connection
 * also takes one conntrack entry where bridged traffic is tracked.
 */
export const END_SLAB_OBJECTS: ReadonlyArray<{ cache: string; why: string }> = [
  { cache: 'TCP', why: 'struct tcp_sock' },
  { cache: 'sock_inode_cache', why: "the socket's inode" },
  { cache: 'filp', why: 'the struct file behind the descriptor' },
  { cache: 'dentry', why: "the socket file's dentry" },
  { cache: 'eventpoll_epi', why: 'the epoll registration' },
  { cache: 'ep_head', why: "the file's list of epoll watchers" },
  { cache: 'lsm_file_cache', why: "the LSM's blob for the file" },
  { cache: 'lsm_inode_cache', why: "the LSM's blob for the inode" },
];
export const CONNTRACK_CACHE = 'nf_conntrack';

/**
 * Objects per connection the theory expects in each slab cache: both ends on this one kernel, and conntrack
 * entries where traffic is tracked: one in the host's table (bridged traffic, br_netfilter) and one in each
 * container's namespace, where Docker's NAT rules for its DNS resolver load conntrack too.
 */
export function slabObjectsPerConnection(sizes: Readonly<Record<string, number>>, tracked: boolean): Array<{ cache: string; objects: number; why: string }> {
  const ends = END_SLAB_OBJECTS.filter((o) => sizes[o.cache]).map((o) => ({ cache: o.cache, objects: 2, why: `${o.why}, one per end` }));
  const conntrack = { cache: CONNTRACK_CACHE, objects: 3, why: "one entry in the host's table and one in each end's namespace" };
  return tracked && sizes[CONNTRACK_CACHE] ? [...ends, conntrack] : ends;
}

/** The part of a connection's slab the theory does not name, at most: see slabBytesPerConnection. */
const UNNAMED_SLAB_MAX = 0.4;

/** Bytes of slab objects per connection, both ends and conntrack, from this kernel's object sizes, and at most with what the theory does not name. */
export function connectionSlabBytes(sizes: Readonly<Record<string, number>>, tracked: boolean): { bytes: number; max: number; terms: string } | undefined {
  const objects = slabObjectsPerConnection(sizes, tracked);
  if (!objects.length) return undefined;
  const bytes = objects.reduce((sum, o) => sum + o.objects * sizes[o.cache]!, 0);
  return { bytes, max: Math.round(bytes * (1 + UNNAMED_SLAB_MAX)), terms: objects.map((o) => `${o.objects} x ${o.cache} ${sizes[o.cache]} B`).join(' + ') };
}

/**
 * Bytes of slab objects per connection, both ends and conntrack, from this kernel's object sizes. The band's
 * top allows for objects in caches merged under other names (the ports' bind buckets) and per-object slack.
 */
export function slabBytesPerConnection(ctx: TheoryContext, tracked = ctx.tracked ?? true): Prediction {
  const slab = connectionSlabBytes(ctx.slabObjectSizes ?? {}, tracked);
  if (!slab) throw new MissingFigure('no slab object sizes were read (/proc/slabinfo)');
  return between(
    Math.round(slab.bytes * 0.95),
    slab.max,
    `${slab.terms} = ${slab.bytes} B; up to ${UNNAMED_SLAB_MAX * 100}% more the theory does not name: the ports' bind buckets (merged into a 128 B cache), /proc inodes and dentries for the programs' descriptors`,
  );
}

/**
 * Since 6.12, inet_csk_accept() charges the accepted socket's slab object to the accepting process's cgroup
 * (kmem_cache_charge), but only where socket accounting is on for that cgroup (cgroup v2, or v1 once a TCP
 * limit is written, which the lab does).
 */
function acceptChargesSocket(ctx: TheoryContext): boolean {
  return ctx.kernel.atLeast(6, 12) && ctx.server.socketsAccounted === true;
}

/**
 * Kernel memory charged to one end's own memory cgroup, per connection. The client end's objects are all
 * allocated in its process (socket(), connect()). The server end's struct tcp_sock is not: the kernel
 * creates it in softirq when the handshake's last ACK arrives, before any accept(), and charges it to no
 * cgroup; accept() then allocates the file, inode and dentry in the server's process.
 */
export function endCgroupBytes(ctx: TheoryContext, end: 'server' | 'client'): Prediction {
  const sizes = ctx.slabObjectSizes ?? {};
  const socketCharged = end === 'client' || acceptChargesSocket(ctx);
  const objects = END_SLAB_OBJECTS.filter((o) => sizes[o.cache] && (socketCharged || o.cache !== 'TCP'));
  if (!objects.length) throw new MissingFigure('no slab object sizes were read (/proc/slabinfo)');
  const bytes = objects.reduce((sum, o) => sum + sizes[o.cache]!, 0);
  const left =
    end === 'client'
      ? ''
      : socketCharged
        ? '; accept() charges the struct tcp_sock the kernel made in softirq (kmem_cache_charge, 6.12+, with socket accounting on)'
        : '; the struct tcp_sock, made in softirq before accept(), is charged to no cgroup (before 6.12, or without socket accounting)';
  return between(Math.round(bytes * 0.95), Math.round(bytes * 1.3), `${objects.map((o) => `${o.cache} ${sizes[o.cache]} B`).join(' + ')} = ${bytes} B${left}; from 5% less (charges batched per CPU) to 30% more (bind buckets, slack)`);
}


/**
 * Whether connect()'s port search takes one parity first: with the namespace's range always (since 4.2:
 * connect() even ports, bind() odd); with a per-socket range (IP_LOCAL_PORT_RANGE) only before 6.8, which
 * made its step 1 (socketRangeByParity).
 */
export function searchesByParity(client: ClientTheory, kernel: KernelRelease): boolean {
  return !client.socketPortRange || socketRangeByParity(kernel);
}

/**
 * How much dearer a connect() is once the first parity is all taken: at least this (measured 1.8x to 21x on
 * six kernels from 5.10 to 7.3 under emulation and 3.7x in containers here; 3x to 5x most often), and how
 * much a search without a step may vary (up to 2.1x measured: a few calls land in a fast or a slow mode).
 */
export const PARITY_STEP_MIN = 1.5;
export const NO_STEP_MAX = 2.5;

/**
 * The cost of one connect() with `percent` of its ports in use, as a multiple of its cost on an almost empty
 * range. The search starts where the last one for that destination ended (the hint grows by the ports it
 * tried), so while free ports lie next to it a connect() costs what it does on an empty range. With parity,
 * once every port of the first parity is taken (50%), each connect() first walks that whole half in vain:
 * a step up. The 6.15 series made each port checked cheaper by taking no lock (RCU); with one client process
 * nothing contends for those locks, so the lab predicts the same step before and after it.
 */
export function connectCostAt(client: ClientTheory, kernel: KernelRelease, percent: number): Prediction {
  if (client.socketPortRange && !hasSocketPortRange(kernel)) return doesNotApply(`Linux ${kernel.name} has no IP_LOCAL_PORT_RANGE`);
  const parity = searchesByParity(client, kernel);
  const how = client.socketPortRange ? 'a per-socket range' : "the namespace's range";
  if (parity && percent >= 50) {
    return atLeast(PARITY_STEP_MIN, `${how} on ${kernel.name}: one parity first, all of it taken at 50%, so each connect() walks half the range in vain`);
  }
  if (parity) return between(0.5, 2, 'the first parity still has free ports next to the last one taken');
  return between(0, NO_STEP_MAX, `${how} on ${kernel.name}: step 1, no parity halves, no step; the next free port is next to the last one taken`);
}
