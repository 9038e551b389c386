/** summary.md: the run as Markdown, readable raw and rendered (a pull request, an issue, a wiki). */
import { tierLines } from './tiers.ts';
import type { CaseResult, HostResult, Results, SlabGrowth } from '../results/results.ts';
import {
  KEY_SYSCTLS,
  environmentFacts,
  hostKind,
  expectationVerdict,
  formatPhases,
  holdPingLines,
  hostFigures,
  kneeLine,
  machineLines,
  measuredFigure,
  overallVerdict,
  predictionText,
  scaleLines,
  slabRows,
  sysctlShortName,
  theoryLines,
} from './facts.ts';
import { safeText } from './escape.ts';
import { storyParagraphs } from './story.ts';

export function renderMarkdown(results: Results, options: { story?: string | undefined } = {}): string {
  const out = [`# ${inline(results.scenario)}: ${inline(results.claim)}`, ''];
  for (const paragraph of options.story ? storyParagraphs(options.story) : []) out.push(paragraph, '');
  out.push('## Environment', '');
  for (const [label, value] of environmentFacts(results)) out.push(`- **${label}**: ${inline(value)}`);
  results.cases.forEach((c, i) => out.push('', ...renderCase(c, i, results.cases.length, hostKind(results))));
  const knee = kneeLine(results);
  if (knee) out.push('', '## Across cases', '', inline(`${knee[0]!.toUpperCase()}${knee.slice(1)}.`));
  out.push('', '## Verdict', '', `**${overallVerdict(results)}**`, '');
  // Every line of it: what it quotes of the run (names, claims, a node's label) may hold control characters.
  return safeText(out.join('\n'));
}

function renderCase(c: CaseResult, index: number, total: number, kind: string): string[] {
  const lines = [`## Case ${index + 1}/${total}: ${inline(c.name)}: ${c.pass ? 'PASS' : 'FAIL'}`, ''];
  if (c.about) lines.push(inline(c.about), '');
  lines.push(
    ...markdownTable([
      ['expectation', 'host', 'predicted', 'measured', 'verdict'],
      ...c.expectations.map((e) => [
        e.claim,
        e.host,
        predictionText(e.predicted),
        measuredFigure(e),
        e.pass ? expectationVerdict(e) : `**${expectationVerdict(e)}**`,
      ]),
    ]),
    '',
  );
  for (const why of theoryLines(c)) lines.push(`- theory: ${inline(why)}`);
  lines.push('', `Hosts (figures from \`ss -s\` inside each ${kind}, sysctls read back from inside):`, '');
  lines.push(...markdownTable([['host', 'role', 'ip', 'estab', 'timewait', 'errors', ...KEY_SYSCTLS.map(sysctlShortName)], ...c.hosts.map(hostRow)]));
  const pings = holdPingLines(c);
  if (pings.length) lines.push('', ...pings.map((line) => `- ${inline(line)}`));
  const tiers = tierLines(c);
  if (tiers.length) lines.push('', 'Tiers:', '', ...tiers.map((line) => `- ${inline(line)}`));
  for (const line of [...machineLines(c), ...scaleLines(c)]) lines.push('', `${line[0]!.toUpperCase()}${line.slice(1)}.`);
  if (c.memory?.slabCaches?.length) lines.push('', 'Slab growth per connection, both ends:', '', ...slabTable(c.memory.slabCaches));
  lines.push('', `Phases: ${formatPhases(c)}.`);
  return lines;
}

/** Every column but the cache's name is a number, blanks in the total row and unpredicted caches included. */
function slabTable(caches: SlabGrowth[]): string[] {
  const rows = slabRows(caches);
  return markdownTable(
    rows,
    rows[0]!.map((_, col) => col > 0),
  );
}

function hostRow(h: HostResult): string[] {
  const figures = hostFigures(h);
  return [h.name, h.role, h.ip, figures.estab, figures.timewait, figures.errors, ...KEY_SYSCTLS.map((key) => h.sysctls[key] ?? '')];
}

/** A GitHub-flavoured table; columns of numbers (28,231 or 0.6) right-aligned, or the columns `numeric` says. */
export function markdownTable(rows: string[][], numeric?: boolean[]): string[] {
  const [header, ...body] = rows;
  if (!header) return [];
  numeric ??= header.map((_, col) => body.length > 0 && body.every((r) => /^[\d,]+(\.\d+)?$/.test(r[col] ?? '')));
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), `| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`, ...body.map(line)];
}

function cell(text: string): string {
  return inline(text).replace(/\|/g, '\\|') || ' ';
}

/** Text from a results file stays on its line (a newline in a claim must not break the document), and is safe to show. */
function inline(text: string): string {
  return safeText(text.replace(/\s*\n\s*/g, ' '));
}
