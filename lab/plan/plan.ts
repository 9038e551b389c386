/**
 * A scenario's case becomes a plan: plain data saying which hosts exist, with which addresses, sysctls,
 * limits and programs. Runtimes execute plans; they never see scenarios.
 */
import type { HoldPing, Scenario } from '../scenario/types.ts';
import { refuseChurnProcesses, refuseLabServerOnly, refuseRangesTheKernelRefuses, refuseSourceSettings, refuseTooManyClients } from './checks.ts';
import { planClients } from './clients.ts';
import { hasIpv6, mergeCase } from './merge.ts';
import { planServer, serverEndpoints } from './server.ts';
import { clientTargets, planLegs, planMiddle } from './middle.ts';
import { ipv6SubnetFor } from '../subnet.ts';
import type { CaseInPlanning, CasePlan, PlanOptions } from './types.ts';

export type {
  CasePlan,
  MiddleRole,
  PlanOptions,
  PlannedClient,
  PlannedHost,
  PlannedLeg,
  PlannedMiddle,
  PlannedNat,
  PlannedRoute,
  PlannedServer,
  Role,
} from './types.ts';
export { plannedHosts } from './hosts.ts';
export { mergeCase, type MergedCase } from './merge.ts';
export { listenedPorts } from './ports.ts';
export { usesIpv6 } from './merge.ts';
export { addressingOf } from './clients.ts';
export { casesOverIpv6, refuseGatewayWithout, refuseIpv6Without, refuseProxyWithout } from './checks.ts';

const DEFAULT_DEADLINE = { full: 600, quick: 120 };

export function planCase(scenario: Scenario, index: number, options: PlanOptions): CasePlan {
  const spec = scenario.cases[index]!;
  const planning: CaseInPlanning = {
    scenario,
    index,
    at: `cases[${index}]`,
    merged: mergeCase(scenario, spec, options.quick, options.family),
    options,
  };
  refuseTooManyClients(planning);
  refuseSourceSettings(planning);
  refuseChurnProcesses(planning);
  refuseRangesTheKernelRefuses(planning);
  const endpoints = serverEndpoints(planning);
  if (planning.merged.server.program) refuseLabServerOnly(planning);
  const deadlines = planDeadlines(planning);
  const planned = planClients(planning, clientTargets(planning, endpoints), deadlines.client);
  const { middle, clients } = planMiddle(planning, endpoints, planned, deadlines.server);
  const server = planServer(planning, endpoints, clients, deadlines.server);
  return {
    runId: options.runId,
    scenario: scenario.name,
    caseName: spec.name,
    ...(spec.about ? { about: spec.about } : {}),
    quick: options.quick,
    subnet: options.subnet,
    ...(hasIpv6(planning.merged.family, options.ipv6) && { subnet6: ipv6SubnetFor(options.subnet) }),
    family: planning.merged.family,
    deadlineSeconds: deadlines.fill,
    holdSeconds: planning.merged.holdSeconds,
    server,
    clients,
    ...(middle && { middle }),
    legs: planLegs(endpoints, clients, middle),
    expectations: [...(scenario.expect ?? []), ...(spec.expect ?? [])],
  };
}

/**
 * The longest connscale's hold lasts: its seconds at each cadence it may step down to, and before each step
 * down the wait for the Pings out (at most the timeout).
 */
export function holdPingSeconds(hold: HoldPing | undefined): number {
  if (!hold) return 0;
  const steps = hold.stepDownMs?.length ?? 0;
  return (steps + 1) * hold.seconds + Math.ceil((steps * hold.timeoutMs) / 1000);
}

/** The fill's deadline, and each program's own hard stop after it. */
function planDeadlines({ scenario, merged, options }: CaseInPlanning): { fill: number; client: number; server: number } {
  const fill = scenario.deadlineSeconds ?? (options.quick ? DEFAULT_DEADLINE.quick : DEFAULT_DEADLINE.full);
  // The fill's deadline, the holds, and a minute to collect and stop.
  const client = fill + merged.holdSeconds + holdPingSeconds(merged.client.holdPing) + 60;
  // The server outlives the clients' deadline by the time it takes to collect.
  return { fill, client, server: client + 30 };
}
