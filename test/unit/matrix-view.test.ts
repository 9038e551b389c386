import { expect } from 'chai';
import { matrixView } from '../../lab/cli/matrix-view.ts';
import type { MatrixState } from '../../lab/run/matrix-run.ts';

const at = (kernel: string, scenario: string, state: MatrixState['state'], text: string, milestone?: boolean): MatrixState => ({
  kernel,
  scenario,
  state,
  text,
  ...(milestone && { milestone }),
});

describe('the matrix view', () => {
  it('without a terminal: a line when a pair starts, finishes a case and ends, none for steps between', () => {
    const out: string[] = [];
    const show = matrixView(false, (t) => void out.push(t));
    show(at('6.1', 'port-range', 'waiting', 'waiting for a free core'));
    show(at('6.1', 'port-range', 'running', 'starting'));
    show(at('6.1', 'port-range', 'running', 'booting the VM'));
    show(at('6.1', 'port-range', 'running', 'case 1/2 "a": as predicted', true));
    show(at('6.1', 'port-range', 'passed', 'PASS on 6.1.0-31-amd64'));
    expect(out.join('')).to.equal(
      ['> [6.1] port-range: starting', '> [6.1] port-range: case 1/2 "a": as predicted', '✔ [6.1] port-range: PASS on 6.1.0-31-amd64', ''].join('\n'),
    );
  });

  it('on a terminal: one line per kernel and scenario, redrawn in place', () => {
    const out: string[] = [];
    const show = matrixView(true, (t) => void out.push(t));
    show(at('6.1', 'a', 'waiting', 'waiting'));
    show(at('host', 'a', 'waiting', 'waiting'));
    show(at('6.1', 'a', 'running', 'booting the VM'));
    const last = out.at(-1)!;
    expect(last.startsWith('\u001b[2A')).to.equal(true);
    expect(
      last
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace('\u001b[2K', '').replace('\u001b[2A', '')),
    ).to.deep.equal(['> [6.1] a: booting the VM', '  [host] a: waiting']);
  });
});
