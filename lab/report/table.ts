/** The terminal view of results: one table per case, predicted against measured, with verdicts. */
import { tierLines } from './tiers.ts';
import { styleText } from 'node:util';
import type { CaseResult, HostResult, Results } from '../results/results.ts';
import { formatPrediction } from '../scenario/theory/prediction.ts';
import {
  errorCounts,
  familyNote,
  hostKind,
  expectationVerdict,
  formatPhases,
  holdPingLines,
  kneeLine,
  machineLines,
  measuredText,
  scaleLines,
  theoryLines,
} from './facts.ts';
import { safeStrings } from './escape.ts';

type Style = Parameters<typeof styleText>[0];

export function renderResults(shown: Results, color = false): string {
  // Safe before it is painted: a name's own ESC[31m must not colour the terminal, and ours must stay.
  const results = safeStrings(shown);
  const paint = (style: Style, text: string) => (color ? styleText(style, text) : text);
  const out: string[] = [];
  out.push('');
  out.push(paint('bold', `${results.scenario}: ${results.claim}`));
  const nodes = results.environment.nodes;
  out.push(
    `kernel ${results.environment.kernel}, ${results.environment.engine}${nodes ? ` (${results.environment.runtime}: ${nodes.length} nodes)` : ''}${results.quick ? ', quick mode' : ''}, run ${results.runId}`,
  );
  results.cases.forEach((c, i) => out.push('', ...renderCase(c, i, results.cases.length, paint, hostKind(results))));
  const knee = kneeLine(results);
  if (knee) out.push('', knee);
  const passed = results.cases.filter((c) => c.pass).length;
  out.push('');
  out.push(
    results.pass
      ? paint('green', `PASS: every expectation held in ${passed} of ${results.cases.length} cases`)
      : paint('red', `FAIL: ${results.cases.length - passed} case(s) did not behave as predicted`),
  );
  return out.join('\n');
}

function renderCase(c: CaseResult, index: number, total: number, paint: (s: Style, t: string) => string, kind: string): string[] {
  const verdict = c.pass ? paint('green', 'PASS') : paint('red', 'FAIL');
  const lines = [paint('bold', `Case ${index + 1}/${total}: ${c.name}  ${verdict}`)];
  if (c.about) lines.push(paint('dim', c.about));
  const rows = [['expectation', 'host', 'predicted', 'measured', 'verdict']];
  for (const e of c.expectations) rows.push([e.claim, e.host, formatPrediction(e.predicted), measuredText(e), expectationVerdict(e)]);
  lines.push(...table(rows).map((line, i) => (i === 0 ? paint('dim', line) : line)));
  for (const why of theoryLines(c)) lines.push(paint('dim', `  theory: ${why}`));
  lines.push(paint('dim', `  hosts (from ss -s inside each ${kind}):`));
  for (const h of c.hosts) lines.push(`  ${describeHost(h)}`);
  for (const line of tierLines(c)) lines.push(`  ${line}`);
  for (const line of machineLines(c)) lines.push(paint('dim', `  ${line}`));
  for (const line of holdPingLines(c)) lines.push(`  ${line}`);
  for (const line of scaleLines(c)) lines.push(paint('dim', `  ${line}`));
  lines.push(paint('dim', `  phases: ${formatPhases(c)}`));
  return lines;
}

function describeHost(h: HostResult): string {
  if (h.lost) return `${h.name.padEnd(9)} ${h.ip.padEnd(13)} LOST mid-run: it vanished, no figures`;
  const parts = [`${h.name.padEnd(9)} ${h.ip.padEnd(13)} estab ${h.estab}${familyNote(h)}, timewait ${h.timewait}`];
  const range = h.sysctls['net.ipv4.ip_local_port_range'];
  if (h.role === 'client' && range) parts.push(`range ${range.replace(/\s+/, '-')}`);
  const errorText = errorCounts(h)
    .map(([errno, n]) => `${errno} x${n}`)
    .join(' ');
  if (errorText) parts.push(`errors ${errorText}`);
  if (h.flood) parts.push(`filled in ${h.flood.fillSeconds} s by ${h.flood.processes} process(es)`);
  if (h.machine?.node) parts.push(`on ${h.machine.node}`);
  if (h.ip6) parts.push(`IPv6 ${h.ip6}`);
  if (h.sources)
    parts.push(
      `from ${Object.entries(h.sources)
        .map(([address, n]) => `${address} ${n}`)
        .join(', ')}`,
    );
  return parts.join(', ');
}

export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
  return rows.map(
    (r) =>
      '  ' +
      r
        .map((cell, col) => (col >= 2 ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!)))
        .join('  ')
        .trimEnd(),
  );
}
