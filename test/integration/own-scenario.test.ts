/**
 * A scenario of one's own, anywhere: written in a fresh folder outside the lab, importing 'tcp-limits-lab'
 * with no node_modules there, run by name of file; its results and JUnit land in that folder. And `lab
 * clean` leaves a run whose lab is alive alone, unless --force, after which the run says what happened.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { fixture, lab, labelledObjects, prepareRuntime, projectRoot, runIdIn, startLab } from './helpers.ts';

const NOTHING = { containers: [], networks: [] };

describe('a scenario of your own, in a folder of your own', function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-mine-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lab new writes one that runs from there, its results and JUnit in that folder', () => {
    const inDir = (args: string[]) =>
      spawnSync(process.execPath, [join(projectRoot, 'bin/lab.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true' } });
    expect(inDir(['new', 'mine']).status).to.equal(0);
    const run = inDir(['run', 'mine.ts', '--quick', '--junit', 'junit.xml']);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.contain('PASS');
    const results = readdirSync(join(dir, 'results'));
    expect(results).to.have.length(1);
    expect(results[0]).to.match(/^mine-/);
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8').match(/<testcase /g)).to.have.length(2);
  });

  it('a scenario name from lab list works where a file does', () => {
    const explained = lab(['explain', '64k-myth']);
    expect(explained.status).to.equal(0);
    expect(explained.stdout).to.contain('file: ');
  });
});

describe('lab clean and a run that is still going', function () {
  this.timeout(300_000);
  before(() => prepareRuntime());

  it('leaves a live run alone; --force removes it, and the run says it was removed from outside', async () => {
    const run = startLab(['run', fixture('long-fill.ts')]);
    await run.waitFor(/client-1: \[[#.]+\] [1-9][\d,]*\//);
    const runId = runIdIn(run.output());
    const spared = lab(['clean']);
    expect(spared.status).to.equal(0);
    expect(spared.stderr).to.contain(`left run ${runId} alone: its lab is still running`);
    expect((await labelledObjects(runId)).containers).to.have.length(3);
    const forced = lab(['clean', '--force']);
    expect(forced.status).to.equal(0);
    const result = await run.exited;
    expect(result.status).to.equal(4);
    expect(result.stderr).to.match(/^lab: .*removed from outside the run/m);
    expect(result.stderr).not.to.match(/^\s+at /m);
    expect(await labelledObjects()).to.deep.equal(NOTHING);
  });
});
