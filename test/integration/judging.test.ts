/**
 * Judging bounded in time (issue "Hostile use, round two", item 7): a predict() that is fine while the run
 * plans and never returns once it is given the measured figures must not hold the lab in Collect with its
 * containers up, deaf to signals. Its row is INVALID naming the time limit and the run tears down (exit 1);
 * SIGINT or SIGTERM while it spins tears down at once (exit 130). Nothing is left labelled with the run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Results } from '../../lab/results/results.ts';
import { fixture, lab, labelledObjects, prepareRuntime, runIdIn, startLab } from './helpers.ts';

const NOTHING = { containers: [], networks: [] };
const RUN = ['run', fixture('predict-never-returns.ts')];

describe('a predict() that never returns once measured (real engine)', function () {
  let dir: string;
  const mine: string[] = [];

  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-judging-'));
  });
  after(() => {
    // Only this file's own runs, never a bare clean: other runs may be live on this engine.
    for (const runId of mine) lab(['clean', '--run', runId]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('its row is INVALID naming the time limit, the run tears down and ends (exit 1), nothing left', async () => {
    const json = join(dir, 'limit.json');
    const started = Date.now();
    const run = startLab([...RUN, '--json', json, '--report', join(dir, 'limit')], { LAB_JUDGE_TIMEOUT_SECONDS: '3' });
    await run.waitFor(/Network lab-/);
    const runId = runIdIn(run.output());
    mine.push(runId);
    const result = await Promise.race([run.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 120_000))]);
    if (result === 'hung') run.signal('SIGKILL');
    expect(result, `the lab hung:\n${run.output()}`).to.not.equal('hung');
    const { status, stdout, stderr } = result as Exclude<typeof result, 'hung'>;
    expect(status, stdout + stderr).to.equal(1);
    expect(stdout).to.include('INVALID: predict() did not return within 3 s');
    const [only] = (JSON.parse(readFileSync(json, 'utf8')) as Results).cases;
    expect(only!.expectations.map((e) => [e.claim, e.pass, e.invalid])).to.deep.equal([
      ['every connection is held', true, undefined],
      ['a theory that never returns once measured', false, 'predict() did not return within 3 s'],
      ['no port ran out', false, "not judged: an earlier expectation's predict() did not return within 3 s"],
    ]);
    expect(Date.now() - started, 'bounded: the limit, not forever').to.be.below(90_000);
    expect(await labelledObjects(runId)).to.deep.equal(NOTHING);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} while it spins: the lab tears down at once (exit 130), nothing left`, async () => {
      const run = startLab([...RUN, '--report', join(dir, signal)], { LAB_JUDGE_TIMEOUT_SECONDS: '120' });
      await run.waitFor(/Collect ss -s and nstat/);
      const runId = runIdIn(run.output());
      mine.push(runId);
      // Collecting takes a second or two: then it judges, spins, and says so 2 s later (a lab that cannot say
      // it, its one thread spinning, is signalled all the same once that time has passed).
      await run.waitFor(/a predict\(\) has not returned for 2 s/, 15_000).catch(() => undefined);
      // As in the issue: judging, with the server and the client still up.
      expect((await labelledObjects(runId)).containers).to.have.length(2);
      const sent = Date.now();
      run.signal(signal);
      const result = await Promise.race([run.exited, new Promise<'deaf'>((r) => setTimeout(() => r('deaf'), 60_000))]);
      if (result === 'deaf') run.signal('SIGKILL');
      expect(result, `the lab ignored ${signal}:\n${run.output()}`).to.not.equal('deaf');
      const { status, stdout, stderr } = result as Exclude<typeof result, 'deaf'>;
      expect(status, stderr).to.equal(130);
      expect(stderr).to.include(`lab: interrupted by ${signal}: tore down what this run created`);
      expect(Date.now() - sent).to.be.below(30_000);
      expect(await labelledObjects(runId)).to.deep.equal(NOTHING);
      // It was judging when the signal came, and said so.
      expect(stdout).to.include('case 1: judging: a predict() has not returned for 2 s; it is stopped at 120 s (LAB_JUDGE_TIMEOUT_SECONDS)');
    });
  }
});
