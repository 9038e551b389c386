/**
 * report.html and matrix.html in a real headless Chromium, rendered as `lab report` and `lab matrix --from`
 * render them: they open offline, and what a person looks for is in the DOM the browser built (the story at
 * the top, the failing case in the banner, the cross-case chart and its "64k" line, labelled line ends, no
 * series hidden under another, the matrix's charts).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { ensurePackages } from '../../lab/runtime/debian-packages.ts';
import { HOLD_PING, HOLD_PING_FAILED, KERNEL_61, KERNEL_618, loadFixture } from '../fixtures/results/fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

let dir: string;

/** Every run gets a fresh profile and no network services: the page must stand on its own. */
function chromium(page: string, ...args: string[]): string {
  const profile = mkdtempSync(join(dir, 'profile-'));
  const run = spawnSync(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      ...args,
      pathToFileURL(page).href,
    ],
    { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.status !== 0) throw new Error(`chromium exited ${run.status} (${run.signal ?? 'no signal'}): ${run.stderr.slice(-2000)}`);
  return run.stdout;
}

function lab(...args: string[]): void {
  const run = spawnSync(process.execPath, ['bin/lab.js', ...args], { cwd: projectRoot, encoding: 'utf8', timeout: 90_000 });
  // lab matrix exits 1 when an expectation failed on some kernel: the report is written all the same.
  if (run.status !== 0 && run.status !== 1) throw new Error(`lab ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
}

/** `lab report` into its own folder; the page's path. */
function renderReport(results: string): string {
  const out = join(dir, basename(results, '.json'));
  lab('report', results, '--out', out);
  return join(out, 'report.html');
}

function screenshotIsAPage(page: string, minBytes: number): void {
  const png = page.replace(/\.html$/, '.png');
  chromium(page, `--screenshot=${png}`, '--window-size=1280,2000');
  expect(existsSync(png), 'no screenshot written').to.equal(true);
  expect(readFileSync(png).subarray(0, 8).equals(PNG_SIGNATURE), 'not a PNG').to.equal(true);
  // A blank 1280x2000 page compresses to a few kilobytes; charts and tables make far more.
  expect(statSync(png).size).to.be.greaterThan(minBytes);
}

describe('the reports in headless Chromium', function () {
  before(async function () {
    // Installed as the lab installs what it needs (Debian, as root); elsewhere a line saying what to install.
    await ensurePackages([{ package: 'chromium', present: () => existsSync(CHROMIUM) }], 'the report check in a browser', (line) =>
      console.log(`      (setup) ${line}`),
    );
    dir = mkdtempSync(join(tmpdir(), 'lab-browser-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  describe('report.html', function () {
    this.timeout(120_000);
    const results = loadFixture(KERNEL_61);
    let page: string;
    let dom: string;
    let failedDom: string;

    before(() => {
      page = renderReport(KERNEL_61);
      dom = chromium(page, '--dump-dom');
      failedDom = chromium(renderReport(HOLD_PING_FAILED), '--dump-dom');
    });

    it('takes a screenshot of the page', () => screenshotIsAPage(page, 50_000));

    it('opens with the claim and the scenario\u2019s story, above the verdict and the charts', () => {
      const header = dom.slice(dom.indexOf('<header>'), dom.indexOf('</header>'));
      expect(header).to.include(`<p class="claim">${results.claim}</p>`);
      expect(header).to.match(
        /<div class="story">\s*<p>"A server can only take 64k connections" mixes up two things\. A TCP connection is named by four numbers:/,
      );
      const order = [
        '<h1>',
        '<p class="claim">',
        '<div class="story">',
        '<div class="overall fail">',
        '<svg class="chart across-cases"',
        '<section class="case" data-case="0">',
      ].map((marker) => dom.indexOf(marker));
      expect(
        order.every((at) => at >= 0),
        `all of the page's parts: ${order}`,
      ).to.equal(true);
      expect(order).to.deep.equal([...order].sort((a, b) => a - b));
    });

    it('names the failing case in the banner, and what failed in it', () => {
      for (const [page, name, what] of [
        [dom, 'Case 1/4: 1 client, default range', 'client-1: a spent range answers EADDRNOTAVAIL: predicted &gt;= 1, measured 0'],
        [failedDom, 'Case 2/4: 20,000 pings/s', 'client-3: every connection is still held after the hold: predicted 5,000, measured 4,990'],
      ] as const) {
        const banner = page.slice(page.indexOf('<div class="overall fail">'), page.indexOf('</header>'));
        expect(banner).to.include('FAIL: 1 case(s) did not behave as predicted');
        expect(banner).to.match(new RegExp(`<a href="#case-\\d">${name}</a>`));
        expect(banner).to.include(what);
      }
    });

    it('draws the cases side by side, every host\u2019s connections against the "64k" line', () => {
      const chart = svgs(dom, 'across-cases');
      expect(chart).to.have.length(1);
      expect(chart[0]).to.match(/<text class="reference-label"[^>]*>"64k" = 65,536<\/text>/);
      expect(chart[0]!.match(/<g class="bar-row"/g)).to.have.length(results.cases.reduce((n, c) => n + c.hosts.length, 0));
      expect(chart[0]).to.include('>112,924</text>');
      expect(svgs(failedDom, 'across-cases')[0]).to.not.include('reference-line');
    });

    it('has an established-connections chart and an errors chart for every case', () => {
      results.cases.forEach((_, i) => {
        expect(dom).to.include(`<svg class="chart estab" data-case="${i}"`);
        expect(dom).to.include(`<svg class="chart errors" data-case="${i}"`);
      });
    });

    it('draws a series per host in each case, with a path the samples made', () => {
      results.cases.forEach((c, i) => {
        const section = caseSection(i);
        for (const host of c.hosts) {
          const path = section.match(new RegExp(`<path class="series" data-host="${host.name}" d="([^"]+)"`));
          expect(path, `case ${i} ${host.name}`).to.not.equal(null);
          const samples = c.samples.filter((s) => s.host === host.name).length;
          expect(path![1]!.split(/[ML]/).filter((p) => p.trim()).length).to.equal(samples);
        }
      });
    });

    it('labels every line at its end with its host and last value', () => {
      for (const page of [dom, failedDom]) {
        for (const svg of ['estab', 'errors', 'p99'].flatMap((kind) => svgs(page, kind))) {
          const drawn = drawnSeries(svg)
            .map((s) => s.host)
            .sort();
          const labelled = [...svg.matchAll(/<g class="end-label" data-hosts="([^"]+)"/g)].flatMap((m) => m[1]!.split(' ')).sort();
          expect(labelled, svg.slice(0, 80)).to.deep.equal(drawn);
        }
      }
      expect(svgs(dom, 'estab')[2]).to.match(
        /<g class="end-label" data-hosts="client-1 client-2 client-3 client-4" data-value="28231">[\s\S]*?>client-1 to client-4: 28,231<\/text>/,
      );
    });

    it('draws no two series on top of each other without something to tell them apart', () => {
      let overlapping = 0;
      for (const page of [dom, failedDom]) {
        for (const svg of ['estab', 'errors', 'p99'].flatMap((kind) => svgs(page, kind))) {
          const series = drawnSeries(svg);
          series.forEach((a, i) =>
            series.slice(i + 1).forEach((b) => {
              if (sharedLength(a.points, b.points) < 8) return;
              overlapping++;
              expect(a.dash, `${svg.slice(0, 60)}: ${a.host} and ${b.host} share their line and are drawn alike`).to.not.equal(b.dash);
            }),
          );
        }
      }
      // The fixtures do have such series (four clients' identical counts, the server's line under its client's).
      expect(overlapping).to.be.greaterThan(10);
    });

    it('draws the predicted ceilings at their values', () => {
      for (const [i, ceilings] of [
        [0, [28231]],
        [1, [28231, 56462]],
        [2, [28231, 112924]],
        [3, [64511]],
      ] as const) {
        for (const value of ceilings) expect(caseSection(i)).to.include(`<line class="ceiling" data-value="${value}"`);
      }
      expect(caseSection(2)).to.include('predicted 112,924: server');
    });

    it('shows the verdict numbers, the failed one marked', () => {
      expect(dom).to.include('<td class="num predicted">112,924</td><td class="num measured">112,924</td><td class="verdict pass">pass</td>');
      expect(caseSection(0)).to.include('<td class="num measured">0</td><td class="verdict fail">FAIL</td>');
      expect(dom).to.include('FAIL: 1 case(s) did not behave as predicted');
      expect(dom).to.include('<dd>6.1.0-31-amd64</dd>');
    });

    function caseSection(index: number): string {
      const start = dom.indexOf(`<section class="case" data-case="${index}">`);
      expect(start, `case ${index} in the DOM`).to.be.at.least(0);
      const end = dom.indexOf('</section>', start);
      return dom.slice(start, end);
    }
  });

  describe('matrix.html', function () {
    this.timeout(120_000);
    let page: string;
    let dom: string;

    before(() => {
      const from = join(dir, 'matrix-results');
      mkdirSync(from);
      for (const file of [KERNEL_61, KERNEL_618, HOLD_PING]) copyFileSync(file, join(from, basename(file)));
      lab('matrix', '--from', from, '--out', join(dir, 'matrix'));
      page = join(dir, 'matrix', 'matrix.html');
      dom = chromium(page, '--dump-dom');
    });

    it('takes a screenshot of the page', () => screenshotIsAPage(page, 30_000));

    it('charts each scenario\u2019s time to fill and its server\u2019s connections, one bar per kernel', () => {
      expect(svgs(dom, 'fill-time')).to.have.length(2);
      expect(svgs(dom, 'server-estab')).to.have.length(2);
      const [myth] = svgs(dom, 'server-estab');
      for (const kernel of ['6.1.0-31-amd64', '6.18.44-fc-v669'])
        expect(myth!.match(new RegExp(`<g class="bar-row" data-label="${kernel}" data-value="\\d+"`, 'g'))).to.have.length(4);
      expect(myth).to.match(/<text class="reference-label"[^>]*>"64k" = 65,536<\/text>/);
      expect(myth).to.include('FAIL on some kernel');
    });
  });
});

