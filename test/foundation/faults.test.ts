/**
 * The lab under faults, against the real engine: signals at each phase, the lab killed, a client or the
 * server killed mid-flood. Each test does the bad thing for real and then checks what is left.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { containerOf, execIn, fixture, lab, labelledObjects, prepareRuntime, runIdIn, startLab } from '../integration/helpers.ts';

const NOTHING = { containers: [], networks: [] };
const QUICK_TWO_CLIENTS = ['run', 'scenarios/64k-myth.ts', '--quick', '--case', '2 clients, default range'];

describe('signals at each phase tear the run down', function () {
  before(prepareRuntime);

  const phases = ['images', 'network', 'hosts', 'server', 'flood', 'collect'];
  phases.forEach((phase, i) => {
    const signal = i % 2 === 0 ? 'SIGINT' : 'SIGTERM';
    it(`${signal} before ${phase}: exit 130, one clear line, nothing labelled lab.run left`, async () => {
      const run = startLab(QUICK_TWO_CLIENTS, { LAB_HOLD_PHASE: phase });
      await run.waitFor(new RegExp(`holding before ${phase}`));
      if (!['images', 'network'].includes(phase)) expect((await labelledObjects(runIdIn(run.output()))).networks).to.have.length(1);
      if (['server', 'flood', 'collect'].includes(phase)) expect((await labelledObjects(runIdIn(run.output()))).containers).to.have.length(3);
      run.signal(signal);
      const result = await run.exited;
      expect(result.status, result.stderr).to.equal(130);
      expect(result.stderr).to.include(`lab: interrupted by ${signal}: tore down what this run created`);
      expect(await labelledObjects()).to.deep.equal(NOTHING);
    });
  });

  it('SIGINT mid-flood (connections being opened): exit 130, nothing left', async () => {
    const run = startLab(['run', fixture('long-fill.ts')]);
    await run.waitFor(/client-1: \[[#.]+\] [1-9][\d,]*\//);
    run.signal('SIGINT');
    const result = await run.exited;
    expect(result.status).to.equal(130);
    expect(result.stderr).to.include('lab: interrupted by SIGINT: tore down what this run created');
    expect(await labelledObjects()).to.deep.equal(NOTHING);
  });
});

describe('the lab killed with SIGKILL mid-flood', function () {
  before(prepareRuntime);

  it('leaves floods that stop by themselves, and lab clean removes the leftovers by label', async () => {
    const run = startLab(['run', fixture('short-deadline.ts')]);
    await run.waitFor(/Flood: /);
    const runId = runIdIn(run.output());
    run.signal('SIGKILL');
    await run.exited;
    const client = await containerOf(runId, 'client-1');
    // Nobody is left to stop the flood: it ends by itself, at its own hard stop (the 6 s fill deadline and the
    // minute the plan gives to collect and stop, then SIGALRM 5 s on). Losing the lab does not end it sooner:
    // dockerd goes on draining an exec's output after its client is gone (checked: no EPIPE ever comes).
    const started = Date.now();
    while ((await execIn(client, ['pgrep', '-x', 'labclient'])).exitCode === 0) {
      expect(Date.now() - started, 'flood still running past its own hard stop').to.be.below(80_000);
      await new Promise((r) => setTimeout(r, 500));
    }
    const left = await labelledObjects(runId);
    expect(left.containers).to.have.length(2);
    expect(left.networks).to.deep.equal([`lab-${runId}`]);
    const clean = lab(['clean']);
    expect(clean.status).to.equal(0);
    expect(clean.stdout).to.include(`network lab-${runId}`);
    expect(clean.stdout).to.include(`container lab-${runId}-client-1`);
    expect(clean.stdout).to.include(`container lab-${runId}-server`);
    expect(await labelledObjects()).to.deep.equal(NOTHING);
  });
});

describe('hosts dying mid-flood', function () {
  let dir: string;
  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-faults-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a client container killed: the run finishes, marks it lost, and the verdicts that needed it are invalid', async () => {
    const json = join(dir, 'lost.json');
    const run = startLab(['run', fixture('long-fill.ts'), '--json', json]);
    await run.waitFor(/client-2: \[[#.]+\] [1-9][\d,]*\//);
    await (await containerOf(runIdIn(run.output()), 'client-2')).kill();
    const result = await run.exited;
    expect(result.status, result.stderr).to.equal(1);
    expect(result.stdout).to.match(/client-2 +198\.\S+ +LOST mid-run/);
    const results = JSON.parse(readFileSync(json, 'utf8'));
    const [c] = results.cases;
    expect(c.hosts.find((h: any) => h.name === 'client-2').lost).to.equal(true);
    expect(c.hosts.find((h: any) => h.name === 'client-1').lost).to.equal(undefined);
    const rows = (host: string) => c.expectations.filter((e: any) => e.host === host);
    expect(rows('client-1').every((e: any) => e.pass && !e.invalid)).to.equal(true);
    expect(rows('client-2').every((e: any) => !e.pass && e.invalid === 'client-2 lost mid-run')).to.equal(true);
    expect(rows('server').every((e: any) => !e.pass && e.invalid === 'client-2 lost mid-run')).to.equal(true);
    expect(results.pass).to.equal(false);
    expect(await labelledObjects()).to.deep.equal(NOTHING);
  });

  it('the server container killed: the run fails with a line naming it and cleans up', async () => {
    const run = startLab(['run', fixture('long-fill.ts')]);
    await run.waitFor(/client-1: \[[#.]+\] [1-9][\d,]*\//);
    await (await containerOf(runIdIn(run.output()), 'server')).kill();
    const result = await run.exited;
    expect(result.status).to.equal(4);
    expect(result.stderr).to.match(/^lab: the server server \(198\.\d+\.\d+\.2\) stopped mid-flood/m);
    expect(await labelledObjects()).to.deep.equal(NOTHING);
  });
});

describe('the flood program enforces its own bounds', function () {
  before(prepareRuntime);

  it('stops at its deadline with nobody stopping it, and never asks more than its count', async () => {
    const run = startLab(['run', 'scenarios/64k-myth.ts', '--quick', '--case', '1 client, default range'], { LAB_HOLD_PHASE: 'observe' });
    await run.waitFor(/holding before observe/);
    try {
      const runId = runIdIn(run.output());
      const server = /server (198\.\d+\.\d+\.\d+)/.exec(run.output())![1];
      const started = Date.now();
      // Run to completion inside the client: 50 connections, then it holds them until its 3 s deadline.
      const out = await execIn(await containerOf(runId, 'client-1'), [
        'labclient',
        '--targets',
        `${server}:8080`,
        '--count',
        '50',
        '--deadline',
        '3',
      ]);
      const elapsed = Date.now() - started;
      const lines = out.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const summary = lines.at(-1);
      expect(summary.type).to.equal('summary');
      expect(summary.reason).to.equal('deadline');
      expect(summary.established).to.equal(50);
      expect(elapsed).to.be.within(2500, 8000);
    } finally {
      run.signal('SIGINT');
      await run.exited;
    }
  });
});
