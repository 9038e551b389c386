import { expect } from 'chai';
import { buildMatrix } from '../../lab/report/matrix.ts';
import { matrixHtml } from '../../lab/report/matrix-html.ts';
import { matrixMarkdown } from '../../lab/report/matrix-markdown.ts';
import { HOLD_PING, KERNEL_61, KERNEL_618, loadFixture } from '../fixtures/results/fixtures.ts';

describe('the kernel matrix', () => {
  const matrix = buildMatrix([KERNEL_61, KERNEL_618, HOLD_PING].map((file) => ({ file, results: loadFixture(file) })));
  const html = matrixHtml(matrix);
  /** The chart of this kind whose title names the scenario. */
  const chart = (kind: string, scenario: string) => {
    const found = [...html.matchAll(new RegExp(`<svg class="chart ${kind}"[^>]*aria-label="${scenario}:[\\s\\S]*?</svg>`, 'g'))];
    expect(found, `${kind} chart of ${scenario}`).to.have.length(1);
    return found[0]![0];
  };
  const bars = (svg: string) =>
    [...svg.matchAll(/<g class="bar-row" data-label="([^"]+)"(?: data-value="([^"]+)")?/g)].map((m) => `${m[1]} ${m[2] ?? '-'}`);

  it('charts each scenario\u2019s time to fill per case, one bar per kernel that ran it', () => {
    expect(html.match(/<svg class="chart fill-time"/g)).to.have.length(2);
    const myth = chart('fill-time', '64k-myth');
    expect(myth).to.include('64k-myth: time to fill per case (flood phase), per kernel');
    expect(bars(myth)).to.have.length(8);
    const seconds = (file: string) => loadFixture(file).cases[0]!.phases.flood! / 1000;
    expect(bars(myth).slice(0, 2)).to.deep.equal([`6.1.0-31-amd64 ${seconds(KERNEL_61)}`, `6.18.44-fc-v669 ${seconds(KERNEL_618)}`]);
    expect(myth).to.include('>7.4 s</text>');
    expect(bars(chart('fill-time', 'hold-ping'))).to.have.length(4);
  });

  it('charts the server\u2019s connections per case and kernel against the prediction, with the "64k" line', () => {
    const myth = chart('server-estab', '64k-myth');
    expect(bars(myth)).to.deep.equal([
      '6.1.0-31-amd64 28231',
      '6.18.44-fc-v669 28231',
      '6.1.0-31-amd64 56462',
      '6.18.44-fc-v669 56462',
      '6.1.0-31-amd64 112924',
      '6.18.44-fc-v669 112924',
      '6.1.0-31-amd64 64511',
      '6.18.44-fc-v669 64511',
    ]);
    expect(myth).to.include('data-band-min="112924" data-band-max="112924"');
    expect(myth).to.include('<g class="reference-line" data-value="65536">');
    expect(myth).to.include('<g class="bar-group" data-group="1 client, default range" data-flag="FAIL on some kernel">');
    expect(chart('server-estab', 'hold-ping')).to.not.include('reference-line');
  });

  it('keeps the charts out of matrix.md, and writes figures with separators in both', () => {
    const markdown = matrixMarkdown(matrix);
    expect(markdown).to.not.include('<svg');
    expect(markdown).to.include('| 28,231 pass | 28,231 pass |');
    expect(html).to.include('<td>28,231 pass</td>');
  });

  it('has no section on the cost of one connect() when no client timed it', () => {
    expect(matrixMarkdown(matrix)).to.not.include('The cost of one connect()');
    expect(html).to.not.include('The cost of one connect()');
    expect(html).to.not.include('chart connect-cost');
  });
});
