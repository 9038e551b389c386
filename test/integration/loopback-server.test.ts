/**
 * A server program of one's own that listens on 127.0.0.1 only, against the real engine: the clients could
 * never reach it. The ready check must not pass it (the clients would silently get ECONNREFUSED): one line
 * naming the listener and the server's address, exit 4, no flood, nothing of the run left.
 */
import { expect } from 'chai';
import { fixture, lab, labelledObjects, prepareRuntime, runIdIn } from './helpers.ts';

describe('a server program of your own listening on 127.0.0.1 only', function () {
  this.timeout(300_000);
  before(prepareRuntime);

  it('is named, with the address the clients use: one line, exit 4, no flood, nothing left', async () => {
    const started = Date.now();
    const result = lab(['run', fixture('server-listens-on-loopback.ts')], { CI: 'true' });
    expect(result.status, result.stderr).to.equal(4);
    const lines = result.stderr.split('\n').filter((line) => line.startsWith('lab: '));
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(
      /^lab: server: listens on 127\.0\.0\.1:8080 only, not on (198\.\d+\.\d+\.2): the clients cannot reach it \(listen on \1 or on 0\.0\.0\.0\)$/,
    );
    expect(result.stderr).not.to.match(/^\s+at /m);
    expect(result.stdout + result.stderr).not.to.match(/Flood|ECONNREFUSED/);
    // Said within the grace the program gets, not after the 20 s it was given to listen.
    expect(Date.now() - started).to.be.below(60_000);
    expect(await labelledObjects(runIdIn(result.stdout + result.stderr))).to.deep.equal({ containers: [], networks: [] });
  });
});
