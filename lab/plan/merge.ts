import type { CaseSpec, ClientSpec, Scenario, ServerSpec } from '../scenario/types.ts';

export interface MergedCase {
  clients: number;
  holdSeconds: number;
  client: ClientSpec;
  server: ServerSpec;
}

/** A case's settings: the scenario's, under the case's, under the case's quick overrides with --quick. */
export function mergeCase(scenario: Scenario, spec: CaseSpec, quick: boolean): MergedCase {
  const layers = quick && spec.quick ? [spec, spec.quick] : [spec];
  let clients = 1;
  let holdSeconds = 0;
  let client: ClientSpec = { ...scenario.client, sysctls: { ...scenario.client?.sysctls } };
  let server: ServerSpec = { ...scenario.server, sysctls: { ...scenario.server.sysctls } };
  for (const layer of layers) {
    clients = layer.clients ?? clients;
    holdSeconds = layer.holdSeconds ?? holdSeconds;
    client = { ...client, ...layer.client, sysctls: { ...client.sysctls, ...layer.client?.sysctls } };
    server = { ...server, ...layer.server, sysctls: { ...server.sysctls, ...layer.server?.sysctls } };
  }
  return { clients, holdSeconds, client, server };
}
