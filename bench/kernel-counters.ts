/**
 * What a hold cost, read from the machine before and after it: CPU time of the containers' processes (their
 * cpuacct cgroups: the exact total, split into user and system as the ticks sampled it), the context switches and run-queue waits of every task in them
 * (/proc/<pid>/status, /proc/<pid>/schedstat) and the TCP segments their namespaces retransmitted, and the
 * machine's softirq time and counts and its input backlogs' drops (/proc/stat, /proc/softirqs,
 * /proc/net/softnet_stat: host-wide, so another user's work shows in them too).
 */
import { readFile } from 'node:fs/promises';
import type { Container } from '../lab/runtime/docker/plain-engine.ts';

const CPUACCT = '/sys/fs/cgroup/cpuacct/docker';
const USER_HZ = 100;

export interface Counters {
  /**
   * Seconds. This kernel samples user and system time at each tick (CONFIG_TICK_CPU_ACCOUNTING, 250 Hz): light
   * work paced by timers can fall between ticks and all but vanish. Their sum is made the exact CPU time
   * (cpuacct.usage, from the scheduler's runtimes) by `difference`; the split stays the ticks'.
   */
  user: number;
  system: number;
  /** The exact CPU time of the containers' tasks, s: softirq work done in their context is in it. */
  cpu: number;
  voluntarySwitches: number;
  involuntarySwitches: number;
  /** Seconds the containers' tasks waited on a run queue (schedstat's second field). */
  runQueueWait: number;
  /** Machine-wide softirq seconds (/proc/stat: tick-sampled, without IRQ time accounting here), and NET_RX, NET_TX, TIMER softirqs raised. */
  softirq: number;
  netRx: number;
  netTx: number;
  timer: number;
  /** Packets the machine's per-CPU input backlogs dropped (/proc/net/softnet_stat: over netdev_max_backlog). */
  backlogDrops: number;
  /** TCP segments the rig's namespaces retransmitted (their /proc/net/snmp, Tcp RetransSegs). */
  retransmitted: number;
}

const readText = (path: string) => readFile(path, 'utf8').catch(() => '');
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

type ContainerCounters = Pick<Counters, 'user' | 'system' | 'cpu' | 'voluntarySwitches' | 'involuntarySwitches' | 'runQueueWait' | 'retransmitted'>;

async function cgroupCounters(container: Container): Promise<ContainerCounters> {
  const dir = `${CPUACCT}/${container.id}`;
  const [userNs, systemNs, totalNs, tasks] = await Promise.all([
    readText(`${dir}/cpuacct.usage_user`),
    readText(`${dir}/cpuacct.usage_sys`),
    readText(`${dir}/cpuacct.usage`),
    readText(`${dir}/tasks`),
  ]);
  // Any task of the container sees its namespace's counters.
  const snmp = await readText(`/proc/${tasks.split('\n')[0]}/net/snmp`);
  if (!userNs) throw new Error(`no cpuacct cgroup at ${dir}: the hold part reads cgroup v1's cpuacct`);
  const perTask = await Promise.all(
    tasks
      .split('\n')
      .filter(Boolean)
      .map(async (tid) => {
        const [status, schedstat] = await Promise.all([readText(`/proc/${tid}/status`), readText(`/proc/${tid}/schedstat`)]);
        const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
        return {
          voluntary: field('voluntary_ctxt_switches'),
          involuntary: field('nonvoluntary_ctxt_switches'),
          waitNs: Number(schedstat.split(' ')[1] ?? 0),
        };
      }),
  );
  return {
    user: Number(userNs) / 1e9,
    system: Number(systemNs) / 1e9,
    cpu: Number(totalNs) / 1e9,
    voluntarySwitches: sum(perTask.map((t) => t.voluntary)),
    involuntarySwitches: sum(perTask.map((t) => t.involuntary)),
    runQueueWait: sum(perTask.map((t) => t.waitNs)) / 1e9,
    retransmitted: snmpField(snmp, 'Tcp', 'RetransSegs'),
  };
}

/** A field of /proc/net/snmp: a line of names, then a line of values, per protocol. */
function snmpField(text: string, proto: string, name: string): number {
  const [names, values] = text.split('\n').filter((l) => l.startsWith(`${proto}:`));
  const i = names?.split(/\s+/).indexOf(name) ?? -1;
  return i > 0 ? Number(values?.split(/\s+/)[i] ?? 0) : 0;
}

/** Packets dropped by the per-CPU backlogs, summed over the CPUs (second column, hex). */
function backlogDrops(text: string): number {
  return sum(
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => parseInt(l.split(' ')[1] ?? '0', 16)),
  );
}

/** A softirq's count summed over the CPUs, from /proc/softirqs. */
function softirqCount(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.trim().startsWith(`${name}:`));
  return sum((line ?? '').split(':')[1]?.trim().split(/\s+/).map(Number) ?? []);
}

export async function readCounters(containers: Container[]): Promise<Counters> {
  const [perContainer, stat, softirqs, softnet] = await Promise.all([
    Promise.all(containers.map(cgroupCounters)),
    readText('/proc/stat'),
    readText('/proc/softirqs'),
    readText('/proc/net/softnet_stat'),
  ]);
  // cpu  user nice system idle iowait irq softirq ...
  const cpu = stat.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return {
    user: sum(perContainer.map((c) => c.user)),
    system: sum(perContainer.map((c) => c.system)),
    cpu: sum(perContainer.map((c) => c.cpu)),
    voluntarySwitches: sum(perContainer.map((c) => c.voluntarySwitches)),
    involuntarySwitches: sum(perContainer.map((c) => c.involuntarySwitches)),
    runQueueWait: sum(perContainer.map((c) => c.runQueueWait)),
    softirq: (cpu[6] ?? 0) / USER_HZ,
    netRx: softirqCount(softirqs, 'NET_RX'),
    netTx: softirqCount(softirqs, 'NET_TX'),
    timer: softirqCount(softirqs, 'TIMER'),
    backlogDrops: backlogDrops(softnet),
    retransmitted: sum(perContainer.map((c) => c.retransmitted)),
  };
}

/**
 * after - before, field by field, with user and system scaled to add up to the exact CPU time (all of it system
 * where no tick fell in). A task gone in between (a process that exited) makes its own fields shrink: rare here.
 */
export function difference(before: Counters, after: Counters): Counters {
  const d = Object.fromEntries(Object.keys(after).map((k) => [k, after[k as keyof Counters] - before[k as keyof Counters]])) as unknown as Counters;
  const sampled = d.user + d.system;
  const userShare = sampled > 0 ? d.user / sampled : 0;
  return { ...d, user: d.cpu * userShare, system: d.cpu * (1 - userShare) };
}
