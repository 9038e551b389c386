/**
 * The terminal view of `lab matrix`: one line per kernel and scenario with its state. On a terminal the
 * lines are redrawn in place; without one (CI logs) a line is printed when a pair starts, finishes a case,
 * and ends, not for every step in between.
 */
import type { MatrixState } from '../run/matrix-run.ts';

const MARK: Record<MatrixState['state'], string> = { waiting: ' ', running: '>', passed: '✔', failed: '✖', broke: '!', skipped: '-' };

export function matrixView(tty: boolean, write: (text: string) => void = (t) => void process.stdout.write(t)): (state: MatrixState) => void {
  const rows = new Map<string, MatrixState>();
  let drawn = 0;
  const line = (s: MatrixState) => `${MARK[s.state]} [${s.kernel}] ${s.scenario}: ${s.text}`;
  return (state) => {
    const key = `${state.kernel}\u0000${state.scenario}`;
    const before = rows.get(key);
    rows.set(key, state);
    if (tty) {
      const width = process.stdout.columns || 120;
      const block = [...rows.values()].map((s) => line(s).slice(0, width - 1));
      // Up over what was drawn, then every line again, each cleared to its end.
      write(`${drawn ? `\u001b[${drawn}A` : ''}${block.map((l) => `\u001b[2K${l}\n`).join('')}`);
      drawn = block.length;
      return;
    }
    if (state.state === 'waiting') return;
    if (state.milestone || state.state !== before?.state) write(`${line(state)}\n`);
  };
}
