/**
 * Connection tracking inside one host's namespace (a NAT gateway's): how many entries it holds and its
 * ceiling (/proc/sys/net/netfilter), and the kernel's counters of what went wrong, per CPU in
 * /proc/net/stat/nf_conntrack (what `conntrack -S` prints; readable without CAP_NET_ADMIN, which conntrack's
 * netlink needs). Both are the namespace's own; the ceiling is the machine's (read-only in a namespace).
 */
import type { Host } from '../runtime/runtime.ts';

export interface ConntrackReading {
  count: number;
  max: number;
  /** A new entry clashed with one already in the table as it was confirmed: the packet is dropped (a NAT port taken twice). */
  insertFailed: number;
  /** The table was full and no entry could be evicted: "nf_conntrack: table full, dropping packet". */
  drop: number;
  /** Entries evicted to make room in a full table. */
  earlyDrop: number;
}

export const CONNTRACK_SCRIPT = [
  "echo '### count'",
  'cat /proc/sys/net/netfilter/nf_conntrack_count',
  "echo '### max'",
  'cat /proc/sys/net/netfilter/nf_conntrack_max',
  "echo '### stat'",
  'cat /proc/net/stat/nf_conntrack',
].join('; ');

/** The columns of /proc/net/stat/nf_conntrack by their header's names, summed over the CPUs' lines (hexadecimal). */
export function parseConntrackStat(text: string): Record<string, number> {
  const [header, ...lines] = text.trim().split('\n');
  const names = (header ?? '').trim().split(/\s+/);
  const sums: Record<string, number> = {};
  for (const line of lines) {
    line
      .trim()
      .split(/\s+/)
      .forEach((value, i) => {
        const name = names[i];
        if (name && /^[0-9a-f]+$/i.test(value)) sums[name] = (sums[name] ?? 0) + parseInt(value, 16);
      });
  }
  return sums;
}

export function parseConntrack(text: string): ConntrackReading {
  const sections = new Map<string, string>();
  for (const part of text.split(/^### /m).slice(1)) {
    const newline = part.indexOf('\n');
    sections.set(part.slice(0, newline).trim(), part.slice(newline + 1));
  }
  const number = (name: string) => {
    const value = Number((sections.get(name) ?? '').trim());
    if (!Number.isFinite(value) || (sections.get(name) ?? '').trim() === '') throw new Error(`conntrack's ${name} was not read`);
    return value;
  };
  const stat = parseConntrackStat(sections.get('stat') ?? '');
  const counter = (name: string) => {
    if (stat[name] === undefined) throw new Error(`/proc/net/stat/nf_conntrack has no column ${name}`);
    return stat[name]!;
  };
  return {
    count: number('count'),
    max: number('max'),
    insertFailed: counter('insert_failed'),
    drop: counter('drop'),
    earlyDrop: counter('early_drop'),
  };
}

/** The host's own connection tracking, read inside it. */
export async function readConntrack(host: Host): Promise<ConntrackReading> {
  const result = await host.exec(['sh', '-c', CONNTRACK_SCRIPT]);
  if (result.exitCode !== 0) throw new Error(`conntrack could not be read in ${host.plan.name}: ${result.stderr.trim()}`);
  return parseConntrack(result.stdout);
}
