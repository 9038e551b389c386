import { expect } from 'chai';
import { renderHtml } from '../../lab/report/html.ts';
import { axisNumber, niceTicks } from '../../lab/report/svg-chart.ts';
import { KERNEL_61, KERNEL_618, loadFixture } from '../fixtures/results/fixtures.ts';

describe('report.html', () => {
  const html = renderHtml(loadFixture(KERNEL_618));

  it('is one page that needs no network: no script, no link, no URL, and a policy that loads nothing', () => {
    expect(html).to.match(/^<!doctype html>/);
    expect(html).to.not.match(/<script|<link|<img|@import|url\(|https?:\/\//i);
    expect(html).to.include(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('draws an established-connections chart and an errors chart per case, one series per host', () => {
    for (let i = 0; i < 4; i++) {
      expect(html).to.include(`<svg class="chart estab" data-case="${i}"`);
      expect(html).to.include(`<svg class="chart errors" data-case="${i}"`);
    }
    const fourClients = html.slice(html.indexOf('<section class="case" data-case="2">'), html.indexOf('<section class="case" data-case="3">'));
    for (const host of ['server', 'client-1', 'client-2', 'client-3', 'client-4']) {
      expect(fourClients.match(new RegExp(`<path class="series" data-host="${host}" d="M`, 'g'))).to.have.length(2);
    }
  });

  it('draws each predicted ceiling as a dashed line at its value, labelled with its hosts', () => {
    const fourClients = html.slice(html.indexOf('data-case="2"'), html.indexOf('data-case="3"'));
    expect(fourClients).to.include('<line class="ceiling" data-value="28231"');
    expect(fourClients).to.include('<line class="ceiling" data-value="112924"');
    expect(fourClients).to.include('28,231: client-1 to client-4');
    expect(fourClients).to.include('112,924: server');
    // An open-ended prediction (>= 1 EADDRNOTAVAIL) has no line.
    expect(html).to.not.include('data-value="Infinity"');
  });

  it('labels axes with readable numbers and time in seconds', () => {
    expect(html).to.match(/>100k<\/text>/);
    expect(html).to.match(/>120 s<\/text>/);
  });

  it('shows the verdict table with pass and FAIL told apart, and the environment', () => {
    const failed = renderHtml(loadFixture(KERNEL_61));
    expect(failed).to.include('<td class="num measured">0</td><td class="verdict fail">FAIL</td>');
    expect(failed).to.include('<p class="overall fail">FAIL: 1 case(s) did not behave as predicted</p>');
    expect(html).to.include('<td class="num predicted">112924</td><td class="num measured">112924</td><td class="verdict pass">pass</td>');
    expect(html).to.include('<dt>kernel</dt><dd>6.18.44-fc-v669</dd>');
  });

  it('escapes every string from the results file', () => {
    const results = loadFixture(KERNEL_618);
    results.claim = '<script>alert(1)</script>';
    results.cases[0]!.name = '"><img src=x onerror=alert(1)>';
    results.cases[0]!.hosts[1]!.name = 'client-1"><b>';
    results.cases[0]!.samples.forEach((s) => s.host === 'client-1' && (s.host = 'client-1"><b>'));
    const page = renderHtml(results);
    expect(page).to.not.include('<script>alert');
    expect(page).to.not.include('<img src=x');
    expect(page).to.not.include('client-1"><b>');
    expect(page).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).to.include('data-host="client-1&quot;&gt;&lt;b&gt;"');
  });

  it('says so when a case took no samples', () => {
    const results = loadFixture(KERNEL_618);
    results.cases[0]!.samples = [];
    expect(renderHtml(results)).to.include('no samples were taken in this case');
  });
});

describe('chart axes', () => {
  it('picks ticks of 1, 2 or 5 times a power of ten, up to the first at or above the maximum', () => {
    expect(niceTicks(112924, 5, true)).to.deep.equal([0, 50000, 100000, 150000]);
    expect(niceTicks(1, 5, true)).to.deep.equal([0, 1]);
    expect(niceTicks(1.001, 8, false)).to.deep.equal([0, 0.2, 0.4, 0.6, 0.8, 1, 1.2]);
  });

  it('writes round thousands as k and other numbers with separators', () => {
    expect(axisNumber(150000)).to.equal('150k');
    expect(axisNumber(28231)).to.equal('28,231');
    expect(axisNumber(1500)).to.equal('1,500');
    expect(axisNumber(0.2)).to.equal('0.2');
  });
});
