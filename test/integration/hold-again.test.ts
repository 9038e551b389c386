/**
 * A hold started again on the same connections, by both pairs the bench's hold part compares (labclient +
 * labserver, refhold + refpong), in real containers on the bench's own internal network: each "hold now"
 * brings its interval with the signal (pkill --queue), each hold's figures start from zero, and one fill
 * serves every hold of a pair.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { root } from '../../bench/context.ts';
import { HOLD_S, Prober, holdRig, layoutFor, makeRig, removeRig, type Pair, type Probe } from '../../bench/holds.ts';
import { BenchDocker } from '../../bench/lib.ts';
import { parseOptions } from '../../bench/options.ts';
import { BenchReport } from '../../bench/output.ts';
import { prepare } from '../../bench/setup.ts';
import { markLive } from '../../lab/run-ledger.ts';
import { DockerRuntime } from '../../lab/runtime/docker/docker-runtime.ts';
import { labelledObjects, prepareRuntime } from './helpers.ts';

const CONNECTIONS = 2000;
/** Pings/s of each hold in turn: up, then down past the first. */
const RATES = [1000, 3000, 500];
/** Pings still out when a hold ends are in no figure: at most a few ms of the rate. */
const SLACK = 0.03;

describe('a hold started again on one fill, at the rate its signal brings (the bench hold part’s two pairs)', function () {
  this.timeout(600_000);
  const runId = `bench-test${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const bench = new BenchDocker(runId);
  const probes: Partial<Record<Pair, Probe[]>> = {};
  let fills = 0;
  let over: (() => Promise<void>) | undefined;

  before(async function () {
    this.timeout(900_000);
    await prepareRuntime();
    over = await markLive(runId);
    const runtime = new DockerRuntime(root);
    // The bench says what it builds and starts as it goes: kept out of the test's output.
    const said: string[] = [];
    const log = console.log;
    console.log = (line: string) => said.push(line);
    try {
      const options = parseOptions(['--only', 'hold', '--reps', '1']);
      const ctx = await prepare(bench, runtime, runtime.open(`${runId}-lab`), options, new BenchReport());
      const rig = await makeRig(ctx, layoutFor(CONNECTIONS, ctx.nofile));
      const prober = new Prober(holdRig(ctx, rig));
      try {
        for (const pair of ['lab', 'ref'] as const) {
          probes[pair] = [];
          for (const rate of RATES) probes[pair].push(await prober.measure(pair, rate));
        }
        fills = prober.fills;
      } finally {
        await prober.close();
        await removeRig(ctx, rig);
      }
    } finally {
      console.log = log;
    }
  });

  after(async () => {
    await bench.cleanup();
    await over?.();
  });

  it('fills once per pair: every hold of a pair on the same connections', () => {
    expect(fills).to.equal(2);
  });

  for (const pair of ['lab', 'ref'] as const) {
    it(`${pair}: each hold pings at the rate its signal brought, its figures from zero, no timeout, every connection kept`, () => {
      const held = probes[pair]!;
      expect(held.map((p) => p.hold)).to.deep.equal([1, 2, 3]);
      for (const [i, p] of held.entries()) {
        const asked = RATES[i]! * HOLD_S;
        expect(p.intervalMs, `hold ${i + 1}`).to.equal(Math.round((CONNECTIONS * 1000) / RATES[i]!));
        expect(p.asked, `hold ${i + 1}`).to.be.within(asked * (1 - SLACK), asked * (1 + SLACK));
        expect(p.sent, `hold ${i + 1}`).to.be.within(p.asked * (1 - SLACK), p.asked * (1 + SLACK));
        expect(p.pongs, `hold ${i + 1}`).to.be.within(p.sent * (1 - SLACK), p.sent);
        expect(p.timeouts, `hold ${i + 1}`).to.equal(0);
        expect(p.established, `hold ${i + 1}`).to.equal(CONNECTIONS);
        expect(p.keptUp, `hold ${i + 1}`).to.equal(true);
      }
    });
  }

  it('leaves nothing of the bench run behind', async () => {
    await bench.cleanup();
    expect(await labelledObjects(runId)).to.deep.equal({ containers: [], networks: [] });
  });
});
