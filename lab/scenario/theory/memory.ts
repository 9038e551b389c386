/** Kernel memory per connection: the slab objects behind each end, and what each end's memory cgroup is charged. */
import type { Prediction } from '../types.ts';
import type { Family, TheoryContext } from './context.ts';
import { between, MissingFigure } from './prediction.ts';

/**
 * The slab cache of an end's socket, by family: an IPv6 socket is a struct tcp6_sock (tcp_sock and its
 * ipv6_pinfo), from a cache of its own with its own object size.
 */
export const SOCKET_CACHES = {
  ipv4: { cache: 'TCP', why: 'struct tcp_sock' },
  ipv6: { cache: 'TCPv6', why: 'struct tcp6_sock (tcp_sock and ipv6_pinfo)' },
} as const;

/**
 * The other slab objects behind one connection end held by an epoll program: the socket's inode, the
 * descriptor's file and dentry, the epoll registration and its head, and with an LSM its blobs. Caches this
 * kernel does not have are left out. Each connection also takes one conntrack entry where bridged traffic is
 * tracked.
 */
export const END_FILE_OBJECTS: ReadonlyArray<{ cache: string; why: string }> = [
  { cache: 'sock_inode_cache', why: "the socket's inode" },
  { cache: 'filp', why: 'the struct file behind the descriptor' },
  { cache: 'dentry', why: "the socket file's dentry" },
  { cache: 'eventpoll_epi', why: 'the epoll registration' },
  { cache: 'ep_head', why: "the file's list of epoll watchers" },
  { cache: 'lsm_file_cache', why: "the LSM's blob for the file" },
  { cache: 'lsm_inode_cache', why: "the LSM's blob for the inode" },
];
export const CONNTRACK_CACHE = 'nf_conntrack';

/** Every slab cache the theory names: what the collectors read the sizes of inside each host. */
export const NAMED_SLAB_CACHES: readonly string[] = [
  ...Object.values(SOCKET_CACHES).map((s) => s.cache),
  ...END_FILE_OBJECTS.map((o) => o.cache),
  CONNTRACK_CACHE,
];

/** The family a case's connections use (IPv4 unless its clients say otherwise). */
export function caseFamily(ctx: Pick<TheoryContext, 'client' | 'clients'>): Family {
  return ctx.client?.family ?? ctx.clients[0]?.family ?? 'ipv4';
}

/**
 * Objects per connection end, cache by cache: its socket (a 'dual' case's connections are half IPv4, half
 * IPv6), then the rest, for the caches this kernel has (sizes). Without the socket where it is charged elsewhere.
 */
export function endSlabObjects(
  sizes: Readonly<Record<string, number>>,
  family: Family = 'ipv4',
  withSocket = true,
): Array<{ cache: string; objects: number; why: string }> {
  const sockets = family === 'dual' ? [SOCKET_CACHES.ipv4, SOCKET_CACHES.ipv6] : [SOCKET_CACHES[family]];
  const socketObjects = withSocket ? sockets.map((s) => ({ ...s, objects: 1 / sockets.length })) : [];
  return [...socketObjects, ...END_FILE_OBJECTS.map((o) => ({ ...o, objects: 1 }))].filter((o) => sizes[o.cache]);
}

/**
 * Objects per connection the theory expects in each slab cache: both ends on this one kernel, and conntrack
 * entries where traffic is tracked: one in the host's table (bridged traffic, br_netfilter) and one in each
 * container's namespace, where Docker's NAT rules for its DNS resolver load conntrack too.
 */
export function slabObjectsPerConnection(
  sizes: Readonly<Record<string, number>>,
  tracked: boolean,
  family: Family = 'ipv4',
): Array<{ cache: string; objects: number; why: string }> {
  const ends = endSlabObjects(sizes, family).map((o) => ({ cache: o.cache, objects: 2 * o.objects, why: `${o.why}, one per end` }));
  const conntrack = { cache: CONNTRACK_CACHE, objects: 3, why: "one entry in the host's table and one in each end's namespace" };
  return tracked && sizes[CONNTRACK_CACHE] ? [...ends, conntrack] : ends;
}

/** The part of a connection's slab the theory does not name, at most: see slabBytesPerConnection. */
const UNNAMED_SLAB_MAX = 0.4;

/** Bytes of slab objects per connection, both ends and conntrack, from this kernel's object sizes, and at most with what the theory does not name. */
export function connectionSlabBytes(
  sizes: Readonly<Record<string, number>>,
  tracked: boolean,
  family: Family = 'ipv4',
): { bytes: number; max: number; terms: string } | undefined {
  const objects = slabObjectsPerConnection(sizes, tracked, family);
  if (!objects.length) return undefined;
  const bytes = objects.reduce((sum, o) => sum + o.objects * sizes[o.cache]!, 0);
  return {
    bytes,
    max: Math.round(bytes * (1 + UNNAMED_SLAB_MAX)),
    terms: objects.map((o) => `${o.objects} x ${o.cache} ${sizes[o.cache]} B`).join(' + '),
  };
}

/**
 * Bytes of slab objects per connection, both ends and conntrack, from this kernel's object sizes. The band's
 * top allows for objects in caches merged under other names (the ports' bind buckets) and per-object slack.
 */
export function slabBytesPerConnection(ctx: TheoryContext, tracked = ctx.tracked ?? true): Prediction {
  const slab = connectionSlabBytes(ctx.slabObjectSizes ?? {}, tracked, caseFamily(ctx));
  if (!slab) throw new MissingFigure('no slab object sizes were read (/sys/kernel/slab, /proc/slabinfo)');
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
  const objects = endSlabObjects(sizes, caseFamily(ctx), socketCharged);
  if (!objects.length) throw new MissingFigure('no slab object sizes were read (/sys/kernel/slab, /proc/slabinfo)');
  const bytes = objects.reduce((sum, o) => sum + o.objects * sizes[o.cache]!, 0);
  const left =
    end === 'client'
      ? ''
      : socketCharged
        ? '; accept() charges the struct tcp_sock the kernel made in softirq (kmem_cache_charge, 6.12+, with socket accounting on)'
        : '; the struct tcp_sock, made in softirq before accept(), is charged to no cgroup (before 6.12, or without socket accounting)';
  return between(
    Math.round(bytes * 0.95),
    Math.round(bytes * 1.3),
    `${objects.map((o) => `${o.objects === 1 ? '' : `${o.objects} x `}${o.cache} ${sizes[o.cache]} B`).join(' + ')} = ${bytes} B${left}; from 5% less (charges batched per CPU) to 30% more (bind buckets, slack)`,
  );
}
