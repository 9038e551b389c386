/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no font, no URL) that opens without
 * a network. A Content-Security-Policy forbids loading anything, so a stray reference fails visibly.
 */
import type { CaseResult, HostResult, Results, SlabGrowth } from '../results/results.ts';
import { formatPrediction } from '../scenario/theory.ts';
import { escapeHtml as esc } from './escape.ts';
import { KEY_SYSCTLS, environmentFacts, expectationVerdict, formatCount, formatMs, formatPhases, holdPings, hostFigures, kneeLine, measuredText, overallVerdict, scaleLines, slabRows, sysctlShortName, theoryLines } from './facts.ts';
import { barChart, lineChart, type Ceiling, type Series } from './svg-chart.ts';

const SERVER_COLOR = '#222222';
const CLIENT_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22'];

export function renderHtml(results: Results): string {
  const title = `${results.scenario}: ${results.claim}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${esc(results.scenario)}</h1>
<p class="claim">${esc(results.claim)}</p>
<p class="overall ${results.pass ? 'pass' : 'fail'}">${esc(overallVerdict(results))}</p>
</header>
<section class="environment">
<h2>Environment</h2>
<dl>
${environmentFacts(results).map(([label, value]) => `<dt>${esc(label)}</dt><dd>${esc(value)}</dd>`).join('\n')}
</dl>
</section>
${acrossCases(results)}${results.cases.map((c, i) => renderCase(c, i, results.cases.length)).join('\n')}
</body>
</html>
`;
}

function renderCase(c: CaseResult, index: number, total: number): string {
  const colors = hostColors(c.hosts);
  const seriesOf = (field: 'estab' | 'errors'): Series[] =>
    c.hosts.map((h) => ({
      host: h.name,
      color: colors.get(h.name)!,
      points: c.samples.filter((s) => s.host === h.name).map((s) => ({ t: s.t, value: s[field] })),
    }));
  return `<section class="case" data-case="${index}">
<h2>Case ${index + 1}/${total}: ${esc(c.name)} <span class="verdict ${c.pass ? 'pass' : 'fail'}">${c.pass ? 'PASS' : 'FAIL'}</span></h2>
${c.about ? `<p class="about">${esc(c.about)}</p>` : ''}
<ul class="legend">
${c.hosts.map((h) => `<li data-host="${esc(h.name)}"><span class="swatch" style="background:${colors.get(h.name)}"></span>${esc(h.name)} <span class="muted">(${esc(h.role)}, ${esc(h.ip)})</span></li>`).join('\n')}
<li><span class="swatch dashed"></span>predicted ceiling</li>
</ul>
<div class="charts">
${lineChart({ kind: 'estab', caseIndex: index, title: 'Established connections over time (server: ss -s inside it; clients: their own flood programs)', series: seriesOf('estab'), ceilings: estabCeilings(c) })}
${lineChart({ kind: 'errors', caseIndex: index, title: 'Failed connects over time (counted by each host\u2019s program)', series: seriesOf('errors'), height: 220 })}
</div>
<h3>Predicted against measured</h3>
<table class="verdicts">
<thead><tr><th>expectation</th><th>host</th><th class="num">predicted</th><th class="num">measured</th><th>verdict</th></tr></thead>
<tbody>
${c.expectations.map((e) => `<tr class="${e.pass ? 'pass' : 'fail'}" data-host="${esc(e.host)}" data-metric="${esc(e.metric)}"><td>${esc(e.claim)}</td><td>${esc(e.host)}</td><td class="num predicted">${esc(formatPrediction(e.predicted))}</td><td class="num measured">${esc(measuredText(e))}</td><td class="verdict ${e.pass ? 'pass' : 'fail'}">${esc(expectationVerdict(e))}</td></tr>`).join('\n')}
</tbody>
</table>
<ul class="theory">
${theoryLines(c).map((why) => `<li>theory: ${esc(why)}</li>`).join('\n')}
</ul>
<h3>Hosts</h3>
<div class="table-scroll"><table class="hosts">
<thead><tr><th>host</th><th>role</th><th>ip</th><th class="num">estab</th><th class="num">timewait</th><th>errors</th>${KEY_SYSCTLS.map((k) => `<th>${breakable(sysctlShortName(k))}</th>`).join('')}</tr></thead>
<tbody>
${c.hosts.map(hostRow).join('\n')}
</tbody>
</table></div>
${scaleLines(c).map((line) => `<p class="scale">${esc(line)}</p>`).join('\n')}
${holdPingFigures(c, index, colors)}${slabFigures(c.memory?.slabCaches ?? [], index)}<p class="phases">Phases: ${esc(formatPhases(c))}</p>
</section>`;
}

