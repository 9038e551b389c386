import { expect } from 'chai';
import { PALETTE } from '../../lab/report/colors.ts';
import { renderHtml } from '../../lab/report/html.ts';
import { buildMatrix } from '../../lab/report/matrix.ts';
import { matrixHtml } from '../../lab/report/matrix-html.ts';
import { matrixMarkdown } from '../../lab/report/matrix-markdown.ts';
import type { CaseResult, ConnectCost, Results } from '../../lab/results/results.ts';
import { KERNEL_618, fixtureDir, loadFixture } from '../fixtures/results/fixtures.ts';

/**
 * A real `--quick` run of scenarios/port-range.ts on this machine's kernel (6.18.44, Docker 20.10), its one
 * case timing each connect() as 40000-43999 filled: flat, then a step at 50%.
 */
const PORT_RANGE = `${fixtureDir}port-range-quick-6.18.44.json`;
const SECTION = 'The cost of one connect() as the range fills';
const PER_SOCKET = 'a per-socket range over the same ports';

type Histograms = ConnectCost['us'];

function timedCase(results: Results): CaseResult {
  return results.cases.find((c) => c.hosts.some((h) => h.flood?.connectCost))!;
}

function costOf(c: CaseResult): ConnectCost {
  return c.hosts.find((h) => h.flood?.connectCost)!.flood!.connectCost!;
}

/** The median µs of one call over [from, to) percent in use, read straight off the histograms (2% each). */
function median(us: Histograms, from: number, to: number): number | undefined {
  const bins = us
    .slice(from / 2, to / 2)
    .flat()
    .sort((a, b) => a[0] - b[0]);
  const total = bins.reduce((n, [, calls]) => n + calls, 0);
  if (!total) return undefined;
  let seen = 0;
  return bins.find(([, calls]) => (seen += calls) >= total / 2)![0];
}

const hundredths = (n: number) => Math.round(n * 100) / 100;

/** sparse µs (4-48% in use), then the median over 8-16, 50-58, 86-94 and 96-100% as multiples of it. */
function expectedFigures(us: Histograms): number[] {
  const sparse = median(us, 4, 48)!;
  return [
    sparse,
    ...[
      [8, 16],
      [50, 58],
      [86, 94],
      [96, 100],
    ].map(([from, to]) => hundredths(median(us, from!, to!)! / sparse)),
  ];
}

/** A step at 50%: just past it and at 90% alike, at least ×1.5 the range less than half full (the theory's least step). */
function expectedRow(kernel: string, us: Histograms): string {
  const figures = expectedFigures(us);
  const least = Math.min(figures[2]!, figures[3]!);
  const step = `${least >= 1.5 ? 'yes' : 'no'} (×${least})`;
  return `| ${kernel} | ${figures.map((n) => n.toLocaleString('en-US')).join(' | ')} | ${step} |`;
}

/** The fixture as another kernel ran it, with a per-socket case whose histograms `perSocket` makes from the real ones. */
function onKernel(kernel: string, perSocket?: (us: Histograms) => Histograms): Results {
  const results = loadFixture(PORT_RANGE);
  results.environment.kernel = kernel;
  if (perSocket) {
    const c = structuredClone(timedCase(results));
    c.name = PER_SOCKET;
    const cost = costOf(c);
    cost.us = perSocket(cost.us);
    results.cases.push(c);
  }
  return results;
}

/** Every call from 50% in use on takes three times as long: a step. */
const stepAtHalf = (us: Histograms): Histograms => us.map((bins, b) => (b >= 25 ? bins.map(([u, calls]): [number, number] => [u * 3, calls]) : bins));
/** Every 2% costs what 4-6% did: no step anywhere. */
const flat = (us: Histograms): Histograms => us.map(() => structuredClone(us[2]!));

