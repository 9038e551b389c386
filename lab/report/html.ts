/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no font, no URL) that opens without
 * a network. A Content-Security-Policy forbids loading anything, so a stray reference fails visibly.
 * It reads top to bottom as a presenter tells it: the claim and its story, the verdict (naming any case that
 * failed), the cases side by side in one chart, then each case in detail.
 */
import { tierLines } from './tiers.ts';
import type { CaseResult, HostResult, Results, SlabGrowth } from '../results/results.ts';
import { acrossCasesChart } from './across-cases.ts';
import { hostColors } from './colors.ts';
import { clientConnectCosts, costCurveChart } from './connect-cost-chart.ts';
import { escapeHtml as esc } from './escape.ts';
import {
  KEY_SYSCTLS,
  environmentFacts,
  expectationVerdict,
  failedCases,
  failedExpectationText,
  formatCount,
  formatMs,
  formatPhases,
  holdPings,
  hostFigures,
  kneeLine,
  measuredFigure,
  overallVerdict,
  predictionText,
  scaleLines,
  machineLines,
  slabRows,
  sysctlShortName,
  theoryLines,
} from './facts.ts';
import { storyParagraphs } from './story.ts';
import { barChart } from './svg-bars.ts';
import { CHART_STYLE, lineChart, type Ceiling, type Series } from './svg-chart.ts';

export interface HtmlOptions {
  /** The scenario's story, from its file (results do not carry it): shown under the claim. */
  story?: string | undefined;
}

export function renderHtml(results: Results, options: HtmlOptions = {}): string {
  const title = `${results.scenario}: ${results.claim}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${STYLE}${CHART_STYLE}</style>
</head>
<body>
${header(results, options.story)}
${acrossCases(results)}
${environment(results)}
${results.cases.map((c, i) => renderCase(c, i, results.cases.length)).join('\n')}
</body>
</html>
`;
}

function header(results: Results, story: string | undefined): string {
  const paragraphs = story ? storyParagraphs(story) : [];
  return `<header>
<h1>${esc(results.scenario)}</h1>
<p class="claim">${esc(results.claim)}</p>
${paragraphs.length ? `<div class="story">\n${paragraphs.map((p) => `<p>${esc(p)}</p>`).join('\n')}\n</div>` : ''}
${banner(results)}
</header>`;
}

/** The overall verdict; when it failed, each failed case by name (linked to its section) and what failed in it. */
function banner(results: Results): string {
  const failed = failedCases(results);
  const items = failed.map(({ index, c, failed: expectations }) => {
    const link = `<a href="#case-${index + 1}">Case ${index + 1}/${results.cases.length}: ${esc(c.name)}</a>`;
    const what = expectations.map((e) => `<li>${esc(failedExpectationText(e))}</li>`).join('');
    return `<li class="failed-case" data-case="${index}">${link}${what ? `<ul>${what}</ul>` : ''}</li>`;
  });
  return `<div class="overall ${results.pass ? 'pass' : 'fail'}">
<p class="overall-verdict">${esc(overallVerdict(results))}</p>
${items.length ? `<ul class="failed-cases">\n${items.join('\n')}\n</ul>` : ''}
</div>`;
}

/** The cases in one chart, and the knee of the Ping/Pong cases where there are any. */
function acrossCases(results: Results): string {
  const chart = acrossCasesChart(results);
  const knee = kneeLine(results);
  if (!chart && !knee) return '';
  return `<section class="across-cases">
<h2>Across cases</h2>
${chart}
${knee ? `<p class="knee">${esc(knee)}</p>` : ''}
</section>`;
}

function environment(results: Results): string {
  return `<section class="environment">
<h2>Environment</h2>
<dl>
${environmentFacts(results)
  .map(([label, value]) => `<dt>${esc(label)}</dt><dd>${esc(value)}</dd>`)
  .join('\n')}
</dl>
</section>`;
}

