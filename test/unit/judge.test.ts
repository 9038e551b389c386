/**
 * Judging bounded in time: a scenario file's predict() runs in a worker that loads the file itself; one that
 * never returns is stopped at the limit (its rows INVALID, saying so), a signal stops it at once, and the
 * normal path gives the rows evaluate() gives. No engine: hand-made host results.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { TheoryData } from '../../lab/run/judging.ts';
import type { HostResult } from '../../lab/results/results.ts';
import type { Expectation, Scenario } from '../../lab/scenario/types.ts';

// As ES modules, as bin/lab.js loads the lab: the loader tsx gives scenario files is an ES module's.
const { Interrupted } = await import('../../lab/errors.ts');
const { JUDGE_TIMEOUT_ENV, Judge } = await import('../../lab/run/judge.ts');
const { evaluate } = await import('../../lab/run/evaluate.ts');
const { theoryOf } = await import('../../lab/run/judging.ts');
const { loadScenario } = await import('../../lab/scenario/load.ts');
const { defineScenario } = await import('../../lab/scenario/define.ts');

const FIXTURE = 'test/fixtures/scenarios/predict-never-returns.ts';

const host = (name: string, role: 'server' | 'client', estab: number): HostResult => ({
  name,
  role,
  ip: role === 'server' ? '198.18.0.2' : '198.18.0.11',
  estab,
  timewait: 0,
  errors: {},
  bindErrors: {},
  sysctls: {},
  nofile: 1024,
  nstat: {},
  hostWide: { total: 0, tcp: 0, closed: 0, orphaned: 0 },
  ...(role === 'client' && { flood: { program: 'labclient', asked: 200, processes: 1, established: estab, failed: 0, fillSeconds: 0.1 } }),
});

const server = host('server', 'server', 200);
const clients = [host('client-1', 'client', 200)];

/** What the run measured: with slab object sizes, which only the run reads (the fixture loops on them). */
const measured = (slab = true): TheoryData => ({
  kernel: { release: '6.1.0-56-amd64', version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2025-01-01)' },
  clients: [
    {
      name: 'client-1',
      ip: '198.18.0.11',
      portRange: [32768, 60999],
      reservedPorts: [],
      boundPorts: [],
      destinations: 1,
      asked: 200,
      bind: 'none',
      nofile: 1024,
      processes: 1,
      kernel: { release: '6.12.48' },
    },
  ],
  server: { ip: '198.18.0.2', ports: [9000], backlog: 4096, workers: 1, nofile: 1024 },
  ...(slab && { slabObjectSizes: { TCP: 2432 } }),
  tracked: false,
});

function withLimit(seconds: string | undefined, run: () => Promise<void>): () => Promise<void> {
  return async () => {
    const before = process.env[JUDGE_TIMEOUT_ENV];
    if (seconds === undefined) delete process.env[JUDGE_TIMEOUT_ENV];
    else process.env[JUDGE_TIMEOUT_ENV] = seconds;
    try {
      await run();
    } finally {
      if (before === undefined) delete process.env[JUDGE_TIMEOUT_ENV];
      else process.env[JUDGE_TIMEOUT_ENV] = before;
    }
  };
}

