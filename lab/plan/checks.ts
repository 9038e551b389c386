/** What a case may not ask of the subnet, the engine or a server program of its own: each refused where it was written. */
import { InputError } from '../errors.ts';
import { LAB_SERVER_SETTINGS, netAdminProblem, sourceBindProblem } from '../scenario/schema.ts';
import { localPortRangeProblem } from '../scenario/port-range.ts';
import { subnetCapacity } from '../subnet.ts';
import type { CaseInPlanning, PlanOptions } from './types.ts';
import type { Family, Scenario } from '../scenario/types.ts';
import { mergeCase, usesIpv6 } from './merge.ts';

export function refuseTooManyClients({ merged, options, at }: CaseInPlanning): void {
  const capacity = Math.min(subnetCapacity(options.subnet), options.clientRoom?.clients ?? Infinity);
  const perClient = merged.client.addresses ?? 1;
  if (merged.clients * perClient > capacity) {
    const why = options.clientRoom && options.clientRoom.clients < subnetCapacity(options.subnet) ? `: ${options.clientRoom.why}` : '';
    const [field, what] =
      perClient > 1 ? ['client.addresses', `${merged.clients} clients x ${perClient} addresses`] : ['clients', `${merged.clients} clients`];
    throw new InputError(options.file, `${at}.${field}`, `${what} do not fit in ${options.subnet} (room for ${capacity} beside the server${why})`);
  }
}

/**
 * A client's addresses and source mode, as the case's layers merged them: addresses beyond its own are added
 * inside it (NET_ADMIN), a source mode binds each socket itself (no bind to the wildcard beside it), and only
 * the lab's flood binds to its addresses (not a churn, not a program of one's own).
 */
export function refuseSourceSettings({ merged, options, at }: CaseInPlanning): void {
  const client = merged.client;
  const netAdmin = netAdminProblem('client', client);
  if (netAdmin) throw new InputError(options.file, `${at}.client.addresses`, netAdmin);
  const bind = sourceBindProblem(client);
  if (bind) throw new InputError(options.file, `${at}.client.source`, bind);
  const other = client.churn ? 'a churn (labchurn)' : client.program ? 'a client program of your own' : undefined;
  if (other && (client.source ?? 'route') !== 'route') {
    throw new InputError(
      options.file,
      `${at}.client.source`,
      `'${client.source}' is how the lab's flood binds its sockets to the client's addresses: ${other} does not`,
    );
  }
}

/** A churn's processes each take a share of its rate: no more processes than connections a second. */
export function refuseChurnProcesses({ merged, options, at }: CaseInPlanning): void {
  const { churn, processes } = merged.client;
  if (churn && processes !== undefined && processes > churn.rate)
    throw new InputError(
      options.file,
      `${at}.client.processes`,
      `${processes} processes share a churn of ${churn.rate} a second: at most ${churn.rate}`,
    );
}

/** The host's open-file limit: the one asked for, or the engine's ceiling; never above that ceiling. */
export function nofileWithinCeiling(settings: { nofile?: number }, field: string, options: PlanOptions): number {
  const wanted = settings.nofile ?? options.nofileCeiling;
  if (wanted > options.nofileCeiling) {
    throw new InputError(options.file, field, `${wanted} is above what this engine allows per process (${options.nofileCeiling})`);
  }
  return wanted;
}

/**
 * With a server program of one's own, labserver's settings mean nothing (the program has its own config),
 * and the Ping round and hold-ping need to know what it answers: each is refused, named where it was written.
 */
export function refuseLabServerOnly({ scenario, index, options, merged }: CaseInPlanning): void {
  const spec = scenario.cases[index]!;
  const layers: Array<[string, { server?: object; client?: object } | undefined]> = [
    ...(options.quick ? [[`cases[${index}].quick`, spec.quick] as [string, typeof spec.quick]] : []),
    [`cases[${index}]`, spec],
    ['', scenario],
  ];
  const origin = (role: 'server' | 'client', field: string) => {
    const found = layers.find(([, layer]) => layer?.[role] && field in layer[role]);
    return `${found?.[0] ? `${found[0]}.` : ''}${role}.${field}`;
  };
  for (const field of LAB_SERVER_SETTINGS) {
    if (merged.server[field] !== undefined) {
      throw new InputError(
        options.file,
        origin('server', field),
        "is a setting of the lab's server (labserver): a server program of your own sets its own (its config, its flags)",
      );
    }
  }
  if (merged.server.program?.protocol) return;
  for (const field of ['ping', 'holdPing'] as const) {
    if (merged.client[field]) {
      throw new InputError(
        options.file,
        origin('client', field),
        "needs a server that answers: say what yours speaks with server.program.protocol ('http' or 'ping')",
      );
    }
  }
}

