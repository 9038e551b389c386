import { expect } from 'chai';
import { renderScenarioGroups, renderScenarioList } from '../../lab/report/scenario-list.ts';
import type { Scenario } from '../../lab/scenario/types.ts';

describe('lab list', () => {
  const entries = [
    {
      file: 'scenarios/a.ts',
      scenario: { name: 'a', claim: 'one two three four five six seven eight nine ten eleven twelve', cases: [{}] } as unknown as Scenario,
    },
  ];

  it("wraps the claims to the terminal's width, under the claim column", () => {
    const lines = renderScenarioList(entries, 70).split('\n');
    expect(lines.every((l) => l.length <= 70)).to.equal(true);
    const column = lines[1]!.indexOf('one');
    expect(lines.slice(2).every((l) => l.slice(0, column).trim() === '')).to.equal(true);
    expect(
      lines
        .slice(1)
        .map((l) => l.trim())
        .join(' '),
    ).to.contain('one two three four five six seven eight nine ten eleven twelve');
  });

  it('keeps one line a scenario without a terminal', () => {
    expect(renderScenarioList(entries).split('\n')).to.have.length(2);
  });

  it('heads each group with where its scenarios come from, a blank line between groups', () => {
    const lines = renderScenarioGroups([
      { heading: "the lab's own scenarios (/lab/scenarios/)", entries },
      { heading: "this folder's scenarios (./)", entries },
    ]).split('\n');
    expect(lines).to.have.length(7);
    expect(lines[0]).to.equal("the lab's own scenarios (/lab/scenarios/):");
    expect(lines[1]).to.match(/^  file\s+name\s+cases\s+claim$/);
    expect(lines[3]).to.equal('');
    expect(lines[4]).to.equal("this folder's scenarios (./):");
  });
});
