/**
 * A neighbour's work is not the case's (issue "Hostile use, round two", item 3): socket-memory's host-wide
 * slab figure, read while another lab run is alive on this machine, is INVALID naming that run, never FAIL or
 * PASS; the figures from the case's own containers are still judged. Alone, socket-memory --quick passes.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Results } from '../../lab/results/results.ts';
import { liveRuns } from '../../lab/run-ledger.ts';
import { lab, labelledObjects, prepareRuntime, runIdIn, startLab } from './helpers.ts';

const NOTHING = { containers: [], networks: [] };
const SLAB = 'memory.slabBytesPerConnection';
/** The neighbour: one quick case of 64k-myth, held with its hosts up before its flood for up to a minute. */
const NEIGHBOUR = ['run', 'scenarios/64k-myth.ts', '--quick', '--case', '1 client, default range'];
const FIRST_CASE = 'idle connections, default buffers';
/** Runs of socket-memory alone, each after waiting for the machine to have no other lab run. */
const ATTEMPTS = 6;

describe('host-wide figures and the other runs on this machine (real engine)', function () {
  let dir: string;
  const mine: string[] = [];

  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-neighbour-'));
  });
  after(() => {
    // Only this file's own runs, never a bare clean: other runs may be live on this engine.
    for (const runId of mine) if (lab(['clean', '--run', runId]).status !== 0) console.log(`      (could not clean ${runId})`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('socket-memory beside another run: the slab row INVALID naming it, the rows of its own containers judged', async () => {
    const neighbour = startLab([...NEIGHBOUR, '--report', join(dir, 'neighbour')], { LAB_HOLD_PHASE: 'flood' });
    try {
      // Held before its flood: its hosts are up and it has said which kernel they run on.
      await neighbour.waitFor(/holding before flood/);
      const other = runIdIn(neighbour.output());
      mine.push(other);
      const json = join(dir, 'beside.json');
      const run = startLab(['run', 'scenarios/socket-memory.ts', '--quick', '--case', FIRST_CASE, '--json', json, '--report', join(dir, 'beside')]);
      const result = await run.exited;
      mine.push(runIdIn(result.stdout));
      expect(result.status, result.stdout + result.stderr).to.equal(1);
      const results = JSON.parse(readFileSync(json, 'utf8')) as Results;
      const [only] = results.cases;
      const slab = only!.expectations.find((e) => e.metric === SLAB)!;
      expect(slab.pass).to.equal(false);
      expect(slab.invalid).to.match(new RegExp(`^not measured: runs? (.+, )?${other}(, .+)? (was|were) active on this machine$`));
      expect(result.stdout).to.match(new RegExp(`INVALID: not measured: runs? .*${other}.* active on this machine`));
      // The host result carries why, and no growth that would look like a measurement.
      const server = only!.hosts.find((h) => h.role === 'server')!;
      expect(server.hostWide.notMeasured).to.equal(slab.invalid!.slice('not measured: '.length));
      expect(server.hostWide).to.not.have.property('slabObjectBytes');
      expect(only!.memory?.hostWideNotMeasured).to.equal(server.hostWide.notMeasured);
      expect(result.stdout).to.match(/kernel not measured \(host-wide: runs? .* active on this machine\)/);
      // Figures read from the case's own containers are still judged, and hold.
      const own = only!.expectations.filter((e) => e.metric !== SLAB);
      expect(own.length).to.be.at.least(3);
      for (const e of own) expect(e.pass, `${e.claim} on ${e.host}: ${e.invalid ?? e.measured}`).to.equal(true);
      expect(await labelledObjects(runIdIn(result.stdout))).to.deep.equal(NOTHING);
    } finally {
      neighbour.signal('SIGINT');
      const ended = await neighbour.exited;
      expect(ended.status, ended.stderr).to.equal(130);
    }
    expect(await labelledObjects(mine[0])).to.deep.equal(NOTHING);
  });

  it('socket-memory --quick alone: every case passes', async function () {
    // Alone means no other lab run alive on this machine: wait for the others to end (they are not ours to
    // stop), and try again when one started beside it after all. A busy machine may take a while.
    this.timeout(60 * 60_000);
    for (let attempt = 1; ; attempt++) {
      await aloneOnThisMachine(10 * 60_000);
      const json = join(dir, `alone-${attempt}.json`);
      const run = lab(['run', 'scenarios/socket-memory.ts', '--quick', '--json', json, '--report', join(dir, `alone-${attempt}`)], { CI: 'true' });
      if (!existsSync(json))
        throw new Error(`socket-memory did not run (exit ${run.status}): ${run.stderr.trim() || run.stdout.trim().split('\n').at(-1)}`);
      mine.push(runIdIn(run.stdout));
      const results = JSON.parse(readFileSync(json, 'utf8')) as Results;
      const rows = results.cases.flatMap((c) => c.expectations);
      // A run that started beside it after all is said, not judged: try again once it has gone.
      if (attempt < ATTEMPTS && rows.some((e) => e.invalid?.includes('active on this machine'))) continue;
      const wrong = rows
        .filter((e) => !e.pass)
        .map((e) => `${e.claim} on ${e.host}: ${e.invalid ?? `measured ${e.measured}, predicted ${e.predicted.min}-${e.predicted.max}`}`);
      expect(wrong, run.stdout).to.deep.equal([]);
      expect(run.status, run.stderr).to.equal(0);
      expect(await labelledObjects(results.runId)).to.deep.equal(NOTHING);
      return;
    }
  });
});

async function aloneOnThisMachine(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await liveRuns()).length) {
    if (Date.now() > deadline)
      throw new Error(
        `other lab runs stayed alive on this machine for ${timeoutMs / 60_000} min: ${(await liveRuns()).map((r) => r.runId).join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, 2000));
  }
}
