/**
 * The middle tier in a report: the case's legs (who connected to whom, through which host), a gateway's
 * connection tracking, and whom the server saw its connections from. Lines of text every view shows.
 */
import type { CaseResult, HostResult } from '../results/results.ts';

/** "client-1..client-4": hosts named alike, shortened. */
function names(hosts: readonly string[]): string {
  return hosts.length > 2 ? `${hosts[0]}..${hosts.at(-1)} (${hosts.length})` : hosts.join(', ');
}

function endpoints(list: readonly string[]): string {
  return list.length > 3 ? `${list.slice(0, 3).join(', ')} and ${list.length - 3} more` : list.join(', ');
}

/** Empty for a case without a middle host: its one leg goes without saying. */
export function tierLines(c: CaseResult): string[] {
  const middle = c.hosts.find((h) => h.role !== 'server' && h.role !== 'client');
  if (!middle) return [];
  const byName = new Map(c.hosts.map((h) => [h.name, h]));
  const lines = (c.legs ?? []).map((leg, i) => {
    const through = leg.via ? ` through ${leg.via} ${byName.get(leg.via)?.ip ?? ''}`.trimEnd() : '';
    const from = leg.from.map((n) => byName.get(n)).filter((h): h is HostResult => !!h);
    const sourceIps = from.length === 1 ? ` (from ${[from[0]!.ip, ...(from[0]!.ips?.slice(1) ?? [])].join(', ')})` : '';
    return `leg ${i + 1}: ${names(leg.from)}${sourceIps} -> ${leg.to} ${endpoints(leg.endpoints)}${through}`;
  });
  for (const h of c.hosts.filter((host) => host.conntrack)) {
    const t = h.conntrack!;
    lines.push(
      `${h.name} conntrack (its own namespace): ${t.count.toLocaleString('en-US')} entries, nf_conntrack_max ${t.max.toLocaleString('en-US')} (machine-wide); insert_failed ${t.insertFailed}, drop ${t.drop}, early_drop ${t.earlyDrop}`,
    );
  }
  const server = c.hosts.find((h) => h.role === 'server');
  if (server?.peers) {
    const total = Object.values(server.peers).reduce((a, b) => a + b, 0);
    const each = Object.entries(server.peers).map(([address, n]) => `${address} ${n.toLocaleString('en-US')}`);
    lines.push(
      `${server.name}: ${total.toLocaleString('en-US')} of its ${server.estab.toLocaleString('en-US')} connections from ${middle.name}'s address(es) (${each.join(', ')})`,
    );
  }
  return lines;
}
