/** `lab list`: one line per scenario file. */
import type { Scenario } from '../scenario/types.ts';
import { table } from './table.ts';

export function renderScenarioList(entries: ReadonlyArray<{ file: string; scenario: Scenario }>): string {
  const rows = [['file', 'name', 'cases'], ...entries.map(({ file, scenario }) => [file, scenario.name, String(scenario.cases.length)])];
  // table() right-aligns from its third column on: the claim, free text, goes after it.
  const claims = ['claim', ...entries.map(({ scenario }) => scenario.claim)];
  return table(rows).map((line, i) => `${line}  ${claims[i]}`).join('\n');
}
