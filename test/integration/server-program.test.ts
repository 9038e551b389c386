/**
 * A server program of one's own under faults, against the real engine: one that never listens, one that
 * dies mid-flood. Each gets one line and exit 4, and nothing is left. (nginx passing is scenarios.test.ts.)
 */
import { expect } from 'chai';
import { fixture, lab, labelledObjects, prepareRuntime } from './helpers.ts';

const NOTHING = { containers: [], networks: [] };

describe('a server program of your own, when it fails', function () {
  this.timeout(300_000);
  before(prepareRuntime);

  it('never listening: a line naming the port and the time waited, exit 4, nothing left', async () => {
    const started = Date.now();
    const result = lab(['run', fixture('server-never-listens.ts')], { CI: 'true' });
    expect(result.status, result.stderr).to.equal(4);
    expect(result.stderr).to.match(
      /^lab: the server program \(sleep 600\) on 198\.\d+\.\d+\.2 never listened on port 8080: waited 3 s \(server\.program\.ready\.timeoutSeconds\)$/m,
    );
    expect(result.stderr).not.to.match(/^\s+at /m);
    expect(Date.now() - started).to.be.below(120_000);
    expect(await labelledObjects()).to.deep.equal(NOTHING);
  });

  it('dying mid-flood: the same line as labserver dying, exit 4, nothing left', async () => {
    const result = lab(['run', fixture('server-dies-mid-flood.ts')], { CI: 'true' });
    expect(result.status, result.stderr).to.equal(4);
    expect(result.stderr).to.match(/^lab: the server server \(198\.\d+\.\d+\.2\) stopped mid-flood \(code 124\)/m);
    expect(await labelledObjects()).to.deep.equal(NOTHING);
  });
});
