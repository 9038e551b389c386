/** Sets each expectation's prediction against what the kernel did. Pure: unit-tested on its own. */
import type { PlannedClient } from '../plan/plan.ts';
import type { ExpectationResult, HostResult } from '../results/results.ts';
import { contains, parsePortList, parsePortRange } from '../scenario/theory.ts';
import type { ClientTheory, Expectation, Metric, Prediction, TheoryContext } from '../scenario/types.ts';
import type { KernelView } from '../collect/kernel-view.ts';

/** What the theory knows of a client: its plan plus what its kernel held before the flood. */
export function clientTheory(plan: PlannedClient, before: KernelView): ClientTheory {
  const range = before.sysctls['net.ipv4.ip_local_port_range'];
  const reserved = before.sysctls['net.ipv4.ip_local_reserved_ports'] ?? '';
  if (!range) throw new Error(`${plan.name}: ip_local_port_range was not read back`);
  return {
    name: plan.name,
    ip: plan.ip,
    portRange: parsePortRange(range),
    reservedPorts: parsePortList(reserved),
    boundPorts: before.listeningPorts,
    destinations: plan.targets.length,
    asked: plan.asked,
    bind: plan.bind,
    ...(plan.socketPortRange ? { socketPortRange: plan.socketPortRange } : {}),
  };
}

export function measure(host: HostResult, metric: Metric): number {
  if (metric === 'estab') return host.estab;
  if (metric === 'timewait') return host.timewait;
  if (metric === 'pongs') return host.flood?.pongs ?? 0;
  if (metric === 'opened') return host.flood?.established ?? 0;
  if (metric === 'listen.backlog') return host.listenBacklog ?? NaN;
  if (metric.startsWith('nstat.')) return host.nstat[metric.slice('nstat.'.length)] ?? NaN;
  const errno = metric.slice('errors.'.length);
  return (host.errors[errno] ?? 0) + (host.bindErrors[errno] ?? 0);
}

function normalise(p: Prediction | number): Prediction {
  return typeof p === 'number' ? { min: p, max: p } : p;
}

export function evaluate(
  expectations: readonly Expectation[],
  context: Omit<TheoryContext, 'client'>,
  server: HostResult,
  clients: readonly HostResult[],
): ExpectationResult[] {
  const rows: ExpectationResult[] = [];
  const lostClients = clients.filter((c) => c.lost).map((c) => c.name);
  const row = (e: Expectation, host: string, predicted: Prediction, measured: number, dependsOn: readonly string[]) => {
    const lost = dependsOn.filter((name) => lostClients.includes(name));
    const invalid = lost.length ? `${lost.join(', ')} lost mid-run` : undefined;
    rows.push({ claim: e.claim, subject: e.subject, host, metric: e.metric, predicted, measured, pass: !invalid && contains(predicted, measured), ...(invalid ? { invalid } : {}) });
  };
  const everyClient = clients.map((c) => c.name);
  for (const e of expectations) {
    // The server's figures and the clients' sum depend on every client.
    if (e.subject === 'server') row(e, server.name, normalise(e.predict(context)), measure(server, e.metric), everyClient);
    if (e.subject === 'all clients') {
      row(e, 'all clients', normalise(e.predict(context)), clients.reduce((sum, c) => sum + measure(c, e.metric), 0), everyClient);
    }
    if (e.subject === 'each client') {
      context.clients.forEach((theory, i) => {
        row(e, theory.name, normalise(e.predict({ ...context, client: theory })), measure(clients[i]!, e.metric), [theory.name]);
      });
    }
  }
  return rows;
}