describe('judging bounded in time', function () {
  let scenario: Scenario;
  let expectations: Expectation[];
  let judge: InstanceType<typeof Judge>;

  before(async () => {
    scenario = await loadScenario(FIXTURE);
    expectations = [...(scenario.cases[0]!.expect ?? [])];
  });
  beforeEach(() => {
    judge = new Judge(scenario);
    judge.warm();
  });
  afterEach(() => judge.close());

  it(
    'a predict() that never returns: its row INVALID naming the limit, the rows before it judged, within the limit',
    withLimit('1', async () => {
      const started = performance.now();
      const rows = await judge.judge(0, expectations, measured(), server, clients);
      expect(performance.now() - started).to.be.below(3000);
      expect(rows.map((r) => [r.claim, r.pass, r.invalid])).to.deep.equal([
        ['every connection is held', true, undefined],
        ['a theory that never returns once measured', false, 'predict() did not return within 1 s'],
        ['no port ran out', false, "not judged: an earlier expectation's predict() did not return within 1 s"],
      ]);
      expect(rows[2]!.host).to.equal('client-1');
    }),
  );

  it(
    'the next case gets a fresh worker after one was stopped',
    withLimit('1', async () => {
      await judge.judge(0, expectations, measured(), server, clients);
      const rows = await judge.judge(0, expectations, measured(false), server, clients);
      expect(
        rows.every((r) => r.pass && !r.invalid),
        JSON.stringify(rows),
      ).to.equal(true);
    }),
  );

  it(
    'a signal stops the judging at once: Interrupted, long before the limit',
    withLimit('60', async () => {
      const aborter = new AbortController();
      const started = performance.now();
      setTimeout(() => aborter.abort('SIGINT'), 500);
      const error = await judge.judge(0, expectations, measured(), server, clients, aborter.signal).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(Interrupted);
      expect((error as InstanceType<typeof Interrupted>).signal).to.equal('SIGINT');
      expect(performance.now() - started).to.be.below(2000);
    }),
  );

  it(
    'the normal path: the same rows evaluate() gives in this thread, kernels rebuilt from their strings',
    withLimit(undefined, async () => {
      const started = performance.now();
      const rows = await judge.judge(0, expectations, measured(false), server, clients);
      const here = evaluate(expectations, theoryOf(measured(false)), server, clients);
      expect(rows).to.deep.equal(JSON.parse(JSON.stringify(here)));
      expect(performance.now() - started).to.be.below(2000);
    }),
  );

  it(
    'the planning check passes the fixture (it loops only on measured figures) and refuses one that never returns on the plan',
    withLimit('1', async () => {
      await judge.check(0, expectations, measured(false), FIXTURE, (i) => `cases[0].expect[${i}].predict`);
      const error = await judge
        .check(0, expectations, measured(), FIXTURE, (i) => `cases[0].expect[${i}].predict`)
        .then(
          () => undefined,
          (e: unknown) => e as Error,
        );
      expect(error?.message).to.equal(
        `${FIXTURE}: cases[0].expect[1].predict: predict() did not return within 1 s, tried on the plan before anything started`,
      );
    }),
  );

  it(
    "expectations that are not the file's (it changed during the run): INVALID, never judged",
    withLimit('5', async () => {
      const changed = expectations.map((e) => ({ ...e, claim: `${e.claim} (edited)` }));
      const rows = await judge.judge(0, changed, measured(false), server, clients);
      expect(rows).to.have.length(3);
      for (const row of rows)
        expect(row.invalid).to.equal('not judged: the scenario file changed during the run: its expectations are not the ones the run planned');
    }),
  );

  it('the worker started ahead holds no process open: a process that imports the judging ends by itself', () => {
    // Importing lab/run/judge.ts starts a spare worker; a listener added after unref() would ref it again.
    const dir = mkdtempSync(join(tmpdir(), 'lab-judge-'));
    try {
      const script = join(dir, 'imports-judge.mjs');
      writeFileSync(script, `await import(${JSON.stringify(new URL('../../lab/run/judge.ts', import.meta.url).href)});\nconsole.log('imported');\n`);
      const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 20_000 });
      expect(child.signal, 'held open until killed').to.equal(null);
      expect(child.status, child.stderr).to.equal(0);
      expect(child.stdout.trim()).to.equal('imported');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a scenario made in code is judged in this thread: its predict() is its caller's own", async () => {
    const inCode = defineScenario({ ...scenario });
    const here = new Judge(inCode);
    expect(here.file).to.equal(undefined);
    const rows = await here.judge(0, expectations, measured(false), server, clients);
    expect(rows.every((r) => r.pass)).to.equal(true);
  });
});
