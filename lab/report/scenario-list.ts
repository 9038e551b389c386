/** `lab list`: one line per scenario file, the claim wrapped to the terminal's width (when there is one). */
import type { Scenario } from '../scenario/types.ts';
import { table } from './table.ts';

/** Below this many columns for the claim, wrapping would only make it harder to read. */
const MIN_CLAIM_WIDTH = 30;

export interface ScenarioEntry {
  file: string;
  scenario: Scenario;
}

/** Several lists, each under a heading that says where its scenarios come from. */
export function renderScenarioGroups(groups: ReadonlyArray<{ heading: string; entries: readonly ScenarioEntry[] }>, width?: number): string {
  return groups.map(({ heading, entries }) => `${heading}:\n${renderScenarioList(entries, width)}`).join('\n\n');
}

export function renderScenarioList(entries: readonly ScenarioEntry[], width?: number): string {
  const rows = [['file', 'name', 'cases'], ...entries.map(({ file, scenario }) => [file, scenario.name, String(scenario.cases.length)])];
  // table() right-aligns from its third column on: the claim, free text, goes after it.
  const claims = ['claim', ...entries.map(({ scenario }) => scenario.claim)];
  const lines = table(rows);
  const indent = (lines[0]?.length ?? 0) + 2;
  const room = width === undefined ? Infinity : width - indent;
  return lines
    .map((line, i) => {
      const claim = room >= MIN_CLAIM_WIDTH ? wrap(claims[i]!, room) : [claims[i]!];
      return [`${line}  ${claim[0]}`, ...claim.slice(1).map((rest) => `${' '.repeat(indent)}${rest}`)].join('\n');
    })
    .join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/)) {
    if (current && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  return [...lines, current];
}