/** The knee of the Ping/Pong cases, where there are any: nothing at all otherwise. */
function acrossCases(results: Results): string {
  const knee = kneeLine(results);
  return knee ? `<section class="across-cases">\n<h2>Across cases</h2>\n<p class="knee">${esc(knee)}</p>\n</section>\n` : '';
}

/** Each client's round-trip p99 over the hold, and its percentiles; nothing when no client held a Ping/Pong round. */
function holdPingFigures(c: CaseResult, index: number, colors: Map<string, string>): string {
  const pings = holdPings(c);
  if (!pings.length) return '';
  const series: Series[] = pings.map(({ host, ping }) => ({ host, color: colors.get(host)!, points: ping.series.map((w) => ({ t: w.t * 1000, value: w.p99 })) }));
  const ms = (n: number, count: number) => `<td class="num">${count ? esc(formatMs(n)) : '-'}</td>`;
  const rows = pings.map(({ host, ping: p }) => {
    const r = p.rttMs;
    return `<tr data-host="${esc(host)}"><td>${esc(host)}</td>${[r.p50, r.p90, r.p99, r.p999, r.max].map((n) => ms(n, r.count)).join('')}<td class="num">${formatCount(p.perSecond)}</td><td class="num">${formatCount(p.askedPerSecond)}</td><td class="num">${formatCount(p.timeouts)}</td></tr>`;
  });
  return `<h3>Ping/Pong over the hold</h3>
${lineChart({ kind: 'p99', caseIndex: index, title: 'Round-trip p99 over the hold (ms), per client', series, height: 260 })}
<table class="round-trips">
<thead><tr><th>client</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">p99.9</th><th class="num">max</th><th class="num">pings/s</th><th class="num">asked</th><th class="num">timeouts</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
`;
}

/** Slab growth per connection, cache by cache: the table (with its total) and the bars against prediction. */
function slabFigures(caches: SlabGrowth[], index: number): string {
  if (!caches.length) return '';
  const [header, ...body] = slabRows(caches);
  const cells = (row: string[], tag: 'th' | 'td') => row.map((text, col) => `<${tag}${col ? ' class="num"' : ''}>${esc(text)}</${tag}>`).join('');
  const bars = caches.map((s) => ({ label: s.cache, value: s.bytesPerConnection, ...(s.predictedObjects !== undefined && { mark: s.predictedObjects * s.objectSize }) }));
  return `<h3>Slab growth per connection</h3>
<table class="slab">
<thead><tr>${cells(header!, 'th')}</tr></thead>
<tbody>
${body.map((row, i) => `<tr${i === body.length - 1 ? ' class="total"' : ` data-cache="${esc(row[0]!)}"`}>${cells(row, 'td')}</tr>`).join('\n')}
</tbody>
</table>
${barChart({ kind: 'slab', caseIndex: index, title: 'Kernel bytes per connection by slab cache (both ends)', bars, unit: 'B', markLabel: 'predicted' })}
`;
}

