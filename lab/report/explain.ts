/** `lab explain`: a scenario read aloud (claim, story, seeds, and per case what it sets and expects). */
import { listenedPorts, mergeCase } from '../plan/plan.ts';
import type { CaseOverrides, MiddleSpec, Scenario, Sysctls } from '../scenario/types.ts';

export function explainScenario(scenario: Scenario, file: string, quick: boolean): string {
  const out = [`${scenario.name}: ${scenario.claim}`, `file: ${file}`];
  if (scenario.story) out.push('', scenario.story.trim());
  out.push('', `seeds replayed: ${scenario.seeds?.length ? scenario.seeds.join(', ') : 'none'}`);
  const program = scenario.server.program ? `, its own program: ${scenario.server.program.command.join(' ')}` : '';
  out.push(
    `server: ports ${listenedPorts(scenario.server).join(', ')}${program}${scenario.server.backlog ? `, backlog ${scenario.server.backlog}` : ''}${sysctlText(scenario.server.sysctls, ', sysctls ')}`,
  );
  if (scenario.deadlineSeconds) out.push(`deadline: ${scenario.deadlineSeconds} s per flood`);
  scenario.cases.forEach((spec, i) => {
    const settings = mergeCase(scenario, spec, quick);
    const connections = settings.client.connections ?? 'fill';
    out.push('', `Case ${i + 1}/${scenario.cases.length}: ${spec.name}`);
    if (spec.about) out.push(`  ${spec.about}`);
    out.push(
      `  clients: ${settings.clients}, each asking for ${connections === 'fill' ? 'as many connections as its range gives (fill)' : `${connections} connections`}`,
    );
    out.push(`  client sysctls: ${sysctlText(settings.client.sysctls) || 'kernel defaults'}`);
    const { addresses = 1, source = 'route' } = settings.client;
    if (settings.family !== 'ipv4' || addresses > 1 || source !== 'route') {
      out.push(
        `  family: ${settings.family}; client addresses per family: ${addresses}, sockets leaving from ${source === 'route' ? "the route's source" : `each in turn (source '${source}')`}`,
      );
    }
    out.push(
      `  server ports: ${listenedPorts(settings.server).join(', ')}${settings.server.program ? ` (${settings.server.program.command.join(' ')})` : ''}`,
    );
    if (settings.middle) out.push(`  middle tier: ${middleText(settings.middle)}`);
    if (quick) out.push(`  --quick overrides: ${spec.quick ? describeOverrides(spec.quick) : 'none (runs as in full)'}`);
    out.push('  expects:');
    for (const e of [...(scenario.expect ?? []), ...(spec.expect ?? [])]) out.push(`    - ${e.claim} (${e.subject}, ${e.metric})`);
  });
  if (!quick && scenario.cases.some((c) => c.quick)) out.push('', `--quick runs some cases with other settings: lab explain ${file} --quick`);
  return out.join('\n');
}

function sysctlText(sysctls: Sysctls | undefined, prefix = ''): string {
  const entries = Object.entries(sysctls ?? {});
  return entries.length ? prefix + entries.map(([k, v]) => `${k}=${v}`).join(', ') : '';
}

/** { client: { sysctls: {...} } } → "client net.ipv4.ip_local_port_range=40000 40999". */
function describeOverrides(overrides: CaseOverrides): string {
  const parts: string[] = [];
  if (overrides.clients !== undefined) parts.push(`clients ${overrides.clients}`);
  if (overrides.middle) parts.push(`middle ${middleText(overrides.middle)}`);
  for (const role of ['client', 'server'] as const) {
    for (const [field, value] of Object.entries(overrides[role] ?? {})) {
      parts.push(field === 'sysctls' ? `${role} ${sysctlText(value as Sysctls)}` : `${role} ${field} ${JSON.stringify(value)}`);
    }
  }
  return parts.join('; ') || 'none';
}

/** The middle tier with its two legs: clients -> it -> the server. */
function middleText(middle: MiddleSpec): string {
  if (middle.kind === 'proxy')
    return `a ${middle.software} reverse proxy (clients -> proxy, ports ${(middle.ports ?? [80]).join(', ')} -> the server's ports)`;
  const addresses = middle.addresses ?? 1;
  const how = addresses > 1 ? `SNAT to ${addresses} gateway addresses, the clients shared among them` : 'MASQUERADE to its address';
  const ports = middle.ports ? `ports ${middle.ports} (--to-ports)` : 'ports 1024-65535 searched';
  const table = middle.conntrackMax ? `, a conntrack table of ${middle.conntrackMax} (nf_conntrack_max lowered for the case, machine-wide)` : '';
  return `a NAT gateway (clients -> gateway, their route to the server -> server from the gateway's address): ${how}, ${ports}${middle.randomFully ? ', --random-fully' : ''}${table}`;
}