/** The cases (of those run) that connect over IPv6, by index: the run's network must then carry it. */
export function casesOverIpv6(scenario: Scenario, indexes: readonly number[], quick: boolean, family?: Family): number[] {
  return indexes.filter((i) => usesIpv6(mergeCase(scenario, scenario.cases[i]!, quick, family).family));
}

/**
 * A case over IPv6 on a runtime whose networks carry none is refused before anything starts, named where
 * its family was said: --family, the case, or the scenario.
 */
export function refuseIpv6Without(
  runtime: { name: string; ipv6: boolean },
  scenario: Scenario,
  file: string,
  cases: readonly number[],
  family?: Family,
): void {
  if (runtime.ipv6 || !cases.length) return;
  const i = cases[0]!;
  const own = scenario.cases[i]!.family;
  const [source, field, said] =
    family !== undefined
      ? ['--family', undefined, family]
      : own !== undefined
        ? [file, `cases[${i}].family`, own]
        : [file, 'family', scenario.family];
  throw new InputError(
    source,
    field,
    `'${said}' needs IPv6, and the ${runtime.name} runtime's networks carry none: choose another runtime for this case, or --family ipv4`,
  );
}

const PORT_RANGE = 'net.ipv4.ip_local_port_range';

/**
 * A port range the kernel will refuse when the host's namespace is made (a low end below
 * ip_unprivileged_port_start): refused as the case is planned, before anything starts, naming the layer
 * that wrote it (the case's quick overrides, the case, the scenario). A scenario that says it still lists
 * and explains: which ranges a kernel takes is the kernel's rule, checked where the case runs.
 */
export function refuseRangesTheKernelRefuses({ scenario, index, merged, options, at }: CaseInPlanning): void {
  const spec = scenario.cases[index]!;
  for (const role of ['client', 'server'] as const) {
    const value = merged[role].sysctls?.[PORT_RANGE];
    const problem = value === undefined ? undefined : localPortRangeProblem(String(value));
    if (!problem) continue;
    const layers: Array<[string, Record<string, string | number> | undefined]> = [
      [`${at}.quick.${role}`, options.quick ? spec.quick?.[role]?.sysctls : undefined],
      [`${at}.${role}`, spec[role]?.sysctls],
      [role, scenario[role]?.sysctls],
    ];
    const [where] = layers.find(([, sysctls]) => sysctls?.[PORT_RANGE] !== undefined) ?? [role];
    throw new InputError(options.file, `${where}.sysctls["${PORT_RANGE}"]`, problem);
  }
}

/**
 * A case with a NAT gateway on a runtime whose hosts cannot be one (its rules and routes are set from outside
 * each host's namespace): refused before anything starts, named where its middle tier was written.
 */
export function refuseGatewayWithout(
  runtime: { name: string; natGateway: boolean },
  scenario: Scenario,
  file: string,
  indexes: readonly number[],
  quick: boolean,
): void {
  if (runtime.natGateway) return;
  const i = indexes.find((index) => mergeCase(scenario, scenario.cases[index]!, quick).middle?.kind === 'nat');
  if (i === undefined) return;
  const spec = scenario.cases[i]!;
  const field = quick && spec.quick?.middle ? `cases[${i}].quick.middle` : spec.middle ? `cases[${i}].middle` : 'middle';
  throw new InputError(
    file,
    field,
    `a NAT gateway needs its rules set in its namespace from outside, which the ${runtime.name} runtime does not do: run it on docker`,
  );
}

/**
 * A reverse proxy runs from its own image (nginx and HAProxy on the lab's server image), and its further
 * source addresses are added in its namespace from outside: a runtime that builds no program images, or sets
 * nothing from outside, cannot run one.
 */
export function refuseProxyWithout(
  runtime: { name: string; programImages: boolean; natGateway: boolean },
  scenario: Scenario,
  file: string,
  indexes: readonly number[],
  quick: boolean,
): void {
  for (const i of indexes) {
    const middle = mergeCase(scenario, scenario.cases[i]!, quick).middle;
    if (middle?.kind !== 'proxy') continue;
    const spec = scenario.cases[i]!;
    const field = quick && spec.quick?.middle ? `cases[${i}].quick.middle` : spec.middle ? `cases[${i}].middle` : 'middle';
    if (!runtime.programImages)
      throw new InputError(
        file,
        field,
        `a ${middle.software} proxy runs from an image of its own, which the ${runtime.name} runtime does not build: run it on docker`,
      );
    if ((middle.settings?.sources ?? 1) > 1 && !runtime.natGateway)
      throw new InputError(
        file,
        `${field}.settings.sources`,
        `further source addresses are added in the proxy's namespace from outside, which the ${runtime.name} runtime does not do: run it on docker`,
      );
  }
}
