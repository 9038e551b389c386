/**
 * The case's middle tier, where it has one: the host between the clients and the server, at .10 of the run's
 * subnet (its further addresses from the top of the subnet down), and the legs of the case's path. A gateway
 * is forwarded through (the clients aim at the server, routed via it); a proxy is connected to (the clients
 * aim at it, it connects on to the server's endpoints).
 */
import { InputError } from '../errors.ts';
import { endpoint, hostAddress, hostAddress6, parseSubnet } from '../subnet.ts';
import { parsePortRange } from '../scenario/port-range.ts';
import type { MiddleSpec, NatMiddle } from '../scenario/types.ts';
import { nofileWithinCeiling } from './checks.ts';
import { hasIpv6 } from './merge.ts';
import { GATEWAY_SYSCTLS, natAddressing, natCommands, routesVia } from './nat.ts';
import { planProxy, proxyAddressCount, proxyPorts } from './proxy.ts';
import type { ServerEndpoints } from './server.ts';
import { sysctlStrings } from './sysctls.ts';
import type { CaseInPlanning, PlannedClient, PlannedLeg, PlannedMiddle, PlannedNat } from './types.ts';

/** The middle host's own address: .10, between the server's (.2 to .9) and the clients' (from .11). */
export const MIDDLE_HOST_NUMBER = 10;

/** Its name as hosts, results and views show it, by kind. */
const NAMES = { nat: 'gateway', proxy: 'proxy' } as const;

/** The middle host's addresses: .10, then its further ones from the subnet's last usable address down. */
export function middleAddresses(subnet: string, count: number): string[] {
  const size = 2 ** (32 - parseSubnet(subnet).prefix);
  return [hostAddress(subnet, MIDDLE_HOST_NUMBER), ...Array.from({ length: count - 1 }, (_, k) => hostAddress(subnet, size - 2 - k))];
}

/** What the clients connect to: a proxy's endpoints, or the server's own (through a gateway, or directly). */
export function clientTargets({ merged, options }: CaseInPlanning, server: ServerEndpoints): string[] {
  const middle = merged.middle;
  if (middle?.kind !== 'proxy') return server.targets;
  const ip = middleAddresses(options.subnet, 1)[0]!;
  return proxyPorts(middle).map((port) => endpoint(ip, port));
}

/**
 * The middle host, and the clients as it changes them (routes through a gateway); undefined where the case
 * has none. Refuses, naming the field, what a middle tier of that kind cannot be.
 */
export function planMiddle(
  planning: CaseInPlanning,
  server: ServerEndpoints,
  clients: PlannedClient[],
  deadlineSeconds: number,
): { middle?: PlannedMiddle; clients: PlannedClient[] } {
  const spec = planning.merged.middle;
  if (!spec) return { clients };
  refuseMiddleSettings(planning, spec, clients);
  const { options, at } = planning;
  const ips = middleAddresses(options.subnet, addressCount(spec));
  const prefix = parseSubnet(options.subnet).prefix;
  const addedFromOutside = ips.slice(1).map((ip) => ['ip', 'addr', 'add', `${ip}/${prefix}`, 'dev', 'eth0']);
  const host = {
    name: NAMES[spec.kind],
    ip: ips[0]!,
    ...(hasIpv6(planning.merged.family, options.ipv6) && { ip6: hostAddress6(options.subnet, MIDDLE_HOST_NUMBER) }),
    nofile: nofileWithinCeiling(spec, `${at}.middle.nofile`, options),
    capabilities: { ...spec.capabilities },
    extraAddresses: [],
    ips,
    backends: server.targets,
  };
  if (spec.kind === 'proxy') {
    const proxy = planProxy(spec, planning, server.targets, deadlineSeconds, ips);
    const middle: PlannedMiddle = {
      ...host,
      role: 'proxy',
      sysctls: sysctlStrings(spec.sysctls),
      ...proxy,
      ...(addedFromOutside.length && { setFromOutside: addedFromOutside }),
    };
    return { middle, clients };
  }
  const nat = plannedNat(spec, ips, clients);
  const middle: PlannedMiddle = {
    ...host,
    role: 'gateway',
    sysctls: { ...GATEWAY_SYSCTLS, ...sysctlStrings(spec.sysctls) },
    program: [],
    nat,
    tracksConnections: true,
    setFromOutside: [...addedFromOutside, ...natCommands(nat, server.ips, clients)],
  };
  return { middle, clients: clients.map((c) => ({ ...c, routes: routesVia(middle.ip, server.ips) })) };
}

