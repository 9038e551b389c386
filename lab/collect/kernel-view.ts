/**
 * The kernel's view from inside one host, read in a single exec: `ss -s`, nstat, listening ports, the
 * sysctls that decide the experiments, and the open-file limit the host's processes really got.
 */
import type { Host } from '../runtime/runtime.ts';
import { parseListenBacklogs, parseListeners, parseListeningPorts, type Listener } from './listeners.ts';
import { parseNstat } from './nstat.ts';
import { parseSsSummary, type SsSummary } from './ss.ts';
import { parseSysctlLines, readSysctlsScript } from './sysctls.ts';
import { CGROUP_MEMORY_SCRIPT, SLABINFO_SCRIPT, parseCgroupMemory, parseSlabinfo, type CgroupMemory, type SlabObjects } from './memory.ts';
import { SLAB_SIZES_SCRIPT, parseSlabSizes, type SlabCacheSizes } from './slab-caches.ts';
import { LABCLIENT, LABSERVER } from '../programs/programs.ts';

/** The programs whose memory is the lab's own in a host: the ones that hold connections for the case. */
const HOLDING_PROGRAMS = [LABSERVER.name, LABCLIENT.name];

/**
 * RSS of the lab's programs in this host's network namespace, KiB. A walk of /proc rather than `ps -C`:
 * busybox (in VMs) has no -C, and namespaces on one machine share a process table.
 */
const PROGRAM_RSS = [
  'me=$(readlink /proc/self/ns/net); s=0;',
  `for f in $(grep -lE "^Name:[[:space:]]+(${HOLDING_PROGRAMS.join('|')})$" /proc/[0-9]*/status 2>/dev/null); do`,
  'if [ "$(readlink ${f%/status}/ns/net 2>/dev/null)" = "$me" ]; then r=$(awk \'/^VmRSS:/ { print $2 }\' $f 2>/dev/null); s=$((s + ${r:-0})); fi;',
  'done; echo $s',
].join(' ');

/** Four lines: uname -r, uname -v, the boot id, conntrack's ceiling (empty where conntrack is not loaded). */
const MACHINE_SCRIPT = 'uname -r; uname -v; cat /proc/sys/kernel/random/boot_id; cat /proc/sys/net/netfilter/nf_conntrack_max 2>/dev/null || echo';

export const READ_BACK_SYSCTLS = [
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.core.somaxconn',
  'net.ipv4.tcp_tw_reuse',
  'net.ipv4.tcp_max_syn_backlog',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_fin_timeout',
];

export interface KernelView {
  ss: SsSummary;
  /** Resident memory of the lab's programs in this host (labserver, labclient), KiB. */
  programRssKiB: number;
  /** Host-wide: the kernel's slab and the TCP buffer pages (the same from any host on one kernel). */
  hostMemory: { slabKiB: number; tcpMemPages: number };
  nstat: Record<string, number>;
  listeningPorts: number[];
  /** The listening sockets, with their addresses ("127.0.0.11", "*", "::"): which ports bind() to an address meets. */
  listeners?: Listener[];
  /** Backlog per listening port, as the kernel set it. */
  listenBacklogs: Record<string, number>;
  sysctls: Record<string, string>;
  nofile: number;
  /** Host-wide: packets the kernel dropped before any protocol saw them (a CPU's backlog full), since boot. */
  softnetDropped: number;
  /** The host's own memory cgroup, where it has one. */
  cgroupMemory?: CgroupMemory;
  /** Host-wide: the slab caches' active objects. */
  slabObjects: SlabObjects;
  /** The object and slab sizes of the caches the memory theory names (/sys/kernel/slab), where the kernel has them. */
  slabSizes?: SlabCacheSizes;
  /** The kernel the host runs on (the same from every host on one machine) and conntrack's ceiling, where it has one. */
  machine?: MachineOfHost;
}

/** The kernel under a host, as read inside it: hosts on one machine share its boot id. */
export interface MachineOfHost {
  release: string;
  version: string;
  bootId: string;
  conntrackMax?: number;
}

/**
 * Listing listeners walks every socket of the namespace (seconds with a million held), so it is read only
 * before the flood, when the theory needs it.
 */
