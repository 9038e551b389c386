import { expect } from 'chai';
import { connectFigure, costCurve, costRatio, medianMicros, sparseMicros } from '../../lab/results/connect-cost.ts';
import type { ConnectCost } from '../../lab/results/results.ts';
import { connectCostAt } from '../../lab/scenario/theory/connect-cost.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
import { searchesByParity } from '../../lab/scenario/theory/ports.ts';
import type { ClientTheory } from '../../lab/scenario/types.ts';
import { labclientArgv } from '../../lab/programs/argv.ts';

/**
 * A range whose calls per 2% (starting at `percent`) take `median(percent)` µs: 50 calls at it, 20 much
 * faster, 10 ten times slower (a median of 80 calls, far from their mean).
 */
function cost(median: (percent: number) => number | undefined): ConnectCost {
  const at = Array.from({ length: 50 }, (_, b) => median(b * 2));
  const us = at.map((m): Array<[number, number]> =>
    m === undefined
      ? []
      : [
          [Math.round(m / 3), 20],
          [m, 50],
          [m * 10, 10],
        ],
  );
  const calls = us.map((bins) => bins.reduce((n, [, c]) => n + c, 0));
  return { ports: 4000, calls, ns: us.map((bins) => bins.reduce((n, [u, c]) => n + u * c * 1000, 0)), us };
}

const client = (overrides: Partial<ClientTheory> = {}): ClientTheory => ({
  name: 'client-1',
  ip: '198.18.0.11',
  portRange: [40000, 43999],
  reservedPorts: [],
  boundPorts: [],
  destinations: 1,
  asked: 4016,
  nofile: 20000,
  processes: 1,
  bind: 'none',
  ...overrides,
});

describe('the cost of one connect() as the range fills (connect.* figures)', () => {
  const step = cost((p) => (p < 50 ? 30 : 120));

  it('takes the median of one call in a window, never the mean (preemption lands inside some calls)', () => {
    expect(medianMicros(step, 4, 8)).to.equal(30);
    expect(sparseMicros(step)).to.equal(30);
    // Across the step the halves merge: 160 calls of 10-30 µs below it and 40 fast ones of 40 µs above.
    expect(medianMicros(step, 46, 54)).to.equal(40);
    expect(medianMicros(step, 50, 54)).to.equal(120);
  });

  it('gives each point as a multiple of the sparse cost, the window starting at the point', () => {
    expect(costRatio(step, 'at10')).to.equal(1);
    // 50-54%: past the step, so the step shows at 50.
    expect(costRatio(step, 'at50')).to.equal(4);
    expect(costRatio(step, 'at99')).to.equal(4);
    expect(connectFigure(step, 'at90')).to.equal(4);
    expect(connectFigure(step, 'sparseUs')).to.equal(30);
  });

  it('says why where no call fell in a window, instead of a number', () => {
    const empty = cost((p) => (p < 48 ? undefined : 30));
    expect(connectFigure(empty, 'sparseUs')).to.deep.equal({ missing: 'no connect() got a port with 4-48% of the ports in use' });
    expect(connectFigure(empty, 'at50')).to.deep.equal({ missing: 'no connect() got a port with 4-48% of the ports in use' });
    const short = cost((p) => (p < 60 ? 30 : undefined));
    expect(connectFigure(short, 'at99')).to.deep.equal({ missing: 'no connect() got a port with 96-100% of the ports in use' });
  });

  it('draws a curve of 50 points, one per 2%, at their middles', () => {
    const curve = costCurve(step);
    expect(curve).to.have.length(50);
    expect(curve[0]).to.deep.equal({ percent: 1, ratio: 1 });
    expect(curve[25]).to.deep.equal({ percent: 51, ratio: 4 });
  });
});

describe("the theory of connect()'s port search under pressure", () => {
  const k = (release: string, version = '') => kernelRelease(release, version);

  it("searches the namespace's range one parity first on every kernel; a per-socket range by parity only before 6.8", () => {
    expect(searchesByParity(client(), k('7.3-amd64'))).to.equal(true);
    const socket = client({ socketPortRange: [40000, 43999] });
    expect(searchesByParity(socket, k('6.16.12+deb13-amd64'))).to.equal(false);
    // Measured: Debian's 6.1.192 steps up at 50% with a per-socket range too.
    expect(searchesByParity(socket, k('6.1.0-41-amd64', '#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-1 (2025-01-01)'))).to.equal(true);
  });

  it('predicts a step at 50% with parity, a flat cost without, and no claim where the option does not exist', () => {
    expect(connectCostAt(client(), k('6.12.48+deb13-amd64'), 10)).to.include({ min: 0.5, max: 2 });
    expect(connectCostAt(client(), k('6.12.48+deb13-amd64'), 50)).to.include({ min: 1.5, max: Infinity });
    expect(connectCostAt(client({ socketPortRange: [40000, 43999] }), k('7.2.12+deb14-amd64'), 90)).to.include({ min: 0, max: 2.5 });
    expect(connectCostAt(client({ socketPortRange: [40000, 43999] }), k('5.10.0-35-amd64'), 90)).to.include({ doesNotApply: true });
  });

  it('asks the client program to time its connect() calls against the ports in reach', () => {
    const argv = labclientArgv({
      targets: ['198.18.0.2:8080'],
      count: 4016,
      processes: 1,
      inflight: 16,
      bind: 'none',
      deadlineSeconds: 60,
      costPorts: 4000,
    });
    expect(argv.slice(-2)).to.deep.equal(['--cost-ports', '4000']);
  });
});
