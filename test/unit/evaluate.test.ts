/**
 * evaluate() against hand-made host results: a figure nobody reported is not measured (an invalid row, never
 * a zero that passes), and a theory that cannot predict makes its row invalid instead of throwing.
 */
import { expect } from 'chai';
import { evaluate, measure } from '../../lab/run/evaluate.ts';
import type { PlannedClient } from '../../lab/plan/plan.ts';
import type { ClientLine, HoldPingStepLine } from '../../lab/programs/lines.ts';
import { floodFigures } from '../../lab/results/host-result.ts';
import type { HostResult } from '../../lab/results/results.ts';
import { atLeast, between } from '../../lab/scenario/theory/prediction.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
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
    const { formatPrediction } = await import('../../lab/scenario/theory/prediction.ts');
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

/** The flood figures the results make from labclient's 'filled' and 'held' lines (its hold_ping in µs), all of the plan's asked held. */
const heldFlood = (plan: PlannedClient, hold_ping: NonNullable<ClientLine['hold_ping']>) =>
  floodFigures({
    plan,
    program: 'labclient',
    filled: { type: 'filled', established: plan.asked },
    held: { type: 'held', established: plan.asked, hold_ping },
    holdSeries: [],
    fillSeconds: 0.1,
  });

/** A labclient client of one host that holds connscale's Ping/Pong (its figures as the results make them). */
const holdingClient = (fields: Pick<PlannedClient, 'asked' | 'processes' | 'holdPing'>): PlannedClient => ({
  name: 'client-1',
  role: 'client',
  ip: '198.18.0.11',
  sysctls: {},
  nofile: 20000,
  capabilities: {},
  extraAddresses: [],
  program: ['labclient'],
  targets: ['198.18.0.2:9000'],
  inflight: 100,
  bind: 'none',
  ping: false,
  ...fields,
});

