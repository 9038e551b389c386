/**
 * The picture a run's cases make together: per case, the connections the server and each client ended with
 * (`ss -s` inside each host), against what the case's expectations predicted. Built from the results alone;
 * a scenario about the "64k" myth gets a line at 65,536.
 */
import type { CaseResult, HostResult, Results } from '../results/results.ts';
import { hostColors } from './colors.ts';
import { formatCount } from './facts.ts';
import { groupedBarChart, type Band, type BarGroup, type GroupedBar } from './svg-bars.ts';
import type { ReferenceLine } from './svg-chart.ts';

const SIXTY_FOUR_K = 65_536;
/** The most connections one client IP can hold to one server port (ports 1024-65535, one held): past it is past "64k". */
const ONE_CLIENT_MOST = 64_511;

export function acrossCasesChart(results: Results): string {
  if (!results.cases.some((c) => c.hosts.length)) return '';
  const reference = referenceFor(results);
  return groupedBarChart({
    colourPer: 'host',
    kind: 'across-cases',
    title: 'Established connections at the end of each case: the server and each client (ss -s inside each host)',
    groups: results.cases.map((c, i) => caseGroup(c, i, results.cases.length)),
    bandLabel: 'predicted (tick: one value, shade: a range)',
    ...(reference && { reference }),
  });
}

function caseGroup(c: CaseResult, index: number, total: number): BarGroup {
  const colors = hostColors(c.hosts);
  return {
    label: `Case ${index + 1}/${total}: ${c.name}`,
    ...(!c.pass && { flag: 'FAIL' }),
    bars: c.hosts.map((h) => hostBar(h, colors.get(h.name)!, estabBand(c, h.name))),
  };
}

function hostBar(h: HostResult, color: string, band: Band | undefined): GroupedBar {
  return {
    label: h.name,
    color,
    ...(h.lost ? { missing: 'lost mid-run: no figures' } : { value: h.estab }),
    ...(band && { band }),
  };
}

/** What the case's first 'estab' expectation about this host predicted, where it could predict. */
function estabBand(c: CaseResult, host: string): Band | undefined {
  const e = c.expectations.find((x) => x.metric === 'estab' && x.host === host && Number.isFinite(x.predicted.min));
  return e && { min: e.predicted.min, max: e.predicted.max };
}

/** 65,536 when some server held more than one client IP can, or the claim is about "64k"; else none. */
export function referenceFor(results: Results): ReferenceLine | undefined {
  const pastOneClient = results.cases.some((c) => c.hosts.some((h) => h.role === 'server' && !h.lost && h.estab > ONE_CLIENT_MOST));
  const claimSays64k = /\b64\s?k\b|65,?536/i.test(results.claim);
  return pastOneClient || claimSays64k ? { value: SIXTY_FOUR_K, label: `"64k" = ${formatCount(SIXTY_FOUR_K)}` } : undefined;
}
