/** The hold part's pure logic (bench/holds.ts): how the lab spreads N connections, and the search for a knee. */
import { expect } from 'chai';
import { layoutFor, nextRate, searchKnees, type Pair, type Probe } from '../../bench/holds.ts';

const OPTS = { step: 1.5, resolution: 1.12, min: 1000, max: 400_000 };

/** A probe by a pair that keeps up with any rate up to `knee`. */
function pairWithKnee(knee: number): (pair: Pair, rate: number) => Promise<Probe> {
  return async (pair, rate) => ({ pair, rate, keptUp: rate <= knee }) as Probe;
}

describe('bench hold: layout and knee search', () => {
  it('spreads connections as c1m does: 62,500 per client IP at most, processes and workers under the open-file cap', () => {
    expect(layoutFor(1_000_000, 20_000)).to.deep.equal({
      connections: 1_000_000,
      clients: 16,
      perClient: 62_500,
      processesPerClient: 4,
      serverWorkers: 68,
    });
    expect(layoutFor(10_000, 20_000)).to.deep.equal({ connections: 10_000, clients: 1, perClient: 10_000, processesPerClient: 1, serverWorkers: 1 });
  });

  it('goes up by the step while kept, down while not, then takes geometric means until within the resolution', () => {
    expect(nextRate({ kept: 30_000 }, 30_000, OPTS)).to.equal(45_000);
    expect(nextRate({ missed: 30_000 }, 30_000, OPTS)).to.equal(20_000);
    expect(nextRate({ kept: 20_000, missed: 30_000 }, 30_000, OPTS)).to.equal(24_495);
    expect(nextRate({ kept: 28_000, missed: 30_000 }, 30_000, OPTS)).to.equal(undefined);
    expect(nextRate({ missed: 1400 }, 1400, OPTS)).to.equal(undefined);
  });

  it('brackets each pair’s knee within its probes, one pair after the other (each on one fill)', async () => {
    const order: string[] = [];
    const knees: Record<string, number> = { lab: 22_000, ref: 50_000 };
    const found = await searchKnees(
      async (pair, rate) => {
        order.push(pair);
        return pairWithKnee(knees[pair]!)(pair, rate);
      },
      ['lab', 'ref'],
      30_000,
      { ...OPTS, maxProbes: 4 },
    );
    expect(order).to.deep.equal(['lab', 'lab', 'lab', 'lab', 'ref', 'ref', 'ref', 'ref']);
    expect(found.lab).to.include({ kept: 20_000, missed: 22_134 });
    expect(found.ref).to.include({ kept: 45_000, missed: 55_114 });
    expect(found.ref.probes.map((p) => p.rate)).to.deep.equal([30_000, 45_000, 67_500, 55_114]);
  });

  it('counts a probe already made (the cost probe) as found, beside its own probes', async () => {
    const seed = { pair: 'lab', rate: 5000, keptUp: true } as Probe;
    const found = await searchKnees(pairWithKnee(12_000), ['lab'], 10_000, { ...OPTS, maxProbes: 2 }, { lab: seed });
    expect(found.lab.probes.map((p) => p.rate)).to.deep.equal([5000, 10_000, 15_000]);
    expect(found.lab).to.include({ kept: 10_000, missed: 15_000 });
  });
});
