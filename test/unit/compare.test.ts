import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { compareRuns, comparisonMarkdown, renderComparison } from '../../lab/report/compare.ts';
import { KERNEL_61, KERNEL_618, NOT_RESULTS, loadFixture } from '../fixtures/results/fixtures.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

function lab(args: string[]) {
  return spawnSync(process.execPath, ['bin/lab.js', ...args], { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 });
}

describe('comparing runs', () => {
  const runs = [
    { file: KERNEL_61, results: loadFixture(KERNEL_61) },
    { file: KERNEL_618, results: loadFixture(KERNEL_618) },
  ];
  const comparison = compareRuns(runs);

  it("heads each run's column with its kernel release", () => {
    expect(comparison.runs.map((r) => r.label)).to.deep.equal(['6.1.0-31-amd64', '6.18.44-fc-v669']);
  });

  it('lists what differs in the environments: kernel, engine, sysctls read back (once, with their cases)', () => {
    const differences = Object.fromEntries(comparison.environment.map((d) => [d.what, d.values]));
    expect(differences.kernel).to.deep.equal(['6.1.0-31-amd64', '6.18.44-fc-v669']);
    expect(differences.engine).to.deep.equal(['Docker 26.1.5+dfsg1 (API 1.45) (docker)', 'Docker 20.10.24+dfsg1 (API 1.41) (docker)']);
    expect(differences['server net.ipv4.tcp_max_syn_backlog (every case)']).to.deep.equal(['1024', '2048']);
    expect(differences['client-3 net.ipv4.tcp_max_syn_backlog ("4 clients, default range")']).to.deep.equal(['1024', '2048']);
    expect(Object.keys(differences)).to.not.include.members(['run', 'started', 'scenario file']);
  });

  it('puts each expectation of each case in one row and marks the one whose verdict differs', () => {
    expect(comparison.rows).to.have.length(3 + 5 + 9 + 3);
    const differing = comparison.rows.filter((r) => r.verdictsDiffer);
    expect(differing.map((r) => [r.caseName, r.claim, r.host])).to.deep.equal([
      ['1 client, default range', 'a spent range answers EADDRNOTAVAIL', 'client-1'],
    ]);
    expect(differing[0]!.cells.map((e) => [e?.measured, e?.pass])).to.deep.equal([
      [0, false],
      [1, true],
    ]);
    expect(comparison.verdictsDiffer).to.equal(true);
  });

  it('marks rows where only the measured value differs', () => {
    const measuredOnly = comparison.rows.filter((r) => r.measuredDiffer && !r.verdictsDiffer);
    expect(measuredOnly.map((r) => `${r.caseName}/${r.host}`)).to.deep.equal(['2 clients, default range/client-2']);
  });

  it('finds nothing to mark between two copies of one run, and tells same kernels apart by number', () => {
    const same = compareRuns([runs[1]!, { file: 'copy.json', results: loadFixture(KERNEL_618) }]);
    expect(same.environment).to.deep.equal([]);
    expect(same.rows.some((r) => r.verdictsDiffer || r.measuredDiffer)).to.equal(false);
    expect(same.runs.map((r) => r.label)).to.deep.equal(['6.18.44-fc-v669 #1', '6.18.44-fc-v669 #2']);
  });

  it('counts an expectation that one run lacks as a differing verdict', () => {
    const partial = loadFixture(KERNEL_618);
    partial.cases = partial.cases.slice(0, 1);
    const c = compareRuns([runs[1]!, { file: 'partial.json', results: partial }]);
    expect(c.verdictsDiffer).to.equal(true);
    expect(renderComparison(c)).to.match(/holds the sum over its clients\s+server\s+112,924\s+112,924 pass\s+-\s+VERDICT DIFFERS/);
  });

  it('renders side by side for the terminal and as Markdown', () => {
    const text = renderComparison(comparison);
    expect(text).to.match(/expectation\s+host\s+predicted\s+6\.1\.0-31-amd64\s+6\.18\.44-fc-v669/);
    expect(text).to.match(/a spent range answers EADDRNOTAVAIL\s+client-1\s+>= 1\s+0 FAIL\s+1 pass\s+VERDICT DIFFERS/);
    expect(text).to.match(/a spent range answers EADDRNOTAVAIL\s+client-2\s+>= 1\s+3 pass\s+1 pass\s+measured differs/);
    expect(text).to.include('  kernel: 6.1.0-31-amd64 | 6.18.44-fc-v669');
    expect(text.trimEnd().split('\n').at(-1)).to.equal('VERDICTS DIFFER in 1 of 20 expectations');
    const markdown = comparisonMarkdown(comparison);
    expect(markdown).to.include('| expectation | host | predicted | 6.1.0-31-amd64 | 6.18.44-fc-v669 | differs |');
    expect(markdown).to.include('| a spent range answers EADDRNOTAVAIL | client-1 | >= 1 | 0 FAIL | 1 pass | **VERDICT DIFFERS** |');
    expect(markdown).to.include('| kernel | 6.1.0-31-amd64 | 6.18.44-fc-v669 |');
  });
});

