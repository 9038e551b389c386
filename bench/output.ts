/** What the bench says as it goes, and the table and results it ends with. */

export const say = (line: string) => console.log(line);
export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

type Row = [what: string, figure: string, target: string, verdict: string];

/** Each part's record for the results file, and the rows of the table printed last. */
export class BenchReport {
  readonly results: Record<string, unknown> = {};
  readonly rows: Row[] = [];

  row(what: string, figure: string, target: string, met: string): void {
    this.rows.push([what, figure, target, met]);
  }

  printTable(): void {
    const head: Row = ['measurement', 'figure', 'target', 'verdict'];
    const all = [head, ...this.rows];
    const widths = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
    const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    say('');
    say(line(head));
    say(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of this.rows) say(line(r));
  }
}