describe('round-trip percentiles of a Ping/Pong hold (ping.p99, ping.max)', () => {
  const plan = holdingClient({ asked: 100, processes: 1, holdPing: { seconds: 3, intervalMs: 1000, timeoutMs: 500 } });
  const rtt = (count: number, p: number, max = p) => ({ count, p50: p, p90: p, p99: p, p999: p, max });
  /** The client as the results make it from labclient's 'held' line (its hold_ping in µs). */
  const heldClient = (hold_ping: NonNullable<ClientLine['hold_ping']>): HostResult => reported({ estab: 0, flood: heldFlood(plan, hold_ping) });
  const underTimeout = (metric: 'ping.p99' | 'ping.max', max = 500): Expectation => ({
    claim: `${metric} under the timeout`,
    subject: 'each client',
    metric,
    predict: () => between(0, max, 'ms'),
  });

  it('makes p99 and max of a hold with no Pong not measured (INVALID), never a 0 that passes', () => {
    // A server that never reads: every Ping given up unanswered, each in the histogram at the time it waited.
    const client = heldClient({ sent: 100, pongs: 0, timeouts: 100, unanswered: 100, hold_ms: 3000, rtt_us: rtt(100, 1_000_100, 1_000_400) });
    expect(client.flood?.holdPing?.rttMs, 'no percentile of no round trip in the results').to.equal(undefined);
    const rows = evaluate([underTimeout('ping.p99'), underTimeout('ping.max')], context('client-1'), server, [client]);
    expect(rows).to.have.length(2);
    for (const row of rows) {
      expect(row.pass, row.metric).to.equal(false);
      expect(row.invalid, row.metric).to.match(/not measured: no Pong came back/);
      expect(row.measured, row.metric).to.be.NaN;
    }
  });

  it('makes them not measured from a program line with no sample at all (count 0, percentiles 0), and from older results', () => {
    const client = heldClient({ sent: 100, pongs: 0, timeouts: 100, hold_ms: 3000, rtt_us: rtt(0, 0) });
    for (const row of evaluate([underTimeout('ping.p99'), underTimeout('ping.max')], context('client-1'), server, [client])) {
      expect(row.pass, row.metric).to.equal(false);
      expect(row.invalid, row.metric).to.match(/not measured: no Pong came back/);
      expect(row.measured, row.metric).to.be.NaN;
    }
    expect(client.flood?.holdPing?.rttMs).to.equal(undefined);
    // An older results file: rttMs with a count of 0 and zeros.
    const older = reported({ flood: { ...client.flood!, holdPing: { ...client.flood!.holdPing!, rttMs: rtt(0, 0) } } });
    expect(measure(older, 'ping.max')).to.have.property('notMeasured');
    const [row] = evaluate([underTimeout('ping.max')], context('client-1'), server, [older]);
    expect(row!.pass).to.equal(false);
    expect(row!.invalid).to.match(/not measured/);
  });

  it('fails "p99 under the timeout" when a stall gave up Pings: the percentile is at least the timeout', () => {
    // A 3 s stall mid-hold: 2500 Pongs in time (3 ms), then every connection's Ping given up after 1 s.
    const stalled = heldClient({
      sent: 5000,
      pongs: 2500,
      timeouts: 2500,
      unanswered: 2500,
      hold_ms: 5000,
      rtt_us: { count: 5000, p50: 3000, p90: 1_000_200, p99: 1_000_900, p999: 1_001_000, max: 1_001_000 },
    });
    stalled.flood!.holdPing!.timeoutMs = 1000;
    const [p99, max] = evaluate([underTimeout('ping.p99', 1000), underTimeout('ping.max', 1000)], context('client-1'), server, [stalled]);
    for (const row of [p99!, max!]) {
      expect(row.pass, row.metric).to.equal(false);
      expect(row, row.metric).not.to.have.property('invalid');
      expect(row.measured, row.metric).to.be.at.least(1000);
    }
    expect(p99!.measured).to.equal(1000.9);
    // Below the unanswered ones, a percentile is a round trip measured like any other.
    expect(measure(stalled, 'ping.p50')).to.equal(3);
  });

  it('does not pass a percentile only known from below, unless the prediction is open-ended', () => {
    const stalled = heldClient({ sent: 200, pongs: 100, timeouts: 100, unanswered: 100, hold_ms: 3000, rtt_us: rtt(200, 1_000_100, 1_000_400) });
    expect(measure(stalled, 'ping.p99')).to.deep.include({ atLeast: 1000.1 });
    const wide = evaluate([underTimeout('ping.p99', 5000)], context('client-1'), server, [stalled])[0]!;
    expect(wide.pass).to.equal(false);
    expect(wide.invalid).to.match(/not measured: only known to be at least 1000.1/);
    expect(wide.measured).to.be.NaN;
    const open: Expectation = { claim: 'the stall shows', subject: 'each client', metric: 'ping.p99', predict: () => atLeast(500) };
    const [row] = evaluate([open], context('client-1'), server, [stalled]);
    expect(row!.pass).to.equal(true);
    expect(row!.measured).to.equal(1000.1);
  });

  it('passes a hold whose Pongs all came back in time', () => {
    const client = heldClient({ sent: 300, pongs: 300, timeouts: 0, unanswered: 0, hold_ms: 3000, rtt_us: rtt(300, 4000, 9000) });
    const rows = evaluate([underTimeout('ping.p99'), underTimeout('ping.max')], context('client-1'), server, [client]);
    expect(rows.map((r) => [r.measured, r.pass, r.invalid])).to.deep.equal([
      [4, true, undefined],
      [9, true, undefined],
    ]);
  });
});

describe('memory figures a runtime cannot measure (hosts without a memory cgroup of their own)', () => {
  const ownCgroup: Expectation = {
    claim: 'server end, charged to its own cgroup',
    subject: 'server',
    metric: 'memory.cgroupBytesPerConnection',
    predict: () => between(1000, 2000),
  };
  const buffers: Expectation = {
    claim: 'nothing queued',
    subject: 'each client',
    metric: 'memory.tcpBufferBytesPerConnection',
    predict: () => between(0, 64),
  };
  const slab: Expectation = {
    claim: 'slab machine-wide',
    subject: 'server',
    metric: 'memory.slabBytesPerConnection',
    predict: () => between(7000, 9000),
  };
  const held = host({
    name: 'server',
    role: 'server',
    ip: '198.18.0.2',
    estab: 1000,
    hostWide: { total: 0, tcp: 0, closed: 0, orphaned: 0, slabObjectBytes: 8_300_000 },
  });
  const client = reported({ estab: 1000 });

  it('makes the rows read from a cgroup "does not apply on this runtime", and judges the case on the rest', () => {
    const rows = evaluate([ownCgroup, buffers, slab], { ...context('client-1'), hostMemoryCgroups: false }, held, [client]);
    const [cgroup, buffer, machineWide] = rows;
    for (const row of [cgroup!, buffer!]) {
      expect(row.notApplicable).to.equal('does not apply on this runtime: its hosts have no memory cgroup of their own');
      expect(row.pass).to.equal(true);
      expect(row).not.to.have.property('invalid');
    }
    expect(machineWide).to.deep.include({ measured: 8300, pass: true });
    expect(machineWide).not.to.have.property('notApplicable');
  });

  it('keeps them INVALID where the runtime gives hosts a cgroup but none was read', () => {
    const [row] = evaluate([ownCgroup], { ...context('client-1'), hostMemoryCgroups: true }, held, [client]);
    expect(row!.invalid).to.equal('not measured: server has no memory cgroup of its own');
    expect(row!.pass).to.equal(false);
    expect(row!).not.to.have.property('notApplicable');
  });
});

