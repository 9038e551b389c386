/** The matrix over rounds and VM sizes: connect()'s step per kernel over several rounds, and churn rates against 6.12's. */
import { expect } from 'chai';
import { buildMatrix, matrixBlocks } from '../../lab/report/matrix.ts';
import { churnRate } from '../../lab/report/matrix-churn.ts';
import { median, spreadText } from '../../lab/report/matrix-connect-cost.ts';
import { matrixMarkdown } from '../../lab/report/matrix-markdown.ts';
import { fixtureDir, HOLD_PING, loadFixture } from '../fixtures/results/fixtures.ts';
import type { Results } from '../../lab/results/results.ts';

const PORT_RANGE = `${fixtureDir}port-range-quick-6.18.44.json`;
const TIMED_CASE = 'the cost of connect() as 40000-49999 fills';

/**
 * The port-range run (a step of x3 and more at 50%, measured in containers) as if on another kernel, its calls
 * past half the range `factor` times as dear as measured: 0.3 leaves no step.
 */
function timedOn(kernel: string, factor: number): Results {
  const results = loadFixture(PORT_RANGE);
  results.environment.kernel = kernel;
  const cost = results.cases.find((c) => c.name === TIMED_CASE)!.hosts.find((h) => h.flood?.connectCost)!.flood!.connectCost!;
  cost.us = cost.us.map((bins, bucket) => (bucket >= 25 ? bins.map(([us, calls]) => [Math.round(us * factor), calls] as [number, number]) : bins));
  return results;
}

/** The hold-ping run as a churn on a kernel and VM size: its first client's labchurn completing `established` in `seconds`. */
function churnOn(kernel: string, cpus: number, established: number, seconds: number): Results {
  const results = loadFixture(HOLD_PING);
  Object.assign(results.environment, { kernel, cpus, runtime: 'vm' });
  results.scenario = 'connect-churn';
  const client = results.cases[0]!.hosts.find((h) => h.role === 'client')!;
  Object.assign(client.flood!, { program: 'labchurn', asked: 3000, established, failed: 0, fillSeconds: seconds });
  for (const other of results.cases[0]!.hosts.filter((h) => h.role === 'client' && h !== client)) delete other.flood;
  return results;
}

const runs = (list: Results[]) => list.map((results, i) => ({ file: `run-${i}.json`, results }));
/** The table that first follows a heading, one string per line. */
function tableAfter(md: string, heading: string): string[] {
  const lines = md.slice(md.indexOf(heading)).split('\n');
  const first = lines.findIndex((l) => l.startsWith('|'));
  const after = lines.slice(first);
  return after.slice(
    0,
    after.findIndex((l) => !l.startsWith('|')),
  );
}

describe('the kernel matrix over rounds', () => {
  it('gives each kernel one column, its first round in the verdicts and every round in the rounds table', () => {
    const matrix = buildMatrix(
      runs([
        timedOn('6.1.0-57-amd64', 1.2),
        timedOn('6.1.0-57-amd64', 1),
        timedOn('6.1.0-57-amd64', 1.5),
        ...[0.3, 0.3, 0.3].map((f) => timedOn('6.12.118+deb13-amd64', f)),
      ]),
    );
    expect(matrix.kernels).to.deep.equal(['6.1.0-57-amd64', '6.12.118+deb13-amd64']);
    expect(matrix.scenarios[0]!.rounds.map((r) => r.length)).to.deep.equal([3, 3]);
    expect(tableAfter(matrixMarkdown(matrix), '## Verdicts')[2]).to.match(
      /^\| port-range \| pass 1\/1 \(3 rounds, all pass\) \| pass 1\/1 \(3 rounds, all pass\) \|/,
    );
    const rows = tableAfter(matrixMarkdown(matrix), `several rounds`);
    expect(rows[0]).to.match(/^\| kernel \| rounds \| sparse µs \| ×50% \| ×90% \| least of ×50%, ×90% \| step at 50% \|$/);
    expect(rows[2]).to.match(/^\| 6\.1\.0-57-amd64 \| 3 \| .* \| 3 of 3 \|$/);
    expect(rows[3]).to.match(/^\| 6\.12\.118\+deb13-amd64 \| 3 \| .* \| 0 of 3 \|$/);
  });

  it('gives no rounds table where every kernel ran once', () => {
    const matrix = buildMatrix(runs([timedOn('6.1.0-57-amd64', 4), timedOn('6.12.118+deb13-amd64', 1)]));
    expect(matrixBlocks(matrix).some((b) => 'heading' in b && /several rounds/.test(b.heading))).to.equal(false);
  });

  it('states the median and the spread: the middle value, the least and the most', () => {
    expect(median([1, 2, 9])).to.equal(2);
    expect(median([1, 2, 4, 9])).to.equal(3);
    expect(spreadText([3, 1, 2], String)).to.equal('2 (1–3)');
    expect(spreadText([2, 2], String)).to.equal('2');
    expect(spreadText([], String)).to.equal('-');
  });
});

