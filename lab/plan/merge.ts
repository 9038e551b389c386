import type { CaseSpec, ClientSpec, Family, MiddleSpec, Scenario, ServerSpec } from '../scenario/types.ts';

export interface MergedCase {
  clients: number;
  holdSeconds: number;
  family: Family;
  client: ClientSpec;
  server: ServerSpec;
  /** The host between the clients and the server, where a layer puts one. */
  middle?: MiddleSpec;
}

/**
 * A case's settings: the scenario's, under the case's, under the case's quick overrides with --quick; the
 * family a run is told to use (--family) over all of them.
 */
export function mergeCase(scenario: Scenario, spec: CaseSpec, quick: boolean, family?: Family): MergedCase {
  const layers = quick && spec.quick ? [spec, spec.quick] : [spec];
  let clients = 1;
  let holdSeconds = 0;
  let merged: Family = scenario.family ?? 'ipv4';
  let client: ClientSpec = { ...scenario.client, sysctls: { ...scenario.client?.sysctls } };
  let server: ServerSpec = { ...scenario.server, sysctls: { ...scenario.server.sysctls } };
  let middle: MiddleSpec | undefined = scenario.middle;
  for (const layer of layers) {
    clients = layer.clients ?? clients;
    holdSeconds = layer.holdSeconds ?? holdSeconds;
    merged = layer.family ?? merged;
    client = { ...client, ...layer.client, sysctls: { ...client.sysctls, ...layer.client?.sysctls } };
    server = { ...server, ...layer.server, sysctls: { ...server.sysctls, ...layer.server?.sysctls } };
    middle = mergeMiddle(middle, layer.middle);
  }
  return { clients, holdSeconds, family: family ?? merged, client, server, ...(middle && { middle }) };
}

/** Whether a case over this family needs the run's network to carry IPv6. */
export function usesIpv6(family: Family): boolean {
  return family !== 'ipv4';
}

/** Whether a host of this case has an IPv6 address: the case uses IPv6, or the run's network carries it for another case. */
export function hasIpv6(family: Family, networkIpv6: boolean | undefined): boolean {
  return usesIpv6(family) || !!networkIpv6;
}

/** A layer's middle over the one below: field by field where both are of one kind, else the layer's alone. */
function mergeMiddle(below: MiddleSpec | undefined, layer: MiddleSpec | undefined): MiddleSpec | undefined {
  if (!layer) return below;
  if (!below || below.kind !== layer.kind) return layer;
  return { ...below, ...layer, sysctls: { ...below.sysctls, ...layer.sysctls } } as MiddleSpec;
}
