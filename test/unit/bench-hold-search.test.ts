/** The hold part's pure logic (bench/holds.ts): how the lab spreads N connections, and the search for a knee. */
import { expect } from 'chai';
import { layoutFor, nextRate, Prober, searchKnees, type Fill, type HoldRig, type Pair, type Probe } from '../../bench/holds.ts';

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

/** A rig of fills as bookkeeping only: each hold loses `lost(rate)` connections to timeouts. */
function fakeRig(lost: (rate: number) => number) {
  const events: string[] = [];
  const rig: HoldRig = {
    async fill(pair) {
      events.push(`fill ${pair}`);
      return { pair, layout: layoutFor(10_000, 20_000), held: 10_000, holds: 0 } as Fill;
    },
    async hold(f, rate) {
      f.held -= lost(rate);
      events.push(`hold ${f.pair} ${rate}`);
      return { pair: f.pair, rate, keptUp: true, established: f.held, hold: ++f.holds } as Probe;
    },
    async release(f) {
      events.push(`release ${f.pair}`);
    },
  };
  return { rig, events };
}

describe('bench hold: one fill for many holds', () => {
  it('keeps a pair’s fill from hold to hold and fills anew only when the pair changes', async () => {
    const { rig, events } = fakeRig(() => 0);
    const prober = new Prober(rig);
    for (const [pair, rate] of [
      ['lab', 1000],
      ['lab', 2000],
      ['ref', 1000],
      ['ref', 3000],
      ['lab', 500],
    ] as const)
      await prober.measure(pair, rate);
    await prober.close();
    expect(events).to.deep.equal([
      'fill lab',
      'hold lab 1000',
      'hold lab 2000',
      'release lab',
      'fill ref',
      'hold ref 1000',
      'hold ref 3000',
      'release ref',
      'fill lab',
      'hold lab 500',
      'release lab',
    ]);
    expect(prober.fills).to.equal(3);
  });

  it('fills anew once timeouts took more than a hundredth of the connections, not before', async () => {
    const { rig, events } = fakeRig((rate) => (rate > 5000 ? 101 : rate > 4000 ? 100 : 0));
    const prober = new Prober(rig);
    await prober.measure('lab', 4500); // 100 of 10,000 lost: 9,900 held, still a fill to hold on
    await prober.measure('lab', 1000);
    await prober.measure('lab', 6000); // 101 more: under 99%
    await prober.measure('lab', 1000);
    expect(events).to.deep.equal(['fill lab', 'hold lab 4500', 'hold lab 1000', 'hold lab 6000', 'release lab', 'fill lab', 'hold lab 1000']);
  });
});
