import { expect } from 'chai';
import { renderScenarioList } from '../../lab/report/scenario-list.ts';
import type { Scenario } from '../../lab/scenario/types.ts';

describe('lab list', () => {
  const entries = [{ file: 'scenarios/a.ts', scenario: { name: 'a', claim: 'one two three four five six seven eight nine ten eleven twelve', cases: [{}] } as unknown as Scenario }];

  it("wraps the claims to the terminal's width, under the claim column", () => {
    const lines = renderScenarioList(entries, 70).split('\n');
    expect(lines.every((l) => l.length <= 70)).to.equal(true);
    const column = lines[1]!.indexOf('one');
    expect(lines.slice(2).every((l) => l.slice(0, column).trim() === '')).to.equal(true);
    expect(lines.slice(1).map((l) => l.trim()).join(' ')).to.contain('one two three four five six seven eight nine ten eleven twelve');
  });

  it('keeps one line a scenario without a terminal', () => {
    expect(renderScenarioList(entries).split('\n')).to.have.length(2);
  });
});