describe('a hold that steps down (holdPing.stepDownMs, ping.heldPerSecond)', () => {
  const plan = holdingClient({ asked: 1000, processes: 2, holdPing: { seconds: 10, intervalMs: 250, timeoutMs: 2000, stepDownMs: [500, 1000] } });
  const rtt = (count: number, p: number) => ({ count, p50: p, p90: p, p99: p, p999: p, max: p });
  const step = (interval_ms: number, fields: Partial<HoldPingStepLine>): HoldPingStepLine => ({
    interval_ms,
    sent: 0,
    pongs: 0,
    timeouts: 0,
    unanswered: 0,
    hold_ms: 10_000,
    entered: 2,
    completed: 0,
    behind: 0,
    rtt_us: rtt(0, 0),
    ...fields,
  });
  const client = (steps: HoldPingStepLine[]): HostResult => {
    const sum = (f: 'sent' | 'pongs' | 'timeouts' | 'unanswered') => steps.reduce((n, s) => n + s[f], 0);
    const hold_ping = {
      sent: sum('sent'),
      pongs: sum('pongs'),
      timeouts: sum('timeouts'),
      unanswered: sum('unanswered'),
      hold_ms: 25_000,
      rtt_us: rtt(sum('sent'), 3000),
      steps,
    };
    return reported({ estab: 1000, flood: heldFlood(plan, hold_ping) });
  };
  // Fell behind at 250 ms (both processes, after 1.2 s), held 500 ms to its end.
  const steppedDown = client([
    step(250, { sent: 4800, pongs: 4800, hold_ms: 1200, behind: 2, rtt_us: rtt(4800, 600_000) }),
    step(500, { sent: 20_000, pongs: 20_000, completed: 2, rtt_us: rtt(20_000, 2000) }),
  ]);

  it('gives each cadence its rate asked and answered, and whether every process held it', () => {
    const steps = steppedDown.flood!.holdPing!.steps!;
    expect(steps.map((s) => [s.intervalMs, s.askedPerSecond, s.perSecond, s.held, s.behind, s.processes])).to.deep.equal([
      [250, 4000, 4000, false, 2, 2],
      [500, 2000, 2000, true, 0, 2],
    ]);
    expect(steps[0]!.rttMs?.p99).to.equal(600);
  });

  it("describes the hold by the cadence it ended at, and counts the whole hold's Pings", () => {
    const ping = steppedDown.flood!.holdPing!;
    expect([ping.intervalMs, ping.askedPerSecond, ping.perSecond, ping.seconds, ping.rttMs?.p99]).to.deep.equal([500, 2000, 2000, 10, 2]);
    expect([ping.sent, ping.pongs, ping.timeouts]).to.deep.equal([24_800, 24_800, 0]);
  });

  it('measures heldPerSecond as the rate asked at the first cadence every process held', () => {
    expect(measure(steppedDown, 'ping.heldPerSecond')).to.equal(2000);
  });

  it('does not count a cadence one process left early, nor one with a timeout, as held', () => {
    const oneLeft = client([
      step(250, { sent: 100, pongs: 100, behind: 1, completed: 1 }),
      step(500, { sent: 100, pongs: 100, completed: 1, entered: 1 }),
    ]);
    expect(oneLeft.flood!.holdPing!.steps!.map((s) => s.held)).to.deep.equal([false, false]);
    expect(measure(oneLeft, 'ping.heldPerSecond')).to.equal(0);
    const late = client([step(250, { sent: 100, pongs: 99, timeouts: 1, completed: 2 })]);
    expect(measure(late, 'ping.heldPerSecond')).to.equal(0);
  });

  it('measures a hold of one cadence as held where no Pong passed the timeout', () => {
    const plain = reported({
      flood: heldFlood(
        { ...plan, holdPing: { seconds: 3, intervalMs: 1000, timeoutMs: 500 } },
        { sent: 3000, pongs: 3000, timeouts: 0, hold_ms: 3000, rtt_us: rtt(3000, 1000) },
      ),
    });
    expect(measure(plain, 'ping.heldPerSecond')).to.equal(1000);
    expect(plain.flood!.holdPing).not.to.have.property('steps');
  });
});
