/**
 * connscale's hold stepping down (holdPing.stepDownMs), made to fall behind for sure: the server's labserver
 * is SIGSTOPped for 1.2 s in the first cadence (a Ping a second, a 2 s timeout). The Pings sent during the
 * stall come back later than a quarter of the timeout, so every client process falls behind, waits for the
 * Pings out and pings every 2 s instead, to that cadence's end; no Pong passes the timeout, none is lost.
 */
import { expect } from 'chai';
import type { Results } from '../../lab/results/results.ts';
import { lab, labelledObjects, prepareRuntime, runWithServerStalled, type CliResult } from './helpers.ts';

const CLIENTS = 2;
const STALL_MS = 1200;

describe('a hold that falls behind steps down (labserver SIGSTOPped for 1.2 s in the first cadence)', function () {
  this.timeout(300_000);
  let run: CliResult;
  let results: Results;
  let runId: string | undefined;

  before(async function () {
    this.timeout(15 * 60 * 1000);
    await prepareRuntime();
    ({ run, results, runId } = await runWithServerStalled(['test/fixtures/scenarios/step-down.ts'], CLIENTS, STALL_MS));
  });
  after(async () => {
    // Only this run's leftovers: other runs on the engine are none of this test's business.
    const left = runId ? await labelledObjects(runId) : undefined;
    if (left && (left.containers.length || left.networks.length)) lab(['clean', '--run', runId!]);
  });

  it('passes: every connection held, the slower cadence held, no timeout', () => {
    expect(run.status, run.stdout + run.stderr).to.equal(0);
    expect(results.pass).to.equal(true);
  });

  it('has every process of every client fall behind at a Ping a second, and hold a Ping every 2 s to its end', () => {
    const clients = results.cases[0]!.hosts.filter((h) => h.role === 'client');
    expect(clients).to.have.length(2);
    for (const client of clients) {
      const ping = client.flood!.holdPing!;
      const [first, second, ...more] = ping.steps ?? [];
      expect(more, client.name).to.deep.equal([]);
      expect(first, client.name).to.deep.include({ intervalMs: 1000, held: false, behind: client.flood!.processes });
      expect(first!.rttMs!.max, `${client.name}: the stall shows in the first cadence`).to.be.at.least(500);
      expect(second, client.name).to.deep.include({ intervalMs: 2000, held: true, behind: 0, timeouts: 0 });
      expect(second!.seconds, `${client.name}: the whole 4 s (from the schedule's turn, within a ms)`).to.be.at.least(3.9);
      expect(second!.pongs, `${client.name}: every Ping of the 4 s at 1000/s answered`).to.be.at.least(3800);
      expect([ping.intervalMs, ping.timeouts], client.name).to.deep.equal([2000, 0]);
    }
  });

  it('reports the cadence held and the one fallen behind', () => {
    expect(run.stdout).to.match(/cadence: every client held a Ping every 2,000 ms \(2,000 pings\/s in all\); not held at 1,000 ms \(4,000\/s\)/);
    expect(run.stdout).to.match(/every 1,000 ms \(2,000 pings\/s asked\): 1 of 1 process\(es\) fell behind/);
  });

  it('leaves no container or network of its run behind', async () => {
    expect(await labelledObjects(runId)).to.deep.equal({ containers: [], networks: [] });
  });
});
