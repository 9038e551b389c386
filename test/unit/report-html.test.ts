import { expect } from 'chai';
import { renderHtml } from '../../lab/report/html.ts';
import { seriesStrokes, shareAStretch, stretchesApart, type PixelPoint } from '../../lab/report/series-overlap.ts';
import { storyParagraphs } from '../../lab/report/story.ts';
import { axisNumber, niceTicks, spreadLabels } from '../../lab/report/svg-chart.ts';
import { HOLD_PING, HOLD_PING_FAILED, KERNEL_61, KERNEL_618, loadFixture, loadHoldPingWithSlabs } from '../fixtures/results/fixtures.ts';

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
    expect(html).to.match(/>100,000<\/text>/);
    expect(html).to.match(/>120 s<\/text>/);
  });

  it('shows the verdict table with pass and FAIL told apart, and the environment', () => {
    const failed = renderHtml(loadFixture(KERNEL_61));
    expect(failed).to.include('<td class="num measured">0</td><td class="verdict fail">FAIL</td>');
    expect(failed).to.include('<div class="overall fail">\n<p class="overall-verdict">FAIL: 1 case(s) did not behave as predicted</p>');
    expect(html).to.include('<td class="num predicted">112,924</td><td class="num measured">112,924</td><td class="verdict pass">pass</td>');
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
  const caseSection = (page: string, i: number) =>
    page.slice(
      page.indexOf(`<section class="case" data-case="${i}">`),
      page.indexOf('</section>', page.indexOf(`<section class="case" data-case="${i}">`)),
    );

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
    expect(second).to.include(
      '<th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">p99.9</th><th class="num">max</th><th class="num">pings/s</th><th class="num">asked</th><th class="num">timeouts</th>',
    );
    expect(second).to.include(
      '<tr data-host="client-1"><td>client-1</td><td class="num">4.6 ms</td><td class="num">37 ms</td><td class="num">82 ms</td><td class="num">102 ms</td><td class="num">107 ms</td><td class="num">4,999</td><td class="num">5,000</td><td class="num">0</td></tr>',
    );
    // No Pong came back to client-1 in the last case: its percentiles are not measurements.
    expect(caseSection(html, 3)).to.include(
      '<tr data-host="client-1"><td>client-1</td><td class="num">-</td><td class="num">-</td><td class="num">-</td><td class="num">-</td><td class="num">-</td><td class="num">0</td><td class="num">25,000</td><td class="num">25,000</td></tr>',
    );
  });

  it('says where the cases stopped keeping up', () => {
    expect(html).to.include(
      '<p class="knee">knee: every Pong in time up to 20,000 pings/s (case &#39;20,000 pings/s&#39;, p99 82 ms); at 40,000 pings/s 37,674 timeouts</p>',
    );
  });

  it('shows none of it for a run without Ping/Pong or slab figures', () => {
    const plain = renderHtml(loadFixture(KERNEL_618));
    expect(plain).to.not.match(/chart p99|chart slab|class="knee"|class="round-trips"|class="slab"/);
  });

  it('tables slab growth per connection with its total, and bars it against the prediction', () => {
    const page = renderHtml(loadHoldPingWithSlabs());
    const first = caseSection(page, 0);
    expect(first).to.include(
      '<tr data-cache="TCP"><td>TCP</td><td class="num">2,368</td><td class="num">2.0</td><td class="num">2.0</td><td class="num">4,736</td><td class="num">4,736</td></tr>',
    );
    expect(first).to.include(
      '<tr data-cache="dentry"><td>dentry</td><td class="num">192</td><td class="num">2.1</td><td class="num">2.0</td><td class="num">403</td><td class="num">384</td></tr>',
    );
    expect(first).to.include(
      '<tr class="total"><td>total</td><td class="num"></td><td class="num"></td><td class="num"></td><td class="num">7,059</td><td class="num">7,040</td></tr>',
    );
    expect(first).to.include('<svg class="chart slab" data-case="0"');
    const bars = [...first.matchAll(/<g class="bar-row" data-label="([^"]+)" data-value="([^"]+)" data-mark="([^"]+)">/g)].map((m) => m.slice(1));
    expect(bars).to.deep.equal([
      ['TCP', '4736', '4736'],
      ['sock_inode_cache', '1664', '1664'],
      ['nf_conntrack', '256', '256'],
      ['dentry', '403', '384'],
    ]);
    expect(first).to.include(
      '<p class="scale">kernel memory per connection end, from each host&#39;s own memory cgroup (memory.stat): server end 4,160 B, client end 3,904 B, socket buffers server end 0 B, client end 512 B</p>',
    );
    expect(caseSection(page, 1)).to.not.include('chart slab');
  });
});

