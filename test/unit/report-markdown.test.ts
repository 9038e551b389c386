import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { InputError } from '../../lab/errors.ts';
import { renderMarkdown } from '../../lab/report/markdown.ts';
import { readResults } from '../../lab/report/read.ts';
import { kneeLine } from '../../lab/report/facts.ts';
import { renderResults } from '../../lab/report/table.ts';
import { HOLD_PING, KERNEL_61, KERNEL_618, NOT_RESULTS, loadFixture, loadHoldPingWithSlabs } from '../fixtures/results/fixtures.ts';

describe('summary.md', () => {
  const markdown = renderMarkdown(loadFixture(KERNEL_618));

  it('opens with the scenario and its claim, then the environment', () => {
    expect(markdown.split('\n')[0]).to.equal('# 64k-myth: The ephemeral-port limit is per (client IP, server IP, server port), not per server.');
    for (const fact of [
      '**kernel**: 6.18.44-fc-v669',
      '**engine**: Docker 20.10.24+dfsg1',
      '**lab**: 0.1.0',
      '**images**: server lab-server:',
      '**open files per process up to**: 20,000',
      '**mode**: full',
      '**run**: mwx5pbtc621a',
      '**started**: 2026-11-26T',
    ]) {
      expect(markdown).to.include(fact);
    }
  });

  it('puts the scenario\u2019s story, paragraph by paragraph, between the heading and the environment', () => {
    const withStory = renderMarkdown(loadFixture(KERNEL_618), { story: 'One IP\nholds 28k.\n\nFour hold more.' });
    expect(withStory).to.match(/^# 64k-myth: [^\n]+\n\nOne IP holds 28k\.\n\nFour hold more\.\n\n## Environment\n/);
    expect(markdown).to.match(/^# 64k-myth: [^\n]+\n\n## Environment\n/);
  });

  it('gives each case its verdict, its about text and a table of predicted against measured', () => {
    expect(markdown).to.include('## Case 3/4: 4 clients, default range: PASS');
    expect(markdown).to.include('Four client IPs: the server holds about 113k connections');
    expect(markdown).to.include('| expectation | host | predicted | measured | verdict |');
    expect(markdown).to.include('| the server, on one IP and one port, holds the sum over its clients | server | 112,924 | 112,924 | pass |');
    expect(markdown).to.include('| a spent range answers EADDRNOTAVAIL | client-4 | >= 1 | 1 | pass |');
  });

  it('says the theory, the hosts with their errors and sysctls read back, and the phase timings', () => {
    expect(markdown).to.include('- theory: 28232 ports in 32768-60999 - 1 held by a bound socket');
    expect(markdown).to.include('| host | role | ip | estab | timewait | errors | ip_local_port_range |');
    expect(markdown).to.match(/\| client-1 \| client \| 198\.18\.0\.11 \| 64,511 \| 0 \| EADDRNOTAVAIL x1 \| 1024 65535 \|/);
    expect(markdown).to.match(/Phases: hosts \d+\.\d s, server \d+\.\d s, .*flood \d+\.\d s/);
  });

  it('ends with the overall verdict, and marks a failed expectation', () => {
    expect(markdown.trimEnd().split('\n').at(-1)).to.equal('**PASS: every expectation held in 4 of 4 cases**');
    const failed = renderMarkdown(loadFixture(KERNEL_61));
    expect(failed).to.include('## Case 1/4: 1 client, default range: FAIL');
    expect(failed).to.include('| a spent range answers EADDRNOTAVAIL | client-1 | >= 1 | 0 | **FAIL** |');
    expect(failed).to.include('**FAIL: 1 case(s) did not behave as predicted**');
  });

  it('keeps a pipe or a newline in a claim from breaking its table row', () => {
    const results = loadFixture(KERNEL_618);
    results.cases[0]!.expectations[0]!.claim = 'ports | range\nsecond line';
    expect(renderMarkdown(results)).to.include('| ports \\| range second line | client-1 |');
  });

  it('shows an expectation without a verdict (its host lost) and the lost host', () => {
    const results = loadFixture(KERNEL_618);
    Object.assign(results.cases[0]!.expectations[0]!, { invalid: 'client-1 was lost', pass: false });
    results.cases[0]!.hosts[1]!.lost = true;
    const markdown = renderMarkdown(results);
    expect(markdown).to.include('| client-1 | 28,231 | - | **INVALID: client-1 was lost** |');
    expect(markdown).to.include('| client-1 | client | 198.18.0.11 | - | - | LOST mid-run');
  });
});

describe('summary.md and the terminal of a Ping/Pong hold', () => {
  const markdown = renderMarkdown(loadFixture(HOLD_PING));
  const terminal = renderResults(loadFixture(HOLD_PING));

  it('gives each client\u2019s pings against asked, timeouts and round-trip percentiles, the same words in both', () => {
    const ok =
      'client-1 pinged every 1,000 ms: 4,999 of 5,000 pings/s asked, 0 timeouts; round trip p50 4.6 ms, p90 37 ms, p99 82 ms, p99.9 102 ms, max 107 ms';
    const behind =
      'client-4 pinged every 1,000 ms: 1,058 of 10,000 pings/s asked, 9,549 timeouts; round trip p50 475 ms, p90 950 ms, p99 1,000 ms, p99.9 1,000 ms, max 1,000 ms';
    for (const line of [ok, behind]) {
      expect(markdown).to.include(`- ${line}\n`);
      expect(terminal).to.include(`  ${line}\n`);
    }
    expect(markdown).to.include('- client-1 pinged every 1,000 ms: 0 of 25,000 pings/s asked, 25,000 timeouts; no Pong came back');
  });

  it('names the knee: 20,000 pings/s kept up, 40,000 did not', () => {
    const knee = "knee: every Pong in time up to 20,000 pings/s (case '20,000 pings/s', p99 82 ms); at 40,000 pings/s 37,674 timeouts";
    expect(markdown).to.include(`## Across cases\n\nK${knee.slice(1)}.\n\n## Verdict`);
    expect(terminal).to.include(`\n${knee}\n`);
  });

  it('says no case fell behind when every case kept up, and names no knee without Ping/Pong figures', () => {
    const results = loadFixture(HOLD_PING);
    results.cases = results.cases.slice(0, 2);
    expect(kneeLine(results)).to.equal("knee: every Pong in time up to 20,000 pings/s (case '20,000 pings/s', p99 82 ms); no case fell behind");
    expect(kneeLine(loadFixture(KERNEL_618))).to.equal(undefined);
    expect(renderMarkdown(loadFixture(KERNEL_618))).to.not.include('Across cases');
  });

  it("says when the hold began against the server's accepts, in both", () => {
    const results = loadFixture(HOLD_PING);
    results.cases[0]!.holdStart = { waitedSeconds: 2.3, serverAccepted: 5000, clientsHeld: 5000 };
    results.cases[1]!.holdStart = { waitedSeconds: 3.1, serverAccepted: 9000, clientsHeld: 10000 };
    const [md, terminal] = [renderMarkdown(results), renderResults(results)];
    const all = "the hold began 2.3 s after the clients filled, once the server's program had accepted all 5,000";
    const stalled =
      "the hold began 3.1 s after the clients filled, with the server's program at 9,000 accepted of the 10,000 the clients held (it had stopped accepting)";
    expect(md).to.include(`T${all.slice(1)}.`);
    expect(terminal).to.include(`  ${all}\n`);
    expect(terminal).to.include(stalled);
    expect(renderMarkdown(loadFixture(HOLD_PING))).to.not.include('the hold began');
  });

  it('gives kernel memory per connection end and tables slab growth with its total', () => {
    const md = renderMarkdown(loadHoldPingWithSlabs());
    expect(md).to.include(
      "Kernel memory per connection end, from each host's own memory cgroup (memory.stat): server end 4,160 B, client end 3,904 B, socket buffers server end 0 B, client end 512 B.",
    );
    expect(md).to.include(
      [
        '| slab cache | object size (B) | objects per connection | predicted objects | bytes per connection | predicted bytes |',
        '| --- | ---: | ---: | ---: | ---: | ---: |',
        '| TCP | 2,368 | 2.0 | 2.0 | 4,736 | 4,736 |',
        '| sock_inode_cache | 832 | 2.0 | 2.0 | 1,664 | 1,664 |',
        '| nf_conntrack | 256 | 1.0 | 1.0 | 256 | 256 |',
        '| dentry | 192 | 2.1 | 2.0 | 403 | 384 |',
        '| total |   |   |   | 7,059 | 7,040 |',
      ].join('\n'),
    );
    expect(md.match(/\| slab cache \|/g)).to.have.length(1);
  });
});

describe('reading a results file back', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'lab-read-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('turns an open-ended prediction (written as null) back into Infinity', async () => {
    const results = await readResults(KERNEL_618);
    const open = results.cases[0]!.expectations.find((e) => e.metric === 'errors.EADDRNOTAVAIL')!;
    expect(open.predicted.max).to.equal(Infinity);
  });

  const refusals: Array<[string, () => string, RegExp]> = [
    ['a missing file', () => join(dir, 'nope.json'), /nope\.json: no such results file/],
    ['a file that is not JSON', () => write('broken.json', '{"schema": '), /broken\.json: not a lab results document: not JSON/],
    [
      'JSON without a schema',
      () => NOT_RESULTS,
      /not-results\.json: schema: not a lab results document: no schema field, expected "lab\.results\/1"/,
    ],
    ['another schema', () => write('other.json', '{"schema": "lab.results/0", "cases": []}'), /other\.json: schema: .*schema is "lab\.results\/0"/],
    ['a JSON array', () => write('array.json', '[1, 2]'), /array\.json: not a lab results document: not a JSON object/],
  ];
  for (const [what, file, message] of refusals) {
    it(`refuses ${what} with an InputError naming the file`, async () => {
      const error = await readResults(file()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(InputError);
      expect((error as Error).message).to.match(message);
    });
  }

  function write(name: string, text: string): string {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  }
});
