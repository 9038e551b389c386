/** [node] The flood a TypeScript user writes first (bench/node-flood.mjs) against the reference connector. */
import type { BenchContext } from '../context.ts';
import { alternate, countedRuns, sparseFill } from '../fills.ts';
import { fmt, say } from '../output.ts';

export async function measureNodeFlood(ctx: BenchContext): Promise<void> {
  const { report } = ctx;
  const fill = sparseFill(ctx.sizes);
  say(`\n[node] plain Node net.connect flood vs refconnect, sparse fill (${fmt(fill.count)} to ${fill.ports.length} ports), median of ${ctx.reps}`);
  const s = await alternate(ctx, ['node', 'ref'], fill);
  const ratio = s.node.rate / s.ref.rate;
  say(
    ` => node ${fmt(s.node.rate)}/s, ref ${fmt(s.ref.rate)}/s, node/ref ${fmt(ratio, 2)} (own clocks ${fmt(s.node.internalRate / s.ref.internalRate, 2)})`,
  );
  report.row(
    'rate sparse: node net.connect (end to end)',
    `${fmt(s.node.rate)}/s (${fmt(s.node.established)} conns, ${countedRuns(s.node)})`,
    '',
    '',
  );
  report.row('rate sparse: node/ref end to end', fmt(ratio, 2), '(info)', '');
  report.row('rate sparse: node/ref own clocks', fmt(s.node.internalRate / s.ref.internalRate, 2), '(info)', '');
  report.results.node = { fill, ...s, ratio, ratioOwnClocks: s.node.internalRate / s.ref.internalRate, nodeVersion: process.version };
}