describe('chart axes', () => {
  it('picks ticks of 1, 2 or 5 times a power of ten, up to the first at or above the maximum', () => {
    expect(niceTicks(112924, 5, true)).to.deep.equal([0, 50000, 100000, 150000]);
    expect(niceTicks(1, 5, true)).to.deep.equal([0, 1]);
    expect(niceTicks(1.001, 8, false)).to.deep.equal([0, 0.2, 0.4, 0.6, 0.8, 1, 1.2]);
  });

  it('writes numbers with separators, as the tables do', () => {
    expect(axisNumber(150000)).to.equal('150,000');
    expect(axisNumber(28231)).to.equal('28,231');
    expect(axisNumber(1500)).to.equal('1,500');
    expect(axisNumber(0.2)).to.equal('0.2');
  });
});

describe('report.html tells the story', () => {
  const failedRun = loadFixture(HOLD_PING_FAILED);
  const story =
    '"A server can only take 64k connections" mixes up two things.\nA TCP connection is named by four numbers.\n\nThe server side has no such limit.';

  it('opens with the claim, then the story (its paragraphs joined back from the file\u2019s wrapped lines), then the verdict', () => {
    const page = renderHtml(loadFixture(KERNEL_618), { story });
    const at = (text: string) => page.indexOf(text);
    expect(page).to.include(
      '<div class="story">\n<p>&quot;A server can only take 64k connections&quot; mixes up two things. A TCP connection is named by four numbers.</p>\n<p>The server side has no such limit.</p>\n</div>',
    );
    expect(at('<p class="claim">')).to.be.lessThan(at('<div class="story">'));
    expect(at('<div class="story">')).to.be.lessThan(at('<div class="overall pass">'));
    expect(at('<div class="overall pass">')).to.be.lessThan(at('<section class="across-cases">'));
    expect(at('<section class="across-cases">')).to.be.lessThan(at('<section class="environment">'));
  });

  it('shows the claim alone when there is no story', () => {
    expect(renderHtml(loadFixture(KERNEL_618))).to.not.include('class="story"');
  });

  it('joins a story\u2019s wrapped lines into paragraphs', () => {
    expect(storyParagraphs('one\ntwo  \n\n\n  three\n')).to.deep.equal(['one two', 'three']);
  });

  it('names each failed case in the banner, linked to its section, with what failed in it', () => {
    const page = renderHtml(failedRun);
    const banner = page.slice(page.indexOf('<div class="overall fail">'), page.indexOf('</div>', page.indexOf('<div class="overall fail">')));
    expect(banner).to.include('<p class="overall-verdict">FAIL: 1 case(s) did not behave as predicted</p>');
    expect(banner).to.include(
      '<li class="failed-case" data-case="1"><a href="#case-2">Case 2/4: 20,000 pings/s</a><ul><li>client-3: every connection is still held after the hold: predicted 5,000, measured 4,990</li></ul></li>',
    );
    expect(page).to.include('<h2 id="case-2">Case 2/4: 20,000 pings/s <span class="verdict fail">FAIL</span></h2>');
    expect(renderHtml(loadFixture(HOLD_PING))).to.not.include('<ul class="failed-cases">');
  });
});

