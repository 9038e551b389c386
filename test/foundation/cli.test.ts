/** The `lab` command as a user runs it, against the real engine: the demo, exit codes, bad input, cleanup. */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Docker from 'dockerode';
import { fixture, lab, labelledObjects, prepareRuntime, projectRoot } from '../integration/helpers.ts';

describe('lab run scenarios/64k-myth.ts --quick (real engine)', function () {
  let dir: string;
  let run: ReturnType<typeof lab>;
  let results: any;

  before(async function () {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-test-'));
    run = lab(['run', 'scenarios/64k-myth.ts', '--quick', '--json', join(dir, 'results.json')], { CI: 'true' });
    results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 with every expectation holding, and prints the verdict table', () => {
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/PASS: every expectation held in 4 of 4 cases/);
    expect(run.stdout).to.match(/Case 3\/4: 4 clients, default range\s+PASS/);
  });

  it('shows each phase as a plain timestamped line without a terminal', () => {
    for (const phase of ['Images (built when missing', 'Network lab-', 'Start the server', 'Flood:', 'Collect ss -s', 'Tear down']) {
      expect(run.stdout).to.include(phase);
    }
    expect(run.stdout).to.match(/\[\d\d:\d\d:\d\d\]/);
    expect(run.stdout).to.not.match(/\u001b\[/);
  });

  it('writes results JSON with the environment, the cases, their expectations and per-container figures', () => {
    expect(results.scenario).to.equal('64k-myth');
    expect(results.pass).to.equal(true);
    expect(results.environment.kernel).to.be.a('string').and.not.empty;
    expect(results.environment.engine).to.match(/^Docker /);
    expect(results.cases.map((c: any) => c.name)).to.deep.equal([
      '1 client, default range',
      '2 clients, default range',
      '4 clients, default range',
      '1 client, range 1024-65535',
    ]);
    for (const c of results.cases) {
      expect(c.pass).to.equal(true);
      for (const e of c.expectations) expect(e).to.include.keys('claim', 'predicted', 'measured', 'pass');
      for (const h of c.hosts) {
        expect(h).to.include.keys('role', 'ip', 'estab', 'timewait', 'errors');
        expect(h.ip).to.match(/^198\.1[89]\./);
      }
    }
    const four = results.cases[2];
    const server = four.hosts.find((h: any) => h.role === 'server');
    const clients = four.hosts.filter((h: any) => h.role === 'client');
    expect(clients).to.have.length(4);
    expect(server.estab).to.equal(clients.reduce((s: number, c: any) => s + c.estab, 0));
    for (const c of clients) expect(c.errors.EADDRNOTAVAIL).to.be.at.least(1);
  });

  it("writes results.json, summary.md and report.html into the run's own folder", () => {
    const folder = /results: (\S+)\/results\.json/.exec(run.stdout)?.[1];
    expect(folder, run.stdout).to.match(/\/results\/64k-myth-\w+$/);
    const summary = readFileSync(join(folder!, 'summary.md'), 'utf8');
    expect(summary).to.include('64k-myth');
    expect(readFileSync(join(folder!, 'report.html'), 'utf8')).to.include('<svg');
    expect(JSON.parse(readFileSync(join(folder!, 'results.json'), 'utf8')).runId).to.equal(results.runId);
  });

  it('leaves nothing labelled lab.run behind', async () => {
    expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
  });
});

describe('lab exit codes', function () {
  before(prepareRuntime);

  it('exits 1 when the kernel does not do what the scenario predicts', async () => {
    const run = lab(['run', fixture('wrong-prediction.ts')], { CI: 'true' });
    expect(run.status, run.stderr).to.equal(1);
    expect(run.stdout).to.match(/holds 1500\s+client-1\s+1500\s+\d+\s+FAIL/);
    expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
  });

  const badInput: Array<[string, string[], RegExp]> = [
    ['a missing scenario file', ['run', 'scenarios/nope.ts'], /^lab: scenarios\/nope\.ts: no such scenario file$/],
    [
      'a misspelt field',
      ['run', fixture('misspelt-field.ts')],
      /misspelt-field\.ts: client\.conections: unknown field \(did you mean "connections"\?\)$/,
    ],
    ['a wrong type', ['run', fixture('wrong-type.ts')], /wrong-type\.ts: server\.ports\[0\]: must be a whole number from 1 to 65535 \(got "http"\)$/],
    [
      'a host-wide sysctl',
      ['run', fixture('host-wide-sysctl.ts')],
      /host-wide-sysctl\.ts: server\.sysctls\["fs\.file-max"\]: fs\.file-max is host-wide/,
    ],
    [
      'more clients than the subnet holds',
      ['run', fixture('too-many-clients.ts')],
      /too-many-clients\.ts: cases\[0\]\.clients: 6 clients do not fit in 198\.19\.250\.0\/28/,
    ],
    ['a file with no default export', ['run', fixture('no-default-export.ts')], /no-default-export\.ts: has no default export/],
    ['an unknown flag', ['run', 'scenarios/64k-myth.ts', '--bogus'], /Unknown option `--bogus`/],
    ['an unknown case', ['run', 'scenarios/64k-myth.ts', '--case', 'nine clients'], /64k-myth\.ts: --case: no case named "nine clients"/],
    ['an unknown command', ['fly'], /unknown command "fly"/],
  ];
  for (const [what, args, message] of badInput) {
    it(`exits 2 on ${what}, with one line and nothing started`, async () => {
      const run = lab(args, { CI: 'true' });
      expect(run.status, run.stderr + run.stdout).to.equal(2);
      expect(run.stderr.trim().split('\n'), run.stderr).to.have.length(1);
      expect(run.stderr.trim()).to.match(message);
      expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
    });
  }

  it('exits 2 on a scenario with a syntax error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-test-'));
    const file = join(dir, 'broken.ts');
    copyFileSync(join(projectRoot, 'test/fixtures/scenarios/syntax-error.ts.txt'), file);
    try {
      const run = lab(['run', file]);
      expect(run.status).to.equal(2);
      // Where the error is, as an editor takes it: file:line:column.
      expect(run.stderr.trim()).to.match(/broken\.ts:\d+:\d+: cannot be loaded: /);
      expect(run.stderr.trim().split('\n')).to.have.length(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 3 when no engine answers and the lab may not start one', () => {
    const run = lab(['run', 'scenarios/64k-myth.ts', '--quick'], { DOCKER_HOST: 'unix:///tmp/lab-no-engine.sock' });
    expect(run.status).to.equal(3);
    expect(run.stderr).to.match(/^lab: no Docker engine answers at \/tmp\/lab-no-engine\.sock/);
  });
});

describe('lab clean', function () {
  before(prepareRuntime);

  it('removes what a run left behind, found by its label, and only that run', async () => {
    const docker = new Docker();
    const left = await docker.createNetwork({ Name: 'lab-leftover-a', Internal: true, Labels: { 'lab.run': 'leftover-a' } });
    const other = await docker.createNetwork({ Name: 'lab-leftover-b', Internal: true, Labels: { 'lab.run': 'leftover-b' } });
    try {
      const one = lab(['clean', '--run', 'leftover-a']);
      expect(one.status).to.equal(0);
      expect(one.stdout).to.match(/removed \(run leftover-a\): network lab-leftover-a/);
      expect((await labelledObjects()).networks).to.deep.equal(['lab-leftover-b']);
      const all = lab(['clean']);
      expect(all.stdout).to.include('network lab-leftover-b');
      expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
    } finally {
      await left.remove().catch(() => undefined);
      await other.remove().catch(() => undefined);
    }
  });
});
