/**
 * evaluate() against hand-made host results: a figure nobody reported is not measured (an invalid row, never
 * a zero that passes), and a theory that cannot predict makes its row invalid instead of throwing.
 */
import { expect } from 'chai';
import { evaluate, measure } from '../../lab/run/evaluate.ts';
import type { HostResult } from '../../lab/results/results.ts';
import { kernelRelease } from '../../lab/scenario/theory.ts';
import type { Expectation, TheoryContext } from '../../lab/scenario/types.ts';
import { clientTheoryOf } from './client-theory.ts';

const theory = (name: string) => clientTheoryOf(name);

const context = (...names: string[]): Omit<TheoryContext, 'client'> => ({
  kernel: kernelRelease('6.12.48'),
  clients: names.map(theory),
  server: { ip: '198.18.0.2', ports: [7100], backlog: 4096, workers: 1, nofile: 20000 },
});

const host = (overrides: Partial<HostResult> = {}): HostResult => ({
  name: 'client-1',
  role: 'client',
  ip: '198.18.0.11',
  estab: 0,
  timewait: 0,
  errors: {},
  bindErrors: {},
  sysctls: {},
  nofile: 20000,
  nstat: { TcpActiveOpens: 0 },
  hostWide: { total: 0, tcp: 0, closed: 0, orphaned: 0 },
  ...overrides,
});

/** A client whose own program (client.program) exited 0 without its 'filled' line. */
const silent = (overrides: Partial<HostResult> = {}): HostResult =>
  host({ flood: { program: 'true', asked: 1000, processes: 1, established: 0, failed: 0, fillSeconds: 0.1, unreported: true }, ...overrides });

/** The same client, its program having reported (no errors). */
const reported = (overrides: Partial<HostResult> = {}): HostResult =>
  host({ flood: { program: 'true', asked: 1000, processes: 1, established: 0, failed: 0, fillSeconds: 0.1 }, ...overrides });

const server = host({ name: 'server', role: 'server', ip: '198.18.0.2', listenBacklog: 4096 });

const noErrors: Expectation = { claim: 'no errors', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => 0 };

describe('evaluate: figures nobody measured', () => {
  it('makes an expectation on the errors of a program that reported nothing invalid, not a pass', () => {
    const [row, ...rest] = evaluate([noErrors], context('client-1'), server, [silent()]);
    expect(rest).to.have.length(0);
    expect(row!.host).to.equal('client-1');
    expect(row!.pass).to.equal(false);
    expect(row!.invalid).to.match(/not measured/);
    expect(row!.invalid).to.include('true');
    expect(row!.measured).to.be.NaN;
    expect(row!.predicted).to.deep.include({ min: 0, max: 0 });
  });

  it('passes the same expectation when the program reported and counted no errors', () => {
    const [row] = evaluate([noErrors], context('client-1'), server, [reported({ errors: {} })]);
    expect(row!.pass).to.equal(true);
    expect(row!.measured).to.equal(0);
    expect(row!).not.to.have.property('invalid');
  });

  it("makes the sum over all clients invalid when one client's program reported nothing", () => {
    const all: Expectation = { claim: 'no errors in all', subject: 'all clients', metric: 'errors.EADDRNOTAVAIL', predict: () => 0 };
    const clients = [reported(), silent({ name: 'client-2', ip: '198.18.0.12' })];
    const [row] = evaluate([all], context('client-1', 'client-2'), server, clients);
    expect(row!.host).to.equal('all clients');
    expect(row!.pass).to.equal(false);
    expect(row!.invalid).to.match(/not measured/);
    expect(row!.measured).to.be.NaN;
  });

  it('makes every program figure of a silent program not measured: opened, pongs, ping.*', () => {
    for (const metric of ['opened', 'pongs', 'ping.p99', 'errors.EMFILE'] as const) {
      const m = measure(silent(), metric);
      expect(m, metric).to.have.property('notMeasured').that.includes('true');
    }
  });

  it('makes an expectation on a counter the kernel does not have invalid', () => {
    const e: Expectation = { claim: 'no such counter', subject: 'server', metric: 'nstat.NoSuchCounter', predict: () => 0 };
    const [row] = evaluate([e], context('client-1'), server, [reported()]);
    expect(row!.pass).to.equal(false);
    expect(row!.invalid).to.match(/not measured/);
    expect(row!.invalid).to.include('NoSuchCounter');
  });

  it('makes an expectation on the listen backlog invalid where none was read', () => {
    const e: Expectation = { claim: 'backlog', subject: 'server', metric: 'listen.backlog', predict: () => 4096 };
    const [row] = evaluate([e], context('client-1'), host({ name: 'server', role: 'server' }), [reported()]);
    expect(row!.pass).to.equal(false);
    expect(row!.invalid).to.match(/not measured/);
  });

  it('makes a row whose prediction throws invalid, without throwing itself', () => {
    const e: Expectation = {
      claim: 'needs a figure',
      subject: 'each client',
      metric: 'estab',
      predict: () => {
        throw new Error('openFilesAtStart was not reported');
      },
    };
    let rows: ReturnType<typeof evaluate> = [];
    expect(() => (rows = evaluate([e], context('client-1'), server, [reported()]))).not.to.throw();
    expect(rows).to.have.length(1);
    expect(rows[0]!.pass).to.equal(false);
    expect(rows[0]!.invalid).to.match(/no prediction/);
    expect(rows[0]!.invalid).to.include('openFilesAtStart was not reported');
  });

  it("still measures estab on a host whose program reported nothing: it is the kernel's count", () => {
    const e: Expectation = { claim: 'holds nothing', subject: 'each client', metric: 'estab', predict: () => 0 };
    const [row] = evaluate([e], context('client-1'), server, [silent({ estab: 0 })]);
    expect(row!.pass).to.equal(true);
    expect(row!.measured).to.equal(0);
    expect(row!).not.to.have.property('invalid');
    expect(measure(silent({ estab: 7 }), 'estab')).to.equal(7);
    expect(measure(silent({ timewait: 3 }), 'timewait')).to.equal(3);
  });
});

describe('failures a program line counts', () => {
  it('sums connect() and bind() failures, an errno in both counted in both', async () => {
    const { failuresIn } = await import('../../lab/programs/lines.ts');
    expect(failuresIn({ errors: { EADDRINUSE: 3, ETIMEDOUT: 1 }, bind_errors: { EADDRINUSE: 5 } })).to.equal(9);
    expect(failuresIn(undefined)).to.equal(0);
  });
});

describe('a row with no prediction, written and read back', () => {
  it('shows "-" for its prediction, not ">= null"', async () => {
    const { formatPrediction } = await import('../../lab/scenario/theory.ts');
    const { parseResults } = await import('../../lab/report/read.ts');
    const { readFileSync } = await import('node:fs');
    const { resultsToJson } = await import('../../lab/results/results.ts');
    const results = parseResults(readFileSync(new URL('../fixtures/results/64k-myth-6.18.44.json', import.meta.url), 'utf8'), 'fixture.json');
    results.cases[0]!.expectations[0]!.predicted = { min: NaN, max: NaN };
    const read = parseResults(resultsToJson(results), 'x.json');
    expect(formatPrediction(read.cases[0]!.expectations[0]!.predicted)).to.equal('-');
    expect(formatPrediction({ min: 3, max: Infinity })).to.equal('>= 3');
  });
});
