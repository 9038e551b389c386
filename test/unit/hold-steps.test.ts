/** Ending a hold that steps down once every client held a cadence (lab/run/hold-steps.ts). */
import { expect } from 'chai';
import type { ClientLine, HoldPingStepLine } from '../../lab/programs/lines.ts';
import { cadenceHeldEverywhere } from '../../lab/run/hold-steps.ts';

const rtt = { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
const step = (interval_ms: number, fields: Partial<HoldPingStepLine> = {}): HoldPingStepLine => ({
  interval_ms,
  sent: 100,
  pongs: 100,
  timeouts: 0,
  unanswered: 0,
  hold_ms: 60_000,
  entered: 4,
  completed: 0,
  behind: 0,
  rtt_us: rtt,
  ...fields,
});
const line = (...steps: HoldPingStepLine[]): ClientLine => ({
  type: 'progress',
  hold_ping: { sent: 0, pongs: 0, timeouts: 0, hold_ms: 0, rtt_us: rtt, steps },
});

describe('a hold that steps down ends once every client held a cadence (hold-steps.ts)', () => {
  it('names the first cadence every process of every client held', () => {
    const a = line(step(20_000, { behind: 4 }), step(30_000, { completed: 4 }), step(40_000));
    const b = line(step(20_000, { behind: 1 }), step(30_000, { completed: 4 }), step(40_000));
    expect(
      cadenceHeldEverywhere([
        { processes: 4, line: a },
        { processes: 4, line: b },
      ]),
    ).to.equal(30_000);
  });

  it('waits while one client has not held it: a process still in it, one fallen behind, or a timeout', () => {
    const held = line(step(20_000, { completed: 4 }));
    for (const other of [step(20_000, { completed: 3 }), step(20_000, { completed: 3, behind: 1 }), step(20_000, { completed: 4, timeouts: 1 })])
      expect(
        cadenceHeldEverywhere([
          { processes: 4, line: held },
          { processes: 4, line: line(other) },
        ]),
        JSON.stringify(other),
      ).to.equal(undefined);
  });

  it('waits for a client with no line of the hold yet', () => {
    expect(cadenceHeldEverywhere([{ processes: 4, line: line(step(20_000, { completed: 4 })) }, { processes: 4 }])).to.equal(undefined);
  });

  it('does not take a slower cadence held everywhere for one only some held', () => {
    const a = line(step(20_000, { completed: 4 }), step(30_000, { completed: 4 }));
    const b = line(step(20_000, { behind: 2 }), step(30_000, { completed: 4 }));
    expect(
      cadenceHeldEverywhere([
        { processes: 4, line: a },
        { processes: 4, line: b },
      ]),
    ).to.equal(30_000);
  });
});
