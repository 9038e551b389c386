/** report.html in a real headless Chromium: it renders offline, and the charts and verdicts are in its DOM. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { renderHtml } from '../../lab/report/html.ts';
import { KERNEL_61, loadFixture } from '../fixtures/results/fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('report.html in headless Chromium', function () {
  this.timeout(120_000);
  let dir: string;
  let page: string;
  let dom: string;
  const results = loadFixture(KERNEL_61);

  /** Every run gets a fresh profile and no network services: the page must stand on its own. */
  function chromium(...args: string[]): string {
    const profile = mkdtempSync(join(dir, 'profile-'));
    const run = spawnSync(
      CHROMIUM,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, ...args, pathToFileURL(page).href],
      { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
    );
    if (run.status !== 0) throw new Error(`chromium exited ${run.status} (${run.signal ?? 'no signal'}): ${run.stderr.slice(-2000)}`);
    return run.stdout;
  }

  before(function () {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get update && apt-get install -y chromium); .ci/run does`);
    }
    dir = mkdtempSync(join(tmpdir(), 'lab-browser-'));
    page = join(dir, 'report.html');
    writeFileSync(page, renderHtml(results));
    dom = chromium('--dump-dom');
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('takes a screenshot of the page', () => {
    const png = join(dir, 'report.png');
    chromium(`--screenshot=${png}`, '--window-size=1280,2000');
    expect(existsSync(png), 'no screenshot written').to.equal(true);
    expect(readFileSync(png).subarray(0, 8).equals(PNG_SIGNATURE), 'not a PNG').to.equal(true);
    // A blank 1280x2000 page compresses to a few kilobytes; charts and tables make far more.
    expect(statSync(png).size).to.be.greaterThan(50_000);
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

  it('draws the predicted ceilings at their values', () => {
    for (const [i, ceilings] of [[0, [28231]], [1, [28231, 56462]], [2, [28231, 112924]], [3, [64511]]] as const) {
      for (const value of ceilings) expect(caseSection(i)).to.include(`<line class="ceiling" data-value="${value}"`);
    }
    expect(caseSection(2)).to.include('112,924: server');
  });

  it('shows the verdict numbers, the failed one marked', () => {
    expect(dom).to.include('<td class="num predicted">112924</td><td class="num measured">112924</td><td class="verdict pass">pass</td>');
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