describe('the kernel matrix on VMs of several sizes', () => {
  const matrix = buildMatrix(
    runs([
      churnOn('6.12.118+deb13-amd64', 1, 3000, 10),
      churnOn('6.12.118+deb13-amd64', 2, 3000, 5),
      churnOn('7.2.13+deb14-amd64', 1, 3000, 10),
      churnOn('7.2.13+deb14-amd64', 2, 3000, 2.5),
    ]),
  );

  it('gives each kernel a column per vCPU count, one vCPU the plain kernel (as results from before VM sizes)', () => {
    expect(matrix.byCpus).to.equal(true);
    expect(matrix.kernels).to.deep.equal([
      '6.12.118+deb13-amd64',
      '6.12.118+deb13-amd64, 2 vCPU',
      '7.2.13+deb14-amd64',
      '7.2.13+deb14-amd64, 2 vCPU',
    ]);
  });

  it("rates each churn in connections a second, as a ratio to 6.12's on as many vCPUs", () => {
    const md = matrixMarkdown(matrix);
    expect(md).to.include('## Churn rate by kernel');
    const rows = tableAfter(md, '### connect-churn');
    expect(rows.slice(2)).to.deep.equal([
      '| 6.12.118+deb13-amd64 | 300 | ×1 |',
      '| 6.12.118+deb13-amd64, 2 vCPU | 600 | ×1 |',
      '| 7.2.13+deb14-amd64 | 300 | ×1 |',
      '| 7.2.13+deb14-amd64, 2 vCPU | 1,200 | ×2 |',
    ]);
  });

  it('gives no ratio to a kernel alone of its runtime, and puts a run that did not record its CPUs in the one-CPU column', () => {
    const host = churnOn('6.18.44-fc-v1300', 2, 3000, 1);
    delete host.environment.cpus;
    host.environment.runtime = 'docker';
    const old = churnOn('6.12.118+deb13-amd64', 1, 3000, 12);
    delete old.environment.cpus;
    const mixed = buildMatrix(runs([old, churnOn('6.12.118+deb13-amd64', 2, 3000, 5), churnOn('7.2.13+deb14-amd64', 1, 3000, 10), host]));
    expect(mixed.kernels).to.deep.equal(['6.12.118+deb13-amd64', '6.12.118+deb13-amd64, 2 vCPU', '6.18.44-fc-v1300', '7.2.13+deb14-amd64']);
    expect(tableAfter(matrixMarkdown(mixed), '### connect-churn').slice(2)).to.deep.equal([
      '| 6.12.118+deb13-amd64 | 250 | ×1 |',
      '| 6.12.118+deb13-amd64, 2 vCPU | 600 | - |',
      '| 6.18.44-fc-v1300 | 3,000 | - |',
      '| 7.2.13+deb14-amd64 | 300 | ×1.2 |',
    ]);
  });

  it('says how many connections a round left unfinished at the drain', () => {
    const cut = buildMatrix(runs([churnOn('6.12.118+deb13-amd64', 1, 3000, 10), churnOn('7.2.13+deb14-amd64', 1, 2999, 10)]));
    expect(tableAfter(matrixMarkdown(cut), '### connect-churn').slice(2)).to.deep.equal([
      '| 6.12.118+deb13-amd64 | 300 | ×1 |',
      '| 7.2.13+deb14-amd64 | 300 (1 cut at the drain) | ×1 |',
    ]);
  });

  it('has no churn rate for a client that did not churn', () => {
    expect(churnRate(loadFixture(HOLD_PING).cases[0])).to.equal(undefined);
  });
});
