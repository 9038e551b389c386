/**
 * A NAT gateway as plain data: the rules it gets (iptables argv, run in its namespace from outside), the
 * sysctls that make it forward, and the clients' routes through it. One-armed: it forwards on the run's one
 * network, out of the interface the packets came in on, so no rule of the machine's is needed (FACTS.md).
 */
import type { PortRange } from '../scenario/port-range.ts';
import type { PlannedClient, PlannedNat, PlannedRoute } from './types.ts';

/** The interface a host has on the run's network, in every runtime. */
const LINK = 'eth0';

/** The gateway forwards; it must not tell the clients to go round it (an ICMP redirect: the server is on their link). */
export const GATEWAY_SYSCTLS: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
  'net.ipv4.conf.all.send_redirects': '0',
  'net.ipv4.conf.default.send_redirects': '0',
};

/** Which gateway address each client leaves from: the only one, or one each in turn. */
export function natAddressing(addresses: readonly string[], clients: readonly Pick<PlannedClient, 'name'>[]): Record<string, string> {
  return Object.fromEntries(clients.map((c, i) => [c.name, addresses[i % addresses.length]!]));
}

/**
 * The commands that make the gateway: the send_redirects of its link (named after the link, so not settable
 * before it exists), then one translation rule per server address; with one gateway address MASQUERADE (to
 * the link's address), with several SNAT by source, each client's addresses to the gateway address it is given.
 */
export function natCommands(
  nat: PlannedNat,
  serverIps: readonly string[],
  clients: readonly Pick<PlannedClient, 'name' | 'ip' | 'addresses'>[],
): string[][] {
  const ports = nat.ports ? portsText(nat.ports) : undefined;
  const random = nat.randomFully ? ['--random-fully'] : [];
  const rule = (match: string[], target: string[]) => [
    'iptables',
    '-w',
    '10',
    '-t',
    'nat',
    '-A',
    'POSTROUTING',
    '-o',
    LINK,
    '-p',
    'tcp',
    ...match,
    ...target,
    ...random,
  ];
  const rules =
    nat.addresses.length === 1
      ? serverIps.map((server) => rule(['-d', `${server}/32`], ['-j', 'MASQUERADE', ...(ports ? ['--to-ports', ports] : [])]))
      : clients.flatMap((client) =>
          sourcesOf(client).flatMap((source) =>
            serverIps.map((server) =>
              rule(
                ['-s', `${source}/32`, '-d', `${server}/32`],
                ['-j', 'SNAT', '--to-source', `${nat.addressOf[client.name]}${ports ? `:${ports}` : ''}`],
              ),
            ),
          ),
        );
  return [['sh', '-c', `echo 0 > /proc/sys/net/ipv4/conf/${LINK}/send_redirects`], ...rules];
}

/** Each server address reached through the gateway, as a route of the client's own. */
export function routesVia(gateway: string, serverIps: readonly string[]): PlannedRoute[] {
  return serverIps.map((server) => ({ to: `${server}/32`, via: gateway }));
}

function sourcesOf(client: Pick<PlannedClient, 'ip' | 'addresses'>): string[] {
  const v4 = (client.addresses ?? []).filter((a) => a.family === 'ipv4').map((a) => a.address);
  return v4.length ? v4 : [client.ip];
}

/** iptables writes a port range "LOW-HIGH". */
function portsText([low, high]: PortRange): string {
  return `${low}-${high}`;
}