describe('the cost of one connect() in the kernel matrix', () => {
  const real = loadFixture(PORT_RANGE);
  const realUs = costOf(timedCase(real)).us;
  const timed = timedCase(real).name;
  // 5.10 has no IP_LOCAL_PORT_RANGE: its per-socket case ran, measured nothing, and says why.
  const old = onKernel('5.10.0-35-amd64', (us) => us);
  const oldPerSocket = old.cases.find((c) => c.name === PER_SOCKET)!;
  delete oldPerSocket.hosts.find((h) => h.flood?.connectCost)!.flood!.connectCost;
  for (const e of oldPerSocket.expectations)
    if (e.metric.startsWith('connect.')) Object.assign(e, { notApplicable: 'Linux 5.10 has no IP_LOCAL_PORT_RANGE', pass: true, measured: NaN });
  const runs = [onKernel('6.1.0-41-amd64', stepAtHalf), real, onKernel('7.3-amd64', flat), old];
  const matrix = buildMatrix(runs.map((results, i) => ({ file: `run-${i}.json`, results })));
  const html = matrixHtml(matrix);
  const markdown = matrixMarkdown(matrix);
  const chartOf = (caseName: string) => {
    const found = [...html.matchAll(/<svg class="chart connect-cost"[^>]*aria-label="([^"]*)"[\s\S]*?<\/svg>/g)].filter((m) =>
      m[1]!.startsWith(`port-range: ${caseName}: `),
    );
    expect(found, `the chart of ${caseName}`).to.have.length(1);
    return found[0]![0];
  };
  const lines = (svg: string) =>
    [...svg.matchAll(/<path class="series" data-kernel="([^"]+)" d="[^"]*" stroke="([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`);

  it('has a section with a heading per case that timed connect(), in matrix.md and matrix.html', () => {
    expect(markdown).to.include(`## ${SECTION}\n`);
    expect(markdown).to.include(`### port-range: ${timed}\n`);
    expect(markdown).to.include(`### port-range: ${PER_SOCKET}\n`);
    expect(markdown).to.include(
      'the others as multiples of it in the same run. Under emulation only these ratios, not the µs, compare between kernels.',
    );
    expect(html).to.include(`<h2>${SECTION}</h2>`);
    expect(html).to.include(`<h3>port-range: ${PER_SOCKET}</h3>`);
    expect(markdown).to.not.include('<svg');
  });

  it('draws one line per kernel that measured the case, in the kernel\u2019s colour, against a dashed line at ×1', () => {
    // Kernels in version order, each its palette colour as in every chart of the matrix.
    expect(matrix.kernels).to.deep.equal(['5.10.0-35-amd64', '6.1.0-41-amd64', '6.18.44-fc-v1098', '7.3-amd64']);
    expect(lines(chartOf(timed))).to.deep.equal(matrix.kernels.map((k, i) => `${k} ${PALETTE[i]}`));
    const perSocket = chartOf(PER_SOCKET);
    expect(lines(perSocket)).to.deep.equal([`6.1.0-41-amd64 ${PALETTE[1]}`, `7.3-amd64 ${PALETTE[3]}`]);
    expect(perSocket).to.include('<g class="reference-line" data-value="1">');
    expect(perSocket).to.include('>×1: the cost on a range less than half full</text>');
    expect(perSocket).to.include('>% of the port range in use</text>');
    expect(perSocket).to.include('>100%</text>');
    expect(perSocket).to.match(/<g class="end-label" data-kernels="6.1.0-41-amd64" [^>]*>[\s\S]*?>6.1.0-41-amd64: ×[\d.]+<\/text>/);
  });

  it('puts each 2% of the range at its middle, as a multiple of the run\u2019s sparse cost', () => {
    const stepped = stepAtHalf(realUs);
    const ratioAt51 = hundredths(median(stepped, 50, 52)! / median(stepped, 4, 48)!);
    expect(chartOf(PER_SOCKET)).to.include(`<title>6.1.0-41-amd64: ×${ratioAt51} at 51% in use</title>`);
    const onePerBucket = chartOf(PER_SOCKET).match(/<title>7\.3-amd64: ×1 at \d+% in use<\/title>/g);
    expect(onePerBucket).to.have.length(50);
  });

  it('tables each kernel\u2019s sparse µs and its multiples at 10, 50, 90 and 99%, and whether it stepped at 50%', () => {
    const header = '| kernel | sparse µs | ×10% | ×50% | ×90% | ×99% | step at 50% |';
    expect(markdown).to.include(
      [
        `### port-range: ${timed}`,
        '',
        header,
        '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
        ...matrix.kernels.map((k) => expectedRow(k, realUs)),
      ].join('\n'),
    );
    const perSocket = markdown.slice(markdown.indexOf(`### port-range: ${PER_SOCKET}`));
    expect(perSocket).to.include(expectedRow('6.1.0-41-amd64', stepAtHalf(realUs)));
    expect(perSocket).to.include(expectedRow('7.3-amd64', flat(realUs)));
    expect(perSocket).to.include('| 5.10.0-35-amd64 | - | - | - | - | - | n/a: Linux 5.10 has no IP_LOCAL_PORT_RANGE |');
    expect(perSocket).to.include('| 6.18.44-fc-v1098 | - | - | - | - | - | case not run |');
    expect(html).to.include(`<td>${expectedRow('6.1.0-41-amd64', stepAtHalf(realUs)).slice(2, -2).split(' | ').join('</td><td>')}</td>`);
  });

  it('says yes where the cost past 50% and at 90% is at least ×1.5, and by how much; no where it is flat', () => {
    const stepIn = (caseName: string, kernel: string) => {
      const section = markdown.slice(markdown.indexOf(`### port-range: ${caseName}`));
      return section
        .split('\n')
        .find((line) => line.startsWith(`| ${kernel} |`))!
        .split(' | ')
        .at(-1)!
        .replace(/ \|$/, '');
    };
    expect(stepIn(timed, '6.18.44-fc-v1098')).to.match(/^yes \(×\d+(\.\d+)?\)$/);
    expect(stepIn(PER_SOCKET, '6.1.0-41-amd64')).to.match(/^yes \(×\d+(\.\d+)?\)$/);
    expect(stepIn(PER_SOCKET, '7.3-amd64')).to.equal('no (×1)');
  });

  it('agrees with what the run itself measured for the connect.* expectations', () => {
    const measured = timedCase(real)
      .expectations.filter((e) => e.metric.startsWith('connect.'))
      .map((e) => e.measured);
    expect(expectedFigures(realUs)).to.deep.equal(measured);
  });
});

