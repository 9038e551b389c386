/** What a case may not ask of the subnet, the engine or a server program of its own: each refused where it was written. */
import { InputError } from '../errors.ts';
import { LAB_SERVER_SETTINGS } from '../scenario/schema.ts';
import { subnetCapacity } from '../subnet.ts';
import type { CaseInPlanning, PlanOptions } from './types.ts';

export function refuseTooManyClients({ merged, options, at }: CaseInPlanning): void {
  const capacity = Math.min(subnetCapacity(options.subnet), options.clientRoom?.clients ?? Infinity);
  if (merged.clients > capacity) {
    const why = options.clientRoom && options.clientRoom.clients < subnetCapacity(options.subnet) ? `: ${options.clientRoom.why}` : '';
    throw new InputError(
      options.file,
      `${at}.clients`,
      `${merged.clients} clients do not fit in ${options.subnet} (room for ${capacity} beside the server${why})`,
    );
  }
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
