/**
 * A neighbour's work is not the case's: host-wide figures read while another run was active on the machine
 * are not measured (INVALID, naming the run), never judged; the results carry why, and the report says it.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { evaluate } from '../../lab/run/evaluate.ts';
import { NeighbourWatch, neighbourReason } from '../../lab/run/neighbours.ts';
import { activeRun, ENDED_GRACE_MS } from '../../lab/run-ledger.ts';
import { hostResult } from '../../lab/results/host-result.ts';
import { memoryPerConnection } from '../../lab/results/memory.ts';
import { results as resultsSchema } from '../../lab/results/schema.ts';
import type { HostResult } from '../../lab/results/results.ts';
import { scaleLines } from '../../lab/report/facts.ts';
import type { KernelView } from '../../lab/collect/kernel-view.ts';
import type { PlannedHost } from '../../lab/plan/plan.ts';
import { between } from '../../lab/scenario/theory/prediction.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
import type { Expectation, TheoryContext } from '../../lab/scenario/types.ts';
import { hostResultOf } from '../fixtures/host-result.ts';

const SPOILED = 'run mxd25u8g77e1 was active on this machine';

const server = (hostWide: HostResult['hostWide']): HostResult => hostResultOf('server', { ip: '198.18.0.2', estab: 10_000, hostWide });

const context: Omit<TheoryContext, 'client'> = {
  kernel: kernelRelease('6.12.48'),
  clients: [],
  server: { ip: '198.18.0.2', ports: [8080], backlog: 4096, workers: 1, nofile: 20000 },
};

/** socket-memory's claim on the machine's slab: 7,934-11,693 B per connection predicted in the issue. */
const slab: Expectation = {
  claim: 'both ends and the conntrack entry, in slab caches machine-wide',
  subject: 'server',
  metric: 'memory.slabBytesPerConnection',
  predict: () => between(7934, 11693),
};

describe('host-wide figures while another run was active on the machine', () => {
  it('judges a spoiled slab figure INVALID, naming the run: not FAIL, even with a growth in the results', () => {
    // The issue's figure: 5,905 B per connection, a neighbour's teardown freeing slab meanwhile.
    const [row] = evaluate(
      [slab],
      context,
      server({ total: 0, tcp: 0, closed: 0, orphaned: 0, slabObjectBytes: 5905 * 10_000, notMeasured: SPOILED }),
      [],
    );
    expect(row!.pass).to.equal(false);
    expect(row!.invalid).to.equal(`not measured: ${SPOILED}`);
    expect(row!.measured).to.be.NaN;
  });

  it('nor PASS, when the neighbour happened to make it look right', () => {
    const [row] = evaluate(
      [slab],
      context,
      server({ total: 0, tcp: 0, closed: 0, orphaned: 0, slabObjectBytes: 9000 * 10_000, notMeasured: SPOILED }),
      [],
    );
    expect(row!.pass).to.equal(false);
    expect(row!.invalid).to.equal(`not measured: ${SPOILED}`);
  });

  it('still judges the figure when the case had the machine alone', () => {
    const [row] = evaluate([slab], context, server({ total: 0, tcp: 0, closed: 0, orphaned: 0, slabObjectBytes: 9000 * 10_000 }), []);
    expect(row!.pass).to.equal(true);
    expect(row!).to.not.have.property('invalid');
  });

  it('leaves the growth out of the host result, with the reason, and the results schema takes it', () => {
    const before = view(1000, 5000);
    const after = view(60_000, 9000);
    const result = hostResult({ plan: PLAN, view: after, before, errors: {}, bindErrors: {}, hostWideNotMeasured: SPOILED });
    expect(result.hostWide.notMeasured).to.equal(SPOILED);
    expect(result.hostWide).to.not.have.property('slabObjectBytes');
    expect(result.hostWide).to.not.have.property('softnetDropped');
    const alone = hostResult({ plan: PLAN, view: after, before, errors: {}, bindErrors: {} });
    expect(alone.hostWide.slabObjectBytes).to.equal(59_000 * 2432);
    expect(alone.hostWide).to.not.have.property('notMeasured');
    const parsed = resultsSchema.safeParse(document(result));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).to.equal(true);
  });

  it("marks the case's host-wide memory, leaves out its slab caches and TCP pages, and the report says why", () => {
    const before = new Map([['server', view(1000, 5000)]]);
    const after = [view(60_000, 9000)];
    const hosts = [{ plan: { name: 'server', role: 'server' as const } }];
    const memory = memoryPerConnection(before, hosts, after, 20_000, [], true, { oneKernel: true, hostWideNotMeasured: SPOILED })!;
    expect(memory.hostWideNotMeasured).to.equal(SPOILED);
    expect(memory).to.not.have.property('slabCaches');
    expect(memory).to.not.have.property('tcpMemPages');
    const line = scaleLines({ ...document(server({ total: 0, tcp: 0, closed: 0, orphaned: 0 })).cases[0]!, memory })[0]!;
    expect(line).to.include(`kernel not measured (host-wide: ${SPOILED})`);
    expect(line).to.not.match(/kernel [\d,]+ B/);
  });
});

