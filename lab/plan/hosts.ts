import type { CasePlan, PlannedHost } from './types.ts';

/** Every host of a case, tier by tier: the server, the middle host where there is one, the clients. */
export function plannedHosts(plan: Pick<CasePlan, 'server' | 'middle' | 'clients'>): PlannedHost[] {
  return [plan.server, ...(plan.middle ? [plan.middle] : []), ...plan.clients];
}
