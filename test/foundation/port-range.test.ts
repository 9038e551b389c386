/**
 * The port-range law against a real engine and a real kernel: a client whose range is "40000 40999" holds
 * every usable port of it to one server port, then connect() fails with EADDRNOTAVAIL; two clients double
 * what the server holds.
 */
import { expect } from 'chai';
import { RANGE, rangeLaw as scenario } from '../integration/range-law.ts';
import { runScenario } from '../../lab/run/scenario-run.ts';
import type { HostResult, Results } from '../../lab/results/results.ts';
import { labelledObjects, prepareRuntime, runtime } from '../integration/helpers.ts';

/** Docker's DNS listener takes a port from the ephemeral range when the container starts; sometimes ours. */
function boundInRange(host: HostResult): number {
  return (host.boundPortsBefore ?? []).filter((p) => p >= RANGE[0] && p <= RANGE[1]).length;
}

describe('port-range law on a real kernel', function () {
  let results: Results;

  before(async function () {
    await prepareRuntime();
    results = await runScenario(runtime, scenario, { file: 'test/foundation/port-range.test.ts', quick: false });
  });

  it('one client holds exactly the 1000 ports of "40000 40999" (less a listener in range), then gets EADDRNOTAVAIL', () => {
    const [server, client] = results.cases[0]!.hosts;
    const bound = boundInRange(client!);
    expect(bound).to.be.at.most(1);
    expect(client!.estab).to.equal(1000 - bound);
    expect(client!.flood!.established).to.equal(client!.estab);
    expect(client!.errors.EADDRNOTAVAIL).to.be.at.least(1);
    expect(Object.keys(client!.errors)).to.deep.equal(['EADDRNOTAVAIL']);
    expect(client!.sysctls['net.ipv4.ip_local_port_range']).to.equal('40000 40999');
    expect(server!.estab).to.equal(client!.estab);
  });

  it('two clients make the server hold 2000 on one IP and one port', () => {
    const [server, ...clients] = results.cases[1]!.hosts;
    const bound = clients.reduce((sum, c) => sum + boundInRange(c), 0);
    for (const c of clients) expect(c.estab).to.equal(1000 - boundInRange(c));
    expect(server!.estab).to.equal(2000 - bound);
    expect(server!.role).to.equal('server');
    expect(new Set(clients.map((c) => c.ip)).size).to.equal(2);
  });

  it('every prediction held', () => {
    for (const c of results.cases) for (const e of c.expectations) expect(e.pass, `${c.name}: ${e.claim} (${e.host})`).to.equal(true);
    expect(results.pass).to.equal(true);
  });

  it('left no container or network labelled with the run', async () => {
    expect(await labelledObjects(results.runId)).to.deep.equal({ containers: [], networks: [] });
  });
});
