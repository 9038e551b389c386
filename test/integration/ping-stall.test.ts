/**
 * A server that stalls mid-hold: hold-ping's 10,000 pings/s case, its labserver SIGSTOPped for 3 s while the
 * clients ping. Every connection's Ping times out and ends it, and those timeouts must reach the round-trip
 * percentiles: "p99 round trip stays under the timeout" fails with a p99 of at least the timeout, never a pass
 * on the Pongs that came back in time before the stall.
 */
import { expect } from 'chai';
import type { Results } from '../../lab/results/results.ts';
import { lab, labelledObjects, prepareRuntime, runWithServerStalled, type CliResult } from './helpers.ts';

const CASE = '10,000 pings/s';
const TIMEOUT_MS = 1000;
const CLIENTS = 4;
const STALL_MS = 3000;

describe('a server stalled mid-hold (labserver SIGSTOPped for 3 s)', function () {
  this.timeout(300_000);
  let run: CliResult;
  let results: Results;
  let runId: string | undefined;

  before(async function () {
    this.timeout(15 * 60 * 1000);
    await prepareRuntime();
    ({ run, results, runId } = await runWithServerStalled(['scenarios/hold-ping.ts', '--quick', '--case', CASE], CLIENTS, STALL_MS));
  });
  after(async () => {
    // Only this run's leftovers: other runs on the engine are none of this test's business.
    const left = runId ? await labelledObjects(runId) : undefined;
    if (left && (left.containers.length || left.networks.length)) lab(['clean', '--run', runId!]);
  });

  it('exits 1: the case did not behave as predicted', () => {
    expect(run.status, run.stdout + run.stderr).to.equal(1);
    expect(results.pass).to.equal(false);
  });

  it('ends connections on timeouts during the hold, with Pongs in time before the stall', () => {
    const clients = results.cases[0]!.hosts.filter((h) => h.role === 'client');
    expect(clients).to.have.length(4);
    for (const client of clients) {
      const ping = client.flood?.holdPing;
      expect(ping, client.name).to.not.equal(undefined);
      expect(ping!.timeouts, `${client.name}: the stall fell in the hold`).to.be.above(0);
      expect(ping!.pongs, `${client.name}: Pongs came back before the stall`).to.be.above(0);
    }
  });

  it('fails "p99 round trip stays under the timeout" on every client, with a p99 of at least the timeout', () => {
    const rows = results.cases[0]!.expectations.filter((r) => r.claim === 'p99 round trip stays under the timeout');
    expect(rows).to.have.length(4);
    for (const row of rows) {
      expect(row.pass, JSON.stringify(row)).to.equal(false);
      expect(row, JSON.stringify(row)).to.not.have.property('invalid');
      expect(row.measured, JSON.stringify(row)).to.be.at.least(TIMEOUT_MS);
    }
    expect(run.stdout).to.match(/p99 round trip stays under the timeout +client-1 +0-1000 +[\d.]+ +FAIL/);
  });

  it("shows the stall in each client's p99 and max", () => {
    for (const client of results.cases[0]!.hosts.filter((h) => h.role === 'client')) {
      const rtt = client.flood!.holdPing!.rttMs;
      expect(rtt, client.name).to.not.equal(undefined);
      expect(rtt!.p99, client.name).to.be.at.least(TIMEOUT_MS);
      expect(rtt!.max, client.name).to.be.at.least(TIMEOUT_MS);
    }
  });

  it('leaves no container or network of its run behind', async () => {
    expect(await labelledObjects(runId)).to.deep.equal({ containers: [], networks: [] });
  });
});