describe('lab compare and lab report (the command line)', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'lab-compare-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 for two runs with the same verdicts', () => {
    const copy = join(dir, 'copy.json');
    copyFileSync(KERNEL_618, copy);
    const run = lab(['compare', KERNEL_618, copy]);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.include('Environment: the same in every run');
    expect(run.stdout).to.include('Same verdicts in all 20 expectations');
  });

  it('exits 1 when a verdict differs, and writes the comparison as Markdown on request', () => {
    const markdown = join(dir, 'compare.md');
    const run = lab(['compare', KERNEL_61, KERNEL_618, '--markdown', markdown]);
    expect(run.status, run.stderr).to.equal(1);
    expect(run.stdout).to.include('VERDICT DIFFERS');
    expect(readFileSync(markdown, 'utf8')).to.include('# Runs compared');
  });

  it('exits 2 naming the file when an input is not a results document, or is missing', () => {
    const notResults = lab(['compare', KERNEL_618, NOT_RESULTS]);
    expect(notResults.status).to.equal(2);
    expect(notResults.stderr).to.match(/^lab: .*not-results\.json: schema: not a lab results document: no schema field/);
    const missing = lab(['compare', KERNEL_618, join(dir, 'nope.json')]);
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.include('nope.json: no such results file');
  });

  it('lab report renders summary.md and report.html from a results file into --out', () => {
    const out = join(dir, 'report');
    const run = lab(['report', KERNEL_618, '--out', out]);
    expect(run.status, run.stderr).to.equal(0);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).to.match(/^# 64k-myth: /);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).to.include('<svg class="chart estab" data-case="0"');
    expect(existsSync(join(out, 'results.json'))).to.equal(false);
  });

  it('lab report opens both views with the story of the scenario file the run names, or the claim alone without one', () => {
    const out = join(dir, 'story');
    expect(lab(['report', KERNEL_618, '--out', out]).status).to.equal(0);
    const story = '&quot;A server can only take 64k connections&quot; mixes up two things. A TCP connection is named by four numbers:';
    expect(readFileSync(join(out, 'report.html'), 'utf8')).to.include(`<div class="story">\n<p>${story}`);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).to.include(`\n\n${story.replace(/&quot;/g, '"')}`);
    for (const [name, change] of [
      ['gone', { file: 'scenarios/no-such-scenario.ts' }],
      ['renamed', { scenario: 'another-scenario' }],
      ['not-a-module', { file: 'test/fixtures/results/not-results.json' }],
    ] as const) {
      const results = join(dir, `${name}.json`);
      writeFileSync(results, JSON.stringify({ ...JSON.parse(readFileSync(KERNEL_618, 'utf8')), ...change }));
      expect(lab(['report', results, '--out', join(dir, name)]).status, name).to.equal(0);
      expect(readFileSync(join(dir, name, 'report.html'), 'utf8'), name).to.not.include('class="story"');
    }
  });

  it('lab report writes beside the results file by default, and exits 2 on a file that is not results', () => {
    const copy = join(dir, 'beside', 'results.json');
    mkdirSync(join(dir, 'beside'));
    copyFileSync(KERNEL_61, copy);
    expect(lab(['report', copy]).status).to.equal(0);
    expect(existsSync(join(dir, 'beside', 'report.html'))).to.equal(true);
    const bad = lab(['report', NOT_RESULTS]);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.include('not-results.json');
  });
});
