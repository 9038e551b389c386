/** [rate] labclient against the reference connector, one process each: a sparse fill and a full range. */
import type { BenchContext } from '../context.ts';
import { alternate, countedRuns, fullFill, sparseFill } from '../fills.ts';
import { INFLIGHT } from '../floods.ts';
import { fmt, say, verdict } from '../output.ts';

export async function measureRate(ctx: BenchContext): Promise<void> {
  const { report } = ctx;
  say(`\n[rate] labclient vs refconnect: 1 process each, ${INFLIGHT} in flight, median of ${ctx.reps}`);
  const out: Record<string, unknown> = {};
  for (const fill of [sparseFill(ctx.sizes), fullFill(ctx.sizes)]) {
    say(` ${fill.name}: range "${fill.range}" to ${fill.ports.length} port(s), ${fmt(fill.count)} asked`);
    const s = await alternate(ctx, ['lab', 'ref'], fill);
    const ratio = s.lab.rate / s.ref.rate;
    const ratioOwn = s.lab.internalRate / s.ref.internalRate;
    say(
      ` => ${fill.name}: lab ${fmt(s.lab.rate)}/s, ref ${fmt(s.ref.rate)}/s, lab/ref ${fmt(ratio, 2)} end to end; own clocks ${fmt(s.lab.internalRate)}/s vs ${fmt(s.ref.internalRate)}/s, ${fmt(ratioOwn, 2)}`,
    );
    report.row(`rate ${fill.name}: labclient (end to end)`, `${fmt(s.lab.rate)}/s (${fmt(s.lab.established)} conns, ${countedRuns(s.lab)})`, '', '');
    report.row(`rate ${fill.name}: refconnect (end to end)`, `${fmt(s.ref.rate)}/s (${fmt(s.ref.established)} conns, ${countedRuns(s.ref)})`, '', '');
    report.row(`rate ${fill.name}: lab/ref end to end`, fmt(ratio, 2), '>= 0.9', verdict(ratio >= 0.9));
    report.row(
      `rate ${fill.name}: lab/ref own clocks`,
      `${fmt(ratioOwn, 2)} (${fmt(s.lab.internalRate)} vs ${fmt(s.ref.internalRate)}/s)`,
      '>= 0.9',
      verdict(ratioOwn >= 0.9),
    );
    out[fill.name] = { fill, ...s, ratio, ratioOwnClocks: ratioOwn };
  }
  report.results.rate = out;
}