function renderCase(c: CaseResult, index: number, total: number): string {
  const colors = hostColors(c.hosts);
  return `<section class="case" data-case="${index}">
<h2 id="case-${index + 1}">Case ${index + 1}/${total}: ${esc(c.name)} <span class="verdict ${c.pass ? 'pass' : 'fail'}">${c.pass ? 'PASS' : 'FAIL'}</span></h2>
${c.about ? `<p class="about">${esc(c.about)}</p>` : ''}
${hostLegend(c.hosts, colors)}
<div class="charts">
${lineChart({ kind: 'estab', caseIndex: index, title: 'Established connections over time (server: ss -s inside it; clients: their own flood programs)', series: sampleSeries(c, colors, 'estab'), ceilings: estabCeilings(c) })}
${lineChart({ kind: 'errors', caseIndex: index, title: 'Failed connects over time (counted by each host\u2019s program)', series: sampleSeries(c, colors, 'errors'), maxHeight: 220 })}${connectCostFigure(c, index, colors)}
</div>
<h3>Predicted against measured</h3>
${verdictTable(c)}
<ul class="theory">
${theoryLines(c)
  .map((why) => `<li>theory: ${esc(why)}</li>`)
  .join('\n')}
</ul>
<h3>Hosts</h3>
<div class="table-scroll"><table class="hosts">
<thead><tr><th>host</th><th>role</th><th>ip</th><th class="num">estab</th><th class="num">timewait</th><th>errors</th>${KEY_SYSCTLS.map((k) => `<th>${breakable(sysctlShortName(k))}</th>`).join('')}</tr></thead>
<tbody>
${c.hosts.map(hostRow).join('\n')}
</tbody>
</table></div>
${[...tierLines(c), ...machineLines(c), ...scaleLines(c)].map((line) => `<p class="scale">${esc(line)}</p>`).join('\n')}
${holdPingFigures(c, index, colors)}${slabFigures(c.memory?.slabCaches ?? [], index)}<p class="phases">Phases: ${esc(formatPhases(c))}</p>
</section>`;
}

/** Each host's colour, role, address and the connections it ended with. */
function hostLegend(hosts: HostResult[], colors: Map<string, string>): string {
  const item = (h: HostResult) =>
    `<li data-host="${esc(h.name)}"><span class="swatch" style="background:${colors.get(h.name)}"></span>${esc(h.name)} <span class="muted">(${esc(h.role)}, ${esc(h.ip)})</span> <span class="count">${h.lost ? 'lost mid-run' : `${esc(formatCount(h.estab))} estab at the end`}</span></li>`;
  return `<ul class="legend">
${hosts.map(item).join('\n')}
<li><span class="swatch dashed"></span>predicted ceiling</li>
</ul>`;
}

/** One series per host of a sampled figure. */
function sampleSeries(c: CaseResult, colors: Map<string, string>, field: 'estab' | 'errors'): Series[] {
  return c.hosts.map((h) => ({
    name: h.name,
    color: colors.get(h.name)!,
    points: c.samples.filter((s) => s.host === h.name).map((s) => ({ t: s.t, value: s[field] })),
  }));
}

function verdictTable(c: CaseResult): string {
  const row = (e: CaseResult['expectations'][number]) =>
    `<tr class="${e.pass ? 'pass' : 'fail'}" data-host="${esc(e.host)}" data-metric="${esc(e.metric)}"><td>${esc(e.claim)}</td><td>${esc(e.host)}</td><td class="num predicted">${esc(predictionText(e.predicted))}</td><td class="num measured">${esc(measuredFigure(e))}</td><td class="verdict ${e.pass ? 'pass' : 'fail'}">${esc(expectationVerdict(e))}</td></tr>`;
  return `<table class="verdicts">
<thead><tr><th>expectation</th><th>host</th><th class="num">predicted</th><th class="num">measured</th><th>verdict</th></tr></thead>
<tbody>
${c.expectations.map(row).join('\n')}
</tbody>
</table>`;
}

/** After the time charts, each client's cost of one connect() as its range filled; nothing when no client timed it. */
function connectCostFigure(c: CaseResult, index: number, colors: Map<string, string>): string {
  const costs = clientConnectCosts(c);
  if (!costs.length) return '';
  const lines = costs.map(({ host, cost }) => ({ name: host, color: colors.get(host)!, cost }));
  return `\n${costCurveChart({ caseIndex: index, lines, linePer: 'host' })}`;
}