describe('the other runs a case watches', () => {
  const watch = (answers: Array<Array<{ runId: string; kernels?: readonly string[] }>>) => {
    let call = 0;
    return new NeighbourWatch('mine', async () => [{ runId: 'mine', kernels: ['boot-a'] }, ...(answers[Math.min(call++, answers.length - 1)] ?? [])]);
  };

  it('counts a run on the same kernel, and one that has not said where it runs; never itself', async () => {
    const w = watch([[{ runId: 'same', kernels: ['boot-a'] }, { runId: 'unknown' }, { runId: 'vm', kernels: ['boot-b'] }]]);
    await w.start();
    await w.stop();
    expect(w.neighbours(['boot-a'])).to.deep.equal(['same', 'unknown']);
  });

  it('counts a run seen only between the readings, gone by the last one', async () => {
    const w = watch([[], [{ runId: 'brief', kernels: ['boot-a'] }], []]);
    await w.start();
    await new Promise((r) => setTimeout(r, 1100));
    await w.stop();
    expect(w.neighbours(['boot-a'])).to.deep.equal(['brief']);
  });

  it('counts every run when the case does not know its own kernel', async () => {
    const w = watch([[{ runId: 'vm', kernels: ['boot-b'] }]]);
    await w.start();
    await w.stop();
    expect(w.neighbours([])).to.deep.equal(['vm']);
  });

  it('waits out a run that has just ended before its first look, instead of counting it', async () => {
    const endedAt = Date.now() - ENDED_GRACE_MS + 300;
    const w = new NeighbourWatch('mine', async () =>
      Date.now() - endedAt <= ENDED_GRACE_MS ? [{ runId: 'before', kernels: ['boot-a'], endedAt }] : [],
    );
    const started = Date.now();
    await w.start();
    await w.stop();
    expect(Date.now() - started).to.be.within(250, 1500);
    expect(w.neighbours(['boot-a'])).to.deep.equal([]);
  });

  it('says which runs, in the words the rows give', () => {
    expect(neighbourReason(['abc'])).to.equal('run abc was active on this machine');
    expect(neighbourReason(['abc', 'def'])).to.equal('runs abc, def were active on this machine');
  });
});

describe('the ledger: which runs are active on this machine', () => {
  const now = 1_000_000;
  const me = { pid: process.pid, startTicks: Number(readFileSync(`/proc/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]) };

  it('a run whose lab is alive, with the kernels it said it runs on', () => {
    expect(activeRun('abc.json', { ...me, kernels: ['boot-a'] }, now)).to.deep.equal({ runId: 'abc', kernels: ['boot-a'] });
    expect(activeRun('abc.json', me, now)).to.deep.equal({ runId: 'abc' });
  });

  it('not one whose lab is gone (SIGKILL), nor a file that is no entry', () => {
    expect(activeRun('abc.json', { pid: me.pid, startTicks: me.startTicks + 1 }, now)).to.equal(undefined);
    expect(activeRun('abc.json.123.tmp', me, now)).to.equal(undefined);
    expect(activeRun('abc.json', undefined, now)).to.equal(undefined);
  });

  it('a run that ended a moment ago: the kernel still frees what its hosts held (conntrack entries, after its lab is done)', () => {
    const ended = { pid: 1, startTicks: 1, kernels: ['boot-a'], endedAt: now - ENDED_GRACE_MS + 1 };
    expect(activeRun('abc.ended', ended, now)).to.deep.equal({ runId: 'abc', kernels: ['boot-a'], endedAt: ended.endedAt });
    expect(activeRun('abc.ended', { ...ended, endedAt: now - ENDED_GRACE_MS - 1 }, now)).to.equal(undefined);
  });
});

const PLAN = { name: 'server', role: 'server', ip: '198.18.0.2', sysctls: {} } as unknown as PlannedHost;

function view(tcpObjects: number, softnet: number): KernelView {
  return {
    ss: { estab: 10_000, timewait: 0, hostWide: { total: 0, tcp: 0, closed: 0, orphaned: 0 } } as KernelView['ss'],
    programRssKiB: 0,
    hostMemory: { slabKiB: tcpObjects, tcpMemPages: 10 },
    nstat: {},
    listeningPorts: [],
    listenBacklogs: {},
    sysctls: {},
    nofile: 20000,
    softnetDropped: softnet,
    slabObjects: { TCP: { objects: tcpObjects, size: 2432 } },
  };
}

function document(host: HostResult) {
  return {
    schema: 'lab.results/1',
    scenario: 'socket-memory',
    claim: 'c',
    file: 'scenarios/socket-memory.ts',
    runId: 'r1',
    quick: true,
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:01Z',
    environment: { runtime: 'docker', kernel: '6.12.48', engine: 'Docker', lab: '0.1.0', node: 'v20', nofileCeiling: 1 },
    cases: [{ name: 'idle', pass: false, subnet: '198.18.0.0/24', phases: {}, samples: [], expectations: [], hosts: [host] }],
    pass: false,
  };
}