/** Every chart of a kind in a page, as the browser serialised it. */
function svgs(page: string, kind: string): string[] {
  return [...page.matchAll(new RegExp(`<svg class="chart ${kind}"[\\s\\S]*?</svg>`, 'g'))].map((m) => m[0]);
}

interface DrawnSeries {
  host: string;
  /** Its dash pattern and offset: '' for a solid line. */
  dash: string;
  points: Array<[number, number]>;
}

function drawnSeries(svg: string): DrawnSeries[] {
  return [...svg.matchAll(/<path class="series" ([^>]*)>/g)].map((m) => {
    const attribute = (name: string) => new RegExp(` ?${name}="([^"]*)"`).exec(` ${m[1]}`)?.[1] ?? '';
    const numbers = attribute('d')
      .split(/[ML]/)
      .filter((p) => p.trim())
      .map((p) => p.trim().split(/\s+/).map(Number) as [number, number]);
    return { host: attribute('data-host'), dash: `${attribute('stroke-dasharray')}|${attribute('stroke-dashoffset')}`, points: numbers };
  });
}

/** How far (in x) two polylines run along the very same segments, to half a pixel. */
function sharedLength(a: Array<[number, number]>, b: Array<[number, number]>): number {
  const key = (p: [number, number], q: [number, number]) => [p, q].map(([x, y]) => `${Math.round(x * 2)},${Math.round(y * 2)}`).join(' ');
  const segments = new Set(b.slice(1).map((q, i) => key(b[i]!, q)));
  return a.slice(1).reduce((length, q, i) => (segments.has(key(a[i]!, q)) ? length + Math.max(q[0] - a[i]![0], 1) : length), 0);
}