describe('report.html across cases', () => {
  const myth = renderHtml(loadFixture(KERNEL_61));
  const chartOf = (page: string) =>
    page.slice(page.indexOf('<svg class="chart across-cases"'), page.indexOf('</svg>', page.indexOf('<svg class="chart across-cases"')));

  it('bars every host\u2019s connections per case, with its predicted value, the failed case flagged', () => {
    const chart = chartOf(myth);
    const rows = [...chart.matchAll(/<g class="bar-row" data-label="([^"]+)" data-value="(\d+)" data-band-min="(\d+)" data-band-max="(\d+)">/g)].map(
      (m) => m.slice(1).join(' '),
    );
    expect(rows).to.deep.equal([
      'server 28231 28231 28231',
      'client-1 28231 28231 28231',
      'server 56462 56462 56462',
      'client-1 28231 28231 28231',
      'client-2 28231 28231 28231',
      'server 112924 112924 112924',
      'client-1 28231 28231 28231',
      'client-2 28231 28231 28231',
      'client-3 28231 28231 28231',
      'client-4 28231 28231 28231',
      'server 64511 64511 64511',
      'client-1 64511 64511 64511',
    ]);
    expect(chart).to.include('<g class="bar-group" data-group="Case 1/4: 1 client, default range" data-flag="FAIL">');
    expect(chart).to.include('<g class="bar-group" data-group="Case 2/4: 2 clients, default range">');
    expect(chart).to.include('>112,924</text>');
  });

  it('draws the "64k" line at 65,536 when a server held more than one client IP can, or the claim says 64k', () => {
    expect(chartOf(myth)).to.include('<g class="reference-line" data-value="65536">');
    expect(chartOf(myth)).to.include('<text class="reference-label" x="');
    expect(chartOf(myth)).to.include('&quot;64k&quot; = 65,536</text>');
    const holdPing = loadFixture(HOLD_PING);
    expect(chartOf(renderHtml(holdPing))).to.not.include('reference-line');
    holdPing.claim = 'Past 64k connections, holding still costs nothing';
    expect(chartOf(renderHtml(holdPing))).to.include('<g class="reference-line" data-value="65536">');
  });

  it('writes a bar\u2019s value in red with its prediction when it missed it', () => {
    const chart = chartOf(renderHtml(loadFixture(HOLD_PING_FAILED)));
    expect(chart).to.match(/<text class="bar-value outside" [^>]*>4,990 \(predicted 5,000\)<\/text>/);
    expect(chart.match(/bar-value outside/g)).to.have.length(1);
  });

  it('bars a host without a prediction plainly, and says a lost host has no figures', () => {
    const results = loadFixture(HOLD_PING);
    results.cases[2]!.hosts[1]!.lost = true;
    const chart = chartOf(renderHtml(results));
    expect(chart).to.match(/<g class="bar-row" data-label="server" data-value="2326">/);
    expect(chart).to.match(
      /<g class="bar-row" data-label="client-1"><text [^>]+>client-1<\/text><text class="missing"[^>]*>lost mid-run: no figures<\/text><\/g>/,
    );
  });
});

