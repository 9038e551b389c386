/** What every report view says the same way: numbers, errors, sysctls, phases, the environment, verdicts. */
import type { CaseResult, ExpectationResult, HostResult, Results } from '../results/results.ts';

/** The sysctls read back that decide the lab's figures, in the order the host tables show them. */
export const KEY_SYSCTLS = [
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_tw_reuse',
  'net.core.somaxconn',
  'net.ipv4.tcp_max_syn_backlog',
] as const;

/** 'net.ipv4.ip_local_port_range' → 'ip_local_port_range' (a column header). */
export function sysctlShortName(key: string): string {
  return key.replace(/^net\.(ipv4|core)\./, '');
}

/** 28231 → "28,231". */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function verdictWord(pass: boolean): 'pass' | 'FAIL' {
  return pass ? 'pass' : 'FAIL';
}

/** 'pass', 'FAIL', or 'INVALID: why' when a host the row depends on was lost and nothing was measured. */
export function expectationVerdict(e: ExpectationResult): string {
  return e.invalid ? `INVALID: ${e.invalid}` : verdictWord(e.pass);
}

export function measuredText(e: ExpectationResult): string {
  return e.invalid ? '-' : String(e.measured);
}

/** A host's own figures as text; a host lost mid-run has none. */
export function hostFigures(h: HostResult): { estab: string; timewait: string; errors: string } {
  if (h.lost) return { estab: '-', timewait: '-', errors: 'LOST mid-run: it vanished, no figures' };
  return { estab: formatCount(h.estab), timewait: formatCount(h.timewait), errors: formatErrors(h) };
}

/** Connect and bind failures by errno name; bind() failures are told apart ("bind EADDRINUSE"). */
export function errorCounts(host: HostResult): Array<[string, number]> {
  return [...Object.entries(host.errors), ...Object.entries(host.bindErrors).map(([errno, n]): [string, number] => [`bind ${errno}`, n])];
}

export function formatErrors(host: HostResult): string {
  const counts = errorCounts(host);
  return counts.length ? counts.map(([errno, n]) => `${errno} x${n}`).join(', ') : 'none';
}

/** What the run's hosts were: containers on Docker, network namespaces otherwise (on this machine or a VM). */
export function hostKind(results: Results): string {
  return results.environment.runtime === 'docker' ? 'container' : 'namespace';
}

export function formatPhases(c: CaseResult): string {
  return Object.entries(c.phases).map(([phase, ms]) => `${phase} ${formatSeconds(ms)}`).join(', ');
}

/** The run's fingerprint as label and value pairs, in reading order. */
export function environmentFacts(results: Results): Array<[string, string]> {
  const env = results.environment;
  const images = Object.entries(env.images ?? {}).map(([role, image]) => `${role} ${image.name} (${image.id.replace(/^sha256:/, '').slice(0, 12)})`);
  return [
    ['kernel', env.kernel],
    ['engine', `${env.engine} (${env.runtime})`],
    ['lab', `${env.lab} on Node ${env.node}`],
    ['images', images.join(', ') || 'unknown'],
    ['open files per process up to', formatCount(env.nofileCeiling)],
    ...Object.entries(env.namespaceDefaults ?? {}).map(([key, value]): [string, string] => [`a new namespace's ${sysctlShortName(key)}`, value]),
    ['mode', results.quick ? 'quick (--quick: narrow ranges, the same laws)' : 'full'],
    ['run', results.runId],
    ['scenario file', results.file],
    ['started', results.startedAt],
    ['finished', results.finishedAt],
  ];
}

export function overallVerdict(results: Results): string {
  const passed = results.cases.filter((c) => c.pass).length;
  return results.pass
    ? `PASS: every expectation held in ${passed} of ${results.cases.length} cases`
    : `FAIL: ${results.cases.length - passed} case(s) did not behave as predicted`;
}

/** The distinct theory lines of a case, in the order its expectations give them. */
export function theoryLines(c: CaseResult): string[] {
  return [...new Set(c.expectations.map((e) => e.predicted.why).filter((why): why is string => !!why))];
}

/** Memory per connection and when the server passed each 100k, where the case measured them. */
export function scaleLines(c: CaseResult): string[] {
  const lines: string[] = [];
  if (c.memory) {
    const m = c.memory;
    lines.push(
      `memory per connection, over ${formatCount(m.connections)}: kernel ${formatCount(m.kernelBytesPerConnection)} B (slab and TCP pages, host-wide, both ends), ` +
        `server program ${formatCount(m.serverUserBytesPerConnection)} B, client programs ${formatCount(m.clientRssBytesPerConnection)} B (their fixed costs included)`,
    );
  }
  if (c.milestones?.length) {
    lines.push(`the server reached ${c.milestones.map((x) => `${formatCount(x.connections)} at ${x.seconds.toFixed(1)} s`).join(', ')}`);
  }
  return lines;
}
