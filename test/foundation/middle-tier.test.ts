/**
 * A host between the clients and the server, in the quick tier: a NAT gateway and a reverse proxy, each
 * scenario's quick mode against the real engine, every verdict held, and the middle host in the results as
 * its own tier with both legs. The gateway's small table lowered the machine's nf_conntrack_max for its case
 * and put it back: nothing left held in the ledger.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { QUICK_TIER_SCENARIOS } from '../fixtures/quick-tier-scenarios.ts';
import { expectQuickRunHolds, prepareRuntime, projectRoot } from '../integration/helpers.ts';

const CONNTRACK_LEDGER = '/run/lab/conntrack.json';
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
      const lowered = results.cases.flatMap((c: any) => c.expectations.filter((e: any) => e.metric === 'conntrack.max'));
      for (const e of lowered) {
        expect(Number(readFileSync('/proc/sys/net/netfilter/nf_conntrack_max', 'utf8')), 'put back after the case').to.be.above(e.measured);
        const ledger = existsSync(CONNTRACK_LEDGER) ? JSON.parse(readFileSync(CONNTRACK_LEDGER, 'utf8')) : { holders: {} };
        // A lowering is held as "<run id>/lowered", a raise as the run id.
        const held = Object.keys(ledger.holders ?? {}).filter((holder) => holder.split('/')[0] === results.runId);
        expect(held, 'the run holds nothing in the conntrack ledger').to.deep.equal([]);
      }
    });
  }
});