describe('report.html line charts', () => {
  const html = renderHtml(loadFixture(KERNEL_618));
  const charts = (kind: string) => [...html.matchAll(new RegExp(`<svg class="chart ${kind}"[\\s\\S]*?</svg>`, 'g'))].map((m) => m[0]);

  it('labels every series at its end, one label for series that end on the same value', () => {
    const [oneClient, , fourClients] = charts('estab');
    expect(oneClient).to.include('<g class="end-label" data-hosts="server client-1" data-value="28231">');
    expect(oneClient).to.include('>server, client-1: 28,231</text>');
    expect(fourClients).to.include('<g class="end-label" data-hosts="server" data-value="112924">');
    expect(fourClients).to.include('<g class="end-label" data-hosts="client-1 client-2 client-3 client-4" data-value="28231">');
    expect(fourClients).to.include('>client-1 to client-4: 28,231</text>');
  });

  it('dashes series that run on top of each other, each in its own slot, so that every colour shows', () => {
    const fourClients = charts('estab')[2]!;
    const dashes = [
      ...fourClients.matchAll(
        /<path class="series" data-host="([^"]+)"[^>]*?(?: data-overlap="([^"]+)" stroke-dasharray="([^"]+)" stroke-dashoffset="([^"]+)")?\/>/g,
      ),
    ].map((m) => m.slice(1).join(' ').trim());
    // The server runs apart; client-1 is drawn first of the four (solid), the other three in their slots.
    expect(dashes).to.deep.equal(['server', 'client-1', 'client-2 2/4 8 24 24', 'client-3 3/4 8 24 16', 'client-4 4/4 8 24 8']);
  });

  it('makes a chart of a few small counts short, and keeps a chart of large ones full height', () => {
    const height = (svg: string) => Number(/ height="(\d+)"/.exec(svg)![1]);
    expect(height(charts('errors')[0]!)).to.equal(134);
    expect(height(charts('estab')[0]!)).to.equal(300);
  });

  it('writes every figure the same way, with thousands separators', () => {
    // Table figures and chart text; a case's name ("range 1024-65535") is the scenario's words, not a figure.
    const figures = [...html.matchAll(/<td class="num[^"]*">([^<]*)<\/td>|<text(?! class="group-label")[^>]*>([^<]*)<\/text>/g)].map(
      (m) => m[1] ?? m[2]!,
    );
    expect(figures.filter((f) => /\d{4}/.test(f))).to.deep.equal([]);
    expect(figures).to.include.members(['112,924', '28,231', 'server, client-1: 28,231']);
  });
});

describe('series that would hide each other', () => {
  const flat = (y: number, from = 0, to = 100): PixelPoint[] => [
    { x: from, y },
    { x: to, y },
  ];

  it('finds lines that run together for a stretch, and not lines apart or only crossing', () => {
    expect(shareAStretch(flat(10), flat(10.5))).to.equal(true);
    expect(shareAStretch(flat(10), flat(14))).to.equal(false);
    expect(
      shareAStretch(
        [
          { x: 0, y: 0 },
          { x: 100, y: 100 },
        ],
        [
          { x: 0, y: 100 },
          { x: 100, y: 0 },
        ],
      ),
    ).to.equal(false);
    expect(shareAStretch(flat(10, 0, 50), flat(10, 60, 100))).to.equal(false);
  });

  it('leaves the first of a group solid and dashes the others in turn; a series alone stays solid', () => {
    const strokes = seriesStrokes([flat(10), flat(10), flat(10), flat(50)]);
    expect(strokes.map((s) => [s.slot, s.groupSize, s.dashArray, s.dashOffset])).to.deep.equal([
      [0, 3, undefined, undefined],
      [1, 3, '8 16', 16],
      [2, 3, '8 16', 8],
      [0, 1, undefined, undefined],
    ]);
  });

  it('draws a dashed series solid where it runs apart from the rest of its group', () => {
    const together = [
      { x: 0, y: 10 },
      { x: 50, y: 10 },
      { x: 100, y: 60 },
    ];
    expect(stretchesApart(together, [flat(10)])).to.deep.equal([
      [
        { x: 50, y: 10 },
        { x: 100, y: 60 },
      ],
    ]);
  });

  it('pushes labels apart, and back up when they would run off the bottom', () => {
    expect(spreadLabels([10, 12, 40], 14, 0, 100)).to.deep.equal([10, 24, 40]);
    expect(spreadLabels([98, 99, 100], 14, 0, 100)).to.deep.equal([72, 86, 100]);
  });
});
