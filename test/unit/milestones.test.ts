/**
 * Milestones nobody sampled: a sampler that stalled under the flood (c2m's, 83 s without a reading) must not
 * date every milestone crossed meanwhile at the first reading after the stall.
 */
import { expect } from 'chai';
import { Sampler, type Sample } from '../../lab/collect/sampler.ts';
import { milestones, milestonesLine } from '../../lab/results/milestones.ts';
import { scaleLines } from '../../lab/report/facts.ts';
import type { CaseResult } from '../../lab/results/results.ts';
import { caseResult } from '../../lab/results/schema.ts';
import type { Host, RunningProgram } from '../../lab/runtime/runtime.ts';

const kernel = (t: number, estab: number): Sample => ({ t, host: 'server', estab, timewait: 0, errors: 0, source: 'kernel' });

/** A reading a second up to 12.1 s, nothing until 95.8 s (the sampler stalled), then 2,000,000. */
function stalled(): Sample[] {
  const samples = [0, 1100, 2100, 3100, 4100, 5100, 6100, 7100, 8100, 9100, 10100, 11100, 12100].map((t) => kernel(t, 0));
  samples.push(kernel(95_800, 2_000_000), kernel(96_800, 2_000_000));
  return samples;
}

describe('milestones the sampler did not see', () => {
  it('gives a milestone crossed in a gap of more than 3 readings no time, only the readings around it', () => {
    const reached = milestones(stalled(), 'server');
    expect(reached).to.have.length(20);
    for (const m of reached) {
      expect(m).to.not.have.property('seconds');
      expect(m.notSampled).to.deep.equal({ before: { connections: 0, seconds: 12.1 }, after: { connections: 2_000_000, seconds: 95.8 } });
    }
  });

  it('says so in the report line, naming what the sampler saw either side', () => {
    expect(milestonesLine(milestones(stalled(), 'server'))).to.equal(
      'the server reached 100,000 to 2,000,000: not sampled (the sampler saw 0 at 12.1 s, then 2,000,000 at 95.8 s)',
    );
    const c = { milestones: milestones(stalled(), 'server') } as unknown as CaseResult;
    expect(scaleLines(c)).to.include('the server reached 100,000 to 2,000,000: not sampled (the sampler saw 0 at 12.1 s, then 2,000,000 at 95.8 s)');
    expect(scaleLines(c).join('\n')).to.not.match(/at 95\.8 s,/);
  });

  it('keeps the times of milestones read in step, and marks only those in the gap', () => {
    const samples = [kernel(0, 0), kernel(1000, 60_000), kernel(2000, 150_000), kernel(9000, 250_000), kernel(10_000, 330_000)];
    const reached = milestones(samples, 'server');
    expect(reached).to.deep.equal([
      { connections: 100_000, seconds: 2 },
      { connections: 200_000, notSampled: { before: { connections: 150_000, seconds: 2 }, after: { connections: 250_000, seconds: 9 } } },
      { connections: 300_000, seconds: 10 },
    ]);
    expect(milestonesLine(reached)).to.equal(
      'the server reached 100,000 at 2.0 s; 200,000: not sampled (the sampler saw 150,000 at 2.0 s, then 250,000 at 9.0 s); 300,000 at 10.0 s',
    );
    // The results schema takes a milestone without a time.
    expect(caseResult.shape.milestones.safeParse(reached).success).to.equal(true);
  });

  it("does not date milestones by a first reading that came late, nor by the clients' own counts", () => {
    const samples = [kernel(40_000, 250_000), { ...kernel(1000, 900_000), host: 'client-1', source: 'program' as const }];
    expect(milestonesLine(milestones(samples, 'server'))).to.equal(
      "the server reached 100,000 to 200,000: not sampled (the sampler's first reading, at 40.0 s, saw 250,000)",
    );
  });

  it('still dates each milestone where the readings came about once a second', () => {
    const samples = [0, 60_000, 140_000, 230_000].map((estab, i) => kernel(i * 1100, estab));
    expect(milestonesLine(milestones(samples, 'server'))).to.equal('the server reached 100,000 at 2.2 s, 200,000 at 3.3 s');
  });
});

/** A sampler started on a host that only hands its output lines to the test. */
async function startedSampler(name: string): Promise<{ sampler: Sampler; onLine: (line: string) => void }> {
  let onLine!: (line: string) => void;
  const program: RunningProgram = { exited: new Promise<number>(() => {}), signal: async () => {}, stderr: () => '' };
  const host = {
    plan: { name },
    exec: async () => ({ exitCode: 0, stdout: '', stderr: '' }),
    spawn: async (_argv: string[], line: (text: string) => void) => ((onLine = line), program),
  } as unknown as Host;
  const sampler = new Sampler(
    host,
    () => 0,
    () => {},
    { stopFile: '/tmp/s.stop', maxReadings: 100 },
  );
  sampler.start();
  await new Promise((resolve) => setImmediate(resolve));
  return { sampler, onLine: (line) => onLine(line) };
}

describe("the sampler's times", () => {
  it('dates each reading by when the host took it, not when its output came (late, in a burst)', async () => {
    const { sampler, onLine } = await startedSampler('server');
    const reading = (estab: number, uptime: string) => {
      onLine(`TCP:   ${estab + 1} (estab ${estab}, closed 0, orphaned 0, timewait 0)`);
      onLine(`### sample ${uptime}`);
    };
    // The first reading comes at once (before the flood); the next three, taken 10 ms apart by the host's
    // clock, come together 200 ms later (the flood held them up).
    reading(0, '5000.00');
    await new Promise((resolve) => setTimeout(resolve, 200));
    reading(150_000, '5000.01');
    reading(250_000, '5000.02');
    reading(350_000, '5000.03');
    const times = sampler.samples.map((s) => s.t - sampler.samples[0]!.t);
    expect(times).to.deep.equal([0, 10, 20, 30]);
    const first = sampler.samples[0]!.t / 1000;
    expect(milestones(sampler.samples, 'server').map((m) => Math.round((m.seconds! - first) * 1000))).to.deep.equal([10, 20, 30]);
    expect(Sampler.script({ stopFile: '/tmp/s.stop', maxReadings: 3 })).to.include('read up _ < /proc/uptime; echo "### sample $up"');
  });

  it('skips a reading ss could not take (ENFILE: no output), and goes on with the next', async () => {
    const { sampler, onLine } = await startedSampler('client-1');
    onLine('Cannot open netlink socket: Too many open files in system');
    onLine('### sample 100.00');
    onLine('TCP:   5 (estab 4, closed 0, orphaned 0, timewait 0)');
    onLine('### sample 101.00');
    expect(sampler.samples.map((s) => s.estab)).to.deep.equal([4]);
  });
});