describe('the cost of one connect() in report.html', () => {
  const results = loadFixture(PORT_RANGE);
  const html = renderHtml(results);
  const index = results.cases.indexOf(timedCase(results));

  it('draws the curve of each client that timed connect(), in its host colour, beside the case\u2019s other charts', () => {
    const section = html.slice(
      html.indexOf(`<section class="case" data-case="${index}">`),
      html.indexOf('</section>', html.indexOf(`<section class="case" data-case="${index}">`)),
    );
    const charts = section.slice(section.indexOf('<div class="charts">'), section.indexOf('</div>', section.indexOf('<div class="charts">')));
    const chart = charts.slice(charts.indexOf(`<svg class="chart connect-cost" data-case="${index}"`));
    expect(chart).to.include('aria-label="The cost of one connect() as a multiple of its cost on a range less than half full, per client"');
    expect([...chart.matchAll(/<path class="series" data-host="([^"]+)" d="[^"]*" stroke="([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`)).to.deep.equal([
      `client-1 ${PALETTE[0]}`,
    ]);
    expect(chart).to.include('<g class="reference-line" data-value="1">');
    // Labelled at its end: the last 2% of the range.
    const us = costOf(timedCase(results)).us;
    expect(chart).to.include(`>client-1: ×${hundredths(median(us, 98, 100)! / median(us, 4, 48)!)}</text>`);
  });

  it('draws none for a case whose clients did not time connect()', () => {
    expect(renderHtml(loadFixture(KERNEL_618))).to.not.include('chart connect-cost');
  });
});