function plannedNat(spec: NatMiddle, ips: string[], clients: readonly PlannedClient[]): PlannedNat {
  return {
    addresses: ips,
    addressOf: natAddressing(ips, clients),
    ...(spec.ports && { ports: parsePortRange(spec.ports) }),
    randomFully: spec.randomFully ?? false,
    ...(spec.conntrackMax !== undefined && { conntrackMax: spec.conntrackMax }),
  };
}

/** Who connects to whom: the clients to the server (through a gateway), or to the proxy and it to the server. */
export function planLegs(server: ServerEndpoints, clients: readonly PlannedClient[], middle: PlannedMiddle | undefined): PlannedLeg[] {
  const from = clients.map((c) => c.name);
  if (!middle) return [{ from, to: 'server', endpoints: server.targets }];
  if (middle.role === 'gateway') {
    return [
      { from, to: 'server', endpoints: server.targets, via: middle.name },
      { from: [middle.name], to: 'server', endpoints: server.targets },
    ];
  }
  return [
    { from, to: middle.name, endpoints: clients[0]?.targets ?? [] },
    { from: [middle.name], to: 'server', endpoints: middle.backends },
  ];
}

/**
 * What a middle tier of its kind cannot be here: a NAT over IPv6 (the gateway's rules are iptables', IPv4),
 * a proxy with no HTTP backend behind it, further addresses that would meet the clients'. Named where the middle tier was written.
 */
function refuseMiddleSettings(planning: CaseInPlanning, spec: MiddleSpec, clients: readonly PlannedClient[]): void {
  const { merged, options } = planning;
  const where = (field: string) => `${middleOrigin(planning)}.${field}`;
  if (spec.kind === 'nat' && merged.family !== 'ipv4') {
    throw new InputError(
      options.file,
      where('kind'),
      `a NAT gateway here translates IPv4 (iptables' MASQUERADE, SNAT): the case connects over '${merged.family}'; use family 'ipv4'`,
    );
  }
  if (spec.kind === 'proxy' && !merged.server.program && merged.server.protocol !== 'http') {
    const caseSpec = planning.scenario.cases[planning.index]!;
    throw new InputError(
      options.file,
      caseSpec.server ? `${planning.at}.server.protocol` : 'server.protocol',
      `a proxy needs a backend that speaks HTTP: the lab's server answers HTTP with protocol 'http' (it speaks '${merged.server.protocol ?? 'ping'}' here)`,
    );
  }
  const ips = middleAddresses(options.subnet, addressCount(spec));
  const lowest = ips.length > 1 ? ips.at(-1)! : undefined;
  const taken = clients.flatMap((c) => (c.addresses ?? []).map((a) => a.address).concat(c.ip));
  if (lowest && taken.some((a) => ips.slice(1).includes(a))) {
    throw new InputError(
      options.file,
      where('addresses'),
      `${ips.length - 1} further addresses from the top of ${options.subnet} down (to ${lowest}) meet the clients' addresses: ask for fewer`,
    );
  }
}

/** The middle host's addresses: a gateway's to translate to, a proxy's to connect onward from. */
function addressCount(spec: MiddleSpec): number {
  return spec.kind === 'nat' ? (spec.addresses ?? 1) : proxyAddressCount(spec);
}

/** Where the case's middle tier was written: its quick overrides, the case, or the scenario. */
function middleOrigin({ scenario, index, options, at }: CaseInPlanning): string {
  const spec = scenario.cases[index]!;
  if (options.quick && spec.quick?.middle) return `${at}.quick.middle`;
  if (spec.middle) return `${at}.middle`;
  return 'middle';
}
