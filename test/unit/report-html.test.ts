import { expect } from 'chai';
import { renderHtml } from '../../lab/report/html.ts';
import { axisNumber, niceTicks } from '../../lab/report/svg-chart.ts';
import { HOLD_PING, KERNEL_61, KERNEL_618, loadFixture, loadHoldPingWithSlabs } from '../fixtures/results/fixtures.ts';

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

describe('report.html of a Ping/Pong hold', () => {
  const html = renderHtml(loadFixture(HOLD_PING));
  const caseSection = (page: string, i: number) => page.slice(page.indexOf(`<section class="case" data-case="${i}">`), page.indexOf('</section>', page.indexOf(`<section class="case" data-case="${i}">`)));

  it('draws a round-trip p99 chart per case, one series per client', () => {
    for (let i = 0; i < 4; i++) {
      const section = caseSection(html, i);
      expect(section).to.include(`<svg class="chart p99" data-case="${i}"`);
      expect(section).to.include('Round-trip p99 over the hold (ms), per client');
      const p99 = section.slice(section.indexOf('<svg class="chart p99"'), section.indexOf('</svg>', section.indexOf('<svg class="chart p99"')));
      for (const host of ['client-1', 'client-2', 'client-3', 'client-4']) expect(p99).to.include(`<path class="series" data-host="${host}"`);
      expect(p99).to.not.include('data-host="server"');
    }
  });

  it('tables each client\u2019s percentiles, rate, asked rate and timeouts', () => {
    const second = caseSection(html, 1);
    expect(second).to.include('<th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">p99.9</th><th class="num">max</th><th class="num">pings/s</th><th class="num">asked</th><th class="num">timeouts</th>');
    expect(second).to.include('<tr data-host="client-1"><td>client-1</td><td class="num">4.6 ms</td><td class="num">37 ms</td><td class="num">82 ms</td><td class="num">102 ms</td><td class="num">107 ms</td><td class="num">4,999</td><td class="num">5,000</td><td class="num">0</td></tr>');
    // No Pong came back to client-1 in the last case: its percentiles are not measurements.
    expect(caseSection(html, 3)).to.include('<tr data-host="client-1"><td>client-1</td><td class="num">-</td><td class="num">-</td><td class="num">-</td><td class="num">-</td><td class="num">-</td><td class="num">0</td><td class="num">25,000</td><td class="num">25,000</td></tr>');
  });

  it('says where the cases stopped keeping up', () => {
    expect(html).to.include('<p class="knee">knee: every Pong in time up to 20,000 pings/s (case &#39;20,000 pings/s&#39;, p99 82 ms); at 40,000 pings/s 37,674 timeouts</p>');
  });

  it('shows none of it for a run without Ping/Pong or slab figures', () => {
    const plain = renderHtml(loadFixture(KERNEL_618));
    expect(plain).to.not.match(/chart p99|chart slab|class="knee"|class="round-trips"|class="slab"/);
  });

  it('tables slab growth per connection with its total, and bars it against the prediction', () => {
    const page = renderHtml(loadHoldPingWithSlabs());
    const first = caseSection(page, 0);
    expect(first).to.include('<tr data-cache="TCP"><td>TCP</td><td class="num">2,368</td><td class="num">2.0</td><td class="num">2.0</td><td class="num">4,736</td><td class="num">4,736</td></tr>');
    expect(first).to.include('<tr data-cache="dentry"><td>dentry</td><td class="num">192</td><td class="num">2.1</td><td class="num">2.0</td><td class="num">403</td><td class="num">384</td></tr>');
    expect(first).to.include('<tr class="total"><td>total</td><td class="num"></td><td class="num"></td><td class="num"></td><td class="num">7,059</td><td class="num">7,040</td></tr>');
    expect(first).to.include('<svg class="chart slab" data-case="0"');
    const bars = [...first.matchAll(/<g class="bar-row" data-label="([^"]+)" data-value="([^"]+)" data-mark="([^"]+)">/g)].map((m) => m.slice(1));
    expect(bars).to.deep.equal([['TCP', '4736', '4736'], ['sock_inode_cache', '1664', '1664'], ['nf_conntrack', '256', '256'], ['dentry', '403', '384']]);
    expect(first).to.include('<p class="scale">kernel memory per connection end, from each host&#39;s own memory cgroup (memory.stat): server end 4,160 B, client end 3,904 B, socket buffers server end 0 B, client end 512 B</p>');
    expect(caseSection(page, 1)).to.not.include('chart slab');
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