/** Each client's round-trip p99 over the hold, and its percentiles; nothing when no client held a Ping/Pong round. */
function holdPingFigures(c: CaseResult, index: number, colors: Map<string, string>): string {
  const pings = holdPings(c);
  if (!pings.length) return '';
  const series: Series[] = pings.map(({ host, ping }) => ({
    name: host,
    color: colors.get(host)!,
    points: ping.series.map((w) => ({ t: w.t * 1000, value: w.p99 })),
  }));
  const ms = (n: number | undefined, count: number | undefined) => `<td class="num">${count && n !== undefined ? esc(formatMs(n)) : '-'}</td>`;
  const rows = pings.map(({ host, ping: p }) => {
    const r = p.rttMs;
    return `<tr data-host="${esc(host)}"><td>${esc(host)}</td>${[r?.p50, r?.p90, r?.p99, r?.p999, r?.max].map((n) => ms(n, r?.count)).join('')}<td class="num">${formatCount(p.perSecond)}</td><td class="num">${formatCount(p.askedPerSecond)}</td><td class="num">${formatCount(p.timeouts)}</td></tr>`;
  });
  return `<h3>Ping/Pong over the hold</h3>
${lineChart({ kind: 'p99', caseIndex: index, title: 'Round-trip p99 over the hold (ms), per client', series, maxHeight: 260, formatValue: formatMs })}
<table class="round-trips">
<thead><tr><th>client</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">p99.9</th><th class="num">max</th><th class="num">pings/s</th><th class="num">asked</th><th class="num">timeouts</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${cadenceTable(pings)}`;
}

/** A hold that stepped down: each client's cadences in turn, whether it held each, and what each answered. */
function cadenceTable(pings: ReturnType<typeof holdPings>): string {
  const rows = pings.flatMap(({ host, ping }) =>
    (ping.steps ?? []).map((s) => {
      const held = s.held ? 'held' : s.behind ? `${s.behind} of ${s.processes} fell behind` : 'not held';
      const p99 = s.rttMs?.count ? formatMs(s.rttMs.p99) : '-';
      return `<tr data-host="${esc(host)}"><td>${esc(host)}</td><td class="num">${formatCount(s.intervalMs)}</td><td class="num">${formatCount(s.askedPerSecond)}</td><td class="num">${formatCount(s.perSecond)}</td><td>${esc(held)}</td><td class="num">${formatCount(s.timeouts)}</td><td class="num">${esc(p99)}</td></tr>`;
    }),
  );
  if (!rows.length) return '';
  return `<h3>Cadences, stepping down where the machine fell behind</h3>
<table class="cadences">
<thead><tr><th>client</th><th class="num">every (ms)</th><th class="num">asked/s</th><th class="num">answered/s</th><th>held</th><th class="num">timeouts</th><th class="num">p99</th></tr></thead>
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
  const bars = caches.map((s) => ({
    label: s.cache,
    value: s.bytesPerConnection,
    ...(s.predictedObjects !== undefined && { mark: s.predictedObjects * s.objectSize }),
  }));
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

const STYLE = `
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a; margin: 24px auto; max-width: 1180px; padding: 0 16px; line-height: 1.4; }
h1 { margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 1px solid #ddd; padding-bottom: 4px; } h3 { margin-bottom: 6px; }
.claim { font-size: 1.15em; margin-top: 0; font-weight: 600; }
.story { max-width: 78ch; color: #333; border-left: 3px solid #ccc; padding-left: 14px; margin: 12px 0 16px; }
.story p { margin: 0 0 8px; }
.muted { color: #666; }
.overall { padding: 8px 12px; border-radius: 4px; display: inline-block; }
.overall-verdict { font-weight: bold; margin: 0; }
.overall.pass { background: #e3f4e8; color: #17663a; } .overall.fail { background: #fde4e7; color: #b00020; }
.failed-cases { margin: 6px 0 0; padding-left: 20px; } .failed-cases a { color: inherit; font-weight: 600; } .failed-cases ul { padding-left: 18px; color: #5a0010; }
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
.legend .count { font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 6px; }
.swatch.dashed { background: none; border-top: 2px dashed #b00020; height: 0; }
.charts { display: flex; flex-direction: column; gap: 8px; }
.phases { color: #555; font-size: 0.9em; }
`;