export function collectorScript(extraSysctls: string[], listeners = true, ownCgroup = false): string {
  const names = [...new Set([...READ_BACK_SYSCTLS, ...extraSysctls])];
  return [
    "echo '### ss'",
    'ss -s',
    "echo '### nstat'",
    'nstat -asz',
    "echo '### listen'",
    listeners ? 'ss -Htln' : 'true',
    "echo '### sysctl'",
    readSysctlsScript(names),
    "echo '### nofile'",
    'ulimit -Hn',
    "echo '### rss'",
    PROGRAM_RSS,
    "echo '### meminfo'",
    "grep '^Slab:' /proc/meminfo",
    "echo '### sockstat'",
    'cat /proc/net/sockstat',
    "echo '### softnet'",
    'cat /proc/net/softnet_stat',
    "echo '### slabinfo'",
    SLABINFO_SCRIPT,
    "echo '### slabsizes'",
    SLAB_SIZES_SCRIPT,
    "echo '### cgroup'",
    ownCgroup ? CGROUP_MEMORY_SCRIPT : 'true',
    "echo '### machine'",
    MACHINE_SCRIPT,
  ].join('; ');
}

export function parseKernelView(text: string, memoryCgroup?: { tcpAccounted: boolean }): KernelView {
  const sections = new Map<string, string>();
  for (const part of text.split(/^### /m).slice(1)) {
    const newline = part.indexOf('\n');
    sections.set(part.slice(0, newline).trim(), part.slice(newline + 1));
  }
  const section = (name: string) => {
    const s = sections.get(name);
    if (s === undefined) throw new Error(`collector output has no "${name}" section`);
    return s;
  };
  const sysctls = parseSysctlLines(section('sysctl'));
  const counters = parseNstat(section('nstat'));
  return {
    ss: parseSsSummary(section('ss')),
    nstat: counters,
    listeningPorts: parseListeningPorts(section('listen')),
    listeners: parseListeners(section('listen')),
    listenBacklogs: parseListenBacklogs(section('listen')),
    sysctls,
    nofile: Number(section('nofile').trim()),
    softnetDropped: parseSoftnetDropped(section('softnet')),
    programRssKiB: Number(section('rss').trim()),
    slabObjects: parseSlabinfo(sections.get('slabinfo') ?? ''),
    slabSizes: parseSlabSizes(sections.get('slabsizes') ?? ''),
    ...(memoryCgroup && withCgroup(sections.get('cgroup') ?? '', memoryCgroup.tcpAccounted)),
    ...withMachine(sections.get('machine')),
    hostMemory: {
      slabKiB: Number(/^Slab:\s+(\d+)/m.exec(section('meminfo'))?.[1] ?? NaN),
      tcpMemPages: Number(/^TCP:.*\bmem (\d+)/m.exec(section('sockstat'))?.[1] ?? NaN),
    },
  };
}

export async function readKernelView(host: Host, options: { listeners: boolean } = { listeners: true }): Promise<KernelView> {
  // A host with an IPv6 address: whether [::] covers IPv4 too decides which ports bind() meets.
  const extra = [...Object.keys(host.plan.sysctls), ...(host.plan.ip6 ? ['net.ipv6.bindv6only'] : [])];
  const result = await host.exec(['sh', '-c', collectorScript(extra, options.listeners, !!host.memoryCgroup)]);
  if (result.exitCode !== 0) throw new Error(`collector failed on ${host.plan.name}: ${result.stderr.trim()}`);
  return parseKernelView(result.stdout, host.memoryCgroup);
}

function withCgroup(text: string, tcpAccounted: boolean): { cgroupMemory?: CgroupMemory } {
  const cgroupMemory = parseCgroupMemory(text, tcpAccounted);
  return cgroupMemory ? { cgroupMemory } : {};
}

function withMachine(text: string | undefined): { machine?: MachineOfHost } {
  const [release, version, bootId, conntrackMax] = (text ?? '').split('\n').map((line) => line.trim());
  if (!release || !bootId) return {};
  return { machine: { release, version: version ?? '', bootId, ...(conntrackMax && { conntrackMax: Number(conntrackMax) }) } };
}

/** /proc/net/softnet_stat: one line per CPU, hexadecimal columns; the second is packets dropped. */
export function parseSoftnetDropped(text: string): number {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((columns) => columns.length > 1)
    .reduce((sum, columns) => sum + parseInt(columns[1]!, 16), 0);
}
