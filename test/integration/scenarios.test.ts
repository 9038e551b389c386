/**
 * Every scenario in scenarios/ in quick mode against the real engine: each must load, explain itself, and
 * have every verdict hold. (The full runs take minutes; their figures are in the README and BENCHMARKS.md.)
 */
import { readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { QUICK_TIER_SCENARIOS } from '../fixtures/quick-tier-scenarios.ts';
import { expectQuickRunHolds, lab, prepareRuntime, projectRoot } from './helpers.ts';

const scenarios = readdirSync(join(projectRoot, 'scenarios'))
  .filter((f) => f.endsWith('.ts'))
  .sort();
const inTheQuickTier = new Set<string>(QUICK_TIER_SCENARIOS);

describe('every scenario in quick mode', function () {
  let dir: string;
  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-scenarios-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every scenario file with its claim', () => {
    const list = lab(['list']);
    expect(list.status, list.stderr).to.equal(0);
    expect(list.stdout).to.match(/^the lab's own scenarios \(scenarios\/\):$/m);
    for (const file of scenarios) expect(list.stdout).to.match(new RegExp(`^  ${file.replace('.', '\\.')} `, 'm'));
  });

  // The quick tier runs the middle tier's scenarios (test/foundation/middle-tier.test.ts).
  for (const file of scenarios.filter((f) => !inTheQuickTier.has(f))) {
    it(`${file}: explains itself, and every verdict holds in quick mode`, async () => {
      await expectQuickRunHolds(file, dir);
    });
  }
});
