/**
 * A client's established connections per local address, counted by its kernel: `ss -Htn state established
 * src <address>` for each of its addresses (an IPv6 one in brackets, as ss's filter wants it).
 */
import type { CasePlan } from '../plan/plan.ts';
import type { Host } from '../runtime/runtime.ts';

/** One "address count" line per address ss could count; none for an address it could not (never a made-up 0). */
export function sourcesScript(addresses: readonly string[], side: 'src' | 'dst' = 'src'): string {
  const file = '/tmp/lab-sources-$$';
  const counts = addresses.map((a) => {
    const filter = a.includes(':') ? `[${a}]` : a;
    return `ss -Htn state established ${side} '${filter}' > ${file} && printf '%s %s\\n' '${a}' "$(wc -l < ${file})"`;
  });
  return [...counts, `rm -f ${file}`].join('; ');
}

export function parseSources(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [address, count] = line.trim().split(/\s+/);
    if (address && count !== undefined && /^\d+$/.test(count)) counts[address] = Number(count);
  }
  return counts;
}

/**
 * Each client's connections per local address, counted by its kernel after the flood, where it has several
 * addresses, one of IPv6, or the case claims something per address; by host name. A host that vanished (no
 * view) is not read.
 */
export async function readSources(hosts: readonly Host[], views: readonly unknown[], plan: CasePlan): Promise<Map<string, Record<string, number>>> {
  const perAddress = plan.expectations.some((e) => e.subject === 'each address');
  const addressesOf = (host: Host) => plan.clients.find((c) => c.name === host.plan.name)?.addresses ?? [];
  const counted = hosts.filter((h, i) => {
    const addresses = addressesOf(h);
    return views[i] !== undefined && addresses.length > 0 && (addresses.length > 1 || perAddress || addresses.some((a) => a.family === 'ipv6'));
  });
  const counts = await Promise.all(
    counted.map((h) =>
      countSources(
        h,
        addressesOf(h).map((a) => a.address),
      ),
    ),
  );
  return new Map(counted.map((h, i) => [h.plan.name, counts[i]!]));
}

async function countSources(host: Host, addresses: readonly string[]): Promise<Record<string, number>> {
  const result = await host.exec(['sh', '-c', sourcesScript(addresses)]);
  return parseSources(result.stdout);
}

/**
 * The server's established connections per peer address, for the middle host's addresses: through a NAT
 * gateway every connection should come from one of them.
 */
export async function readPeers(server: Host, addresses: readonly string[]): Promise<Record<string, number>> {
  const result = await server.exec(['sh', '-c', sourcesScript(addresses, 'dst')]);
  return parseSources(result.stdout);
}
