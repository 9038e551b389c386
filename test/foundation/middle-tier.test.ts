/**
 * A host between the clients and the server, in the quick tier: a NAT gateway and a reverse proxy, each
 * scenario's quick mode against the real engine, every verdict held, and the middle host in the results as
 * its own tier with both legs.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { QUICK_TIER_SCENARIOS } from '../fixtures/quick-tier-scenarios.ts';
import { expectQuickRunHolds, prepareRuntime, projectRoot } from '../integration/helpers.ts';

const MIDDLE_ROLES: Record<string, string> = { 'nat.ts': 'gateway', 'proxy-upstream.ts': 'proxy' };

describe('a middle tier: every verdict holds in quick mode', function () {
  let dir: string;
  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-middle-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const file of QUICK_TIER_SCENARIOS) {
    it(`${file}: the ${MIDDLE_ROLES[file]} is its own tier, with a leg on each side`, async () => {
      expect(existsSync(join(projectRoot, 'scenarios', file)), `scenarios/${file}`).to.equal(true);
      const results = await expectQuickRunHolds(file, dir);
      const middled = results.cases.filter((c: any) => c.hosts.some((h: any) => h.role === MIDDLE_ROLES[file]));
      expect(middled, 'cases with the middle host in their results').to.not.be.empty;
      for (const c of middled) expect(c.legs?.length, `${c.name}: legs`).to.equal(2);
    });
  }
});