function hostRow(h: HostResult): string {
  const sysctls = KEY_SYSCTLS.map((k) => `<td>${esc(h.sysctls[k] ?? '')}</td>`).join('');
  const figures = hostFigures(h);
  return `<tr data-host="${esc(h.name)}"${h.lost ? ' class="lost"' : ''}><td>${esc(h.name)}</td><td>${esc(h.role)}</td><td>${esc(h.ip)}</td><td class="num">${esc(figures.estab)}</td><td class="num">${esc(figures.timewait)}</td><td>${esc(figures.errors)}</td>${sysctls}</tr>`;
}

/** Long sysctl names may wrap after an underscore, and nowhere else. */
function breakable(name: string): string {
  return esc(name).replace(/_/g, '_<wbr>');
}

/** One dashed line per distinct predicted maximum of an 'estab' expectation; open-ended ones have none. */
function estabCeilings(c: CaseResult): Ceiling[] {
  const byValue = new Map<number, string[]>();
  for (const e of c.expectations) {
    if (e.metric !== 'estab' || !Number.isFinite(e.predicted.max)) continue;
    const hosts = byValue.get(e.predicted.max) ?? [];
    if (!hosts.includes(e.host)) hosts.push(e.host);
    byValue.set(e.predicted.max, hosts);
  }
  return [...byValue].map(([value, hosts]) => ({ value, hosts }));
}

function hostColors(hosts: HostResult[]): Map<string, string> {
  let next = 0;
  return new Map(hosts.map((h) => [h.name, h.role === 'server' ? SERVER_COLOR : CLIENT_COLORS[next++ % CLIENT_COLORS.length]!]));
}

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; margin: 24px auto; max-width: 1180px; padding: 0 16px; line-height: 1.4; }
h1 { margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { margin-bottom: 6px; }
.claim { font-size: 1.15em; margin-top: 0; }
.muted { color: #666; }
.overall { font-weight: bold; padding: 8px 12px; border-radius: 4px; display: inline-block; }
.overall.pass { background: #e3f4e8; color: #17663a; } .overall.fail { background: #fde4e7; color: #b00020; }
span.verdict { font-size: 0.8em; padding: 2px 8px; border-radius: 3px; color: #fff; vertical-align: middle; }
span.verdict.pass { background: #17663a; } span.verdict.fail { background: #b00020; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; } dt { color: #555; } dd { margin: 0; font-family: ui-monospace, monospace; font-size: 0.9em; }
table { border-collapse: collapse; margin: 8px 0; font-size: 0.92em; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 4px 10px; text-align: left; } th { background: #f5f5f5; }
table.hosts { font-size: 0.85em; } table.hosts td { white-space: nowrap; }
.table-scroll { overflow-x: auto; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.verdict { font-weight: bold; } tr.lost td { color: #b00020; } tr.fail td { background: #fdecee; } td.verdict.fail { color: #b00020; } td.verdict.pass { color: #17663a; }
.theory { color: #444; font-size: 0.92em; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 0.9em; }
.swatch { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 6px; }
.swatch.dashed { background: none; border-top: 2px dashed #b00020; height: 0; }
.charts { display: flex; flex-direction: column; gap: 8px; }
svg.chart { max-width: 100%; height: auto; background: #fff; }
svg.chart text { font-size: 12px; fill: #333; }
svg.chart .chart-title { font-size: 14px; font-weight: 600; }
svg.chart .tick line { stroke: #e6e6e6; } svg.chart .tick.x line { stroke: #999; }
svg.chart .axis { stroke: #777; }
svg.chart .series { stroke-width: 2; stroke-linejoin: round; }
svg.chart .ceiling { stroke: #b00020; stroke-width: 1.2; stroke-dasharray: 6 4; }
svg.chart .ceiling-label, svg.chart .ceiling-heading { fill: #b00020; font-size: 11.5px; } svg.chart .ceiling-heading { font-weight: 600; }
svg.chart .no-samples { fill: #888; font-style: italic; }
.phases { color: #555; font-size: 0.9em; }
`;
