/** The live view's flood lines: a bar toward each client's predicted ceiling, a rate over steps, time left. */
import { expect } from 'chai';
import { progressReporter } from '../../lab/cli/run-view.ts';
import type { CaseInfo } from '../../lab/run/events.ts';

const info = {
  index: 0,
  total: 1,
  name: 'one client',
  plan: { server: { name: 'server' }, clients: [{ name: 'client-1' }] },
  phases: [],
  ceilings: { 'client-1': 10_000 },
} as unknown as CaseInfo;

describe('the live view of a flood', () => {
  it('shows a bar, the count against the ceiling, a rate over several steps and the time left', () => {
    let shown = '';
    let now = 0;
    const report = progressReporter(
      info,
      (text) => (shown = text),
      true,
      () => now,
    );
    // The count arrives in steps: unchanged for three lines, then 1,000 more.
    const counts = [0, 0, 0, 1000, 1000, 1000, 2000, 2000, 2000, 3000];
    for (const [i, established] of counts.entries()) {
      now = i * 500;
      report({ host: 'client-1', line: { type: 'progress', established, inflight: 64 } });
    }
    // 3,000 in 4.5 s: 667/s; 7,000 left: about 11 s.
    expect(shown).to.equal('client-1: [######..............] 3,000/10,000, 64 in flight, 667/s, ~11 s left');
  });

  it("says 'filled' at the end and sets the server's kernel count against the sum of the ceilings", () => {
    let shown = '';
    const report = progressReporter(
      info,
      (text) => (shown = text),
      false,
      () => 1000,
    );
    report({ host: 'server', kernel: { t: 0, host: 'server', estab: 9_999, errors: 0, source: 'kernel' } });
    report({ host: 'client-1', line: { type: 'filled', established: 9_999, errors: { EADDRNOTAVAIL: 1 } } });
    expect(shown.split('\n')).to.deep.equal([
      'client-1: [####################] 9,999/10,000, filled, EADDRNOTAVAIL 1',
      "server: 9,999 established of 10,000 (the clients' ceilings; ss -s inside it)",
    ]);
  });
});
