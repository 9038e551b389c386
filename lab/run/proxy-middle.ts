/** A reverse proxy in the middle of a case: started once its backends listen, and waited for until it has settled its held requests. */
import { sleep } from '../abort.ts';
import { readPeers } from '../collect/sources.ts';
import type { CasePlan } from '../plan/plan.ts';
import { CLIENT_PROGRESS_MS } from '../programs/argv.ts';
import type { Host, RunningProgram } from '../runtime/runtime.ts';
import type { ClientFlood } from './client-flood.ts';
import { awaitOwnServer } from './own-server.ts';

/**
 * How long a proxy may take to settle its held requests after the clients filled: near a full range each
 * upstream connect() searches it (and each that fails, all of it), so the last thousands of requests through
 * nginx on this machine took tens of seconds.
 */
const PROXY_SETTLE_TIMEOUT_MS = 180_000;

/** The proxy's program, ready once its kernel lists a listener on each of its ports; none where the case has no proxy. */
export async function startProxy(plan: CasePlan, hosts: readonly Host[]): Promise<RunningProgram | undefined> {
  const middle = plan.middle;
  if (middle?.role !== 'proxy' || !middle.proxy) return undefined;
  const host = hosts.find((h) => h.plan.name === middle.name)!;
  const program = await host.spawn(host.plan.program, () => {});
  await awaitOwnServer(host, program, { ports: middle.proxy.ports, timeoutSeconds: 30 });
  return program;
}

/**
 * Held requests through a proxy are settled once each is either held by the backend (a connection from the
 * proxy) or answered by the proxy (its error status), as the clients' latest lines count them: until then the
 * proxy is still working through them, and the clients' figures are not final.
 */
export async function proxySettled(plan: CasePlan, server: Host, floods: readonly ClientFlood[]): Promise<void> {
  const middle = plan.middle;
  if (!middle?.proxy || !plan.clients.some((c) => c.requests && !c.requests.churnSeconds)) return;
  const deadline = performance.now() + PROXY_SETTLE_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const held = Object.values(await readPeers(server, middle.ips)).reduce((a, b) => a + b, 0);
    const lines = floods.filter((f) => !f.lost).map((f) => f.last);
    const sent = lines.reduce((sum, l) => sum + (l?.requests ?? 0), 0);
    const answered = lines.reduce((sum, l) => sum + (l?.answered ?? 0) + (l?.cut_short ?? 0), 0);
    // Then a progress line or two more, so that every client's latest line holds its last answers.
    if (held + answered >= sent) return sleep(2 * CLIENT_PROGRESS_MS);
    await sleep(500);
  }
}
