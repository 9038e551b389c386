/** The table of views (lab/report/views.ts) and its writer: what `lab run`, `lab matrix` and `lab report` write, and where. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { junitXml } from '../../lab/report/junit.ts';
import { renderMarkdown } from '../../lab/report/markdown.ts';
import { buildMatrix } from '../../lab/report/matrix.ts';
import { matrixMarkdown } from '../../lab/report/matrix-markdown.ts';
import { VIEWS, type ReportView } from '../../lab/report/views.ts';
import { runSources, writeViews } from '../../lab/report/write.ts';
import { resultsToJson } from '../../lab/results/results.ts';
import { KERNEL_61, KERNEL_618, loadFixture } from '../fixtures/results/fixtures.ts';

describe('the report views', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lab-views-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const read = (path: string) => readFileSync(path, 'utf8');

  it('gives each view a name and a file of its own', () => {
    const names = VIEWS.map((v) => v.name);
    const files = VIEWS.flatMap((v: ReportView) => (v.file ? [v.file] : []));
    expect(new Set(names).size).to.equal(names.length);
    expect(new Set(files).size).to.equal(files.length);
  });

  it("writes a run's views into its folder, then the files the user named (--json, --junit), and says so in that order", async () => {
    const results = loadFixture(KERNEL_61);
    const folder = join(dir, 'run');
    const named = { results: join(dir, 'copy', 'r.json'), junit: join(dir, 'ci', 'junit.xml') };
    const written = await writeViews(await runSources(results), { folder, named });
    expect(written).to.deep.equal([
      join(folder, 'results.json'),
      join(folder, 'summary.md'),
      join(folder, 'report.html'),
      named.results,
      named.junit,
    ]);
    expect(read(join(folder, 'results.json'))).to.equal(resultsToJson(results));
    expect(read(named.results)).to.equal(resultsToJson(results));
    expect(read(named.junit)).to.equal(junitXml([results]));
    expect(read(join(folder, 'summary.md'))).to.match(/^# 64k-myth: /);
  });

  it('writes the matrix views, and JUnit of every run only where the user names a file for it', async () => {
    const runs = [KERNEL_61, KERNEL_618].map((file) => ({ file, results: loadFixture(file) }));
    const matrix = buildMatrix(runs);
    const sources = { matrix, runs: runs.map((r) => r.results) };
    expect(await writeViews(sources, { folder: join(dir, 'a') })).to.deep.equal([
      join(dir, 'a', 'matrix.md'),
      join(dir, 'a', 'kernel-upgrade.md'),
      join(dir, 'a', 'matrix.html'),
    ]);
    const junit = join(dir, 'junit.xml');
    expect(await writeViews(sources, { folder: join(dir, 'b'), named: { junit } })).to.deep.equal([
      join(dir, 'b', 'matrix.md'),
      join(dir, 'b', 'kernel-upgrade.md'),
      join(dir, 'b', 'matrix.html'),
      junit,
    ]);
    expect(read(join(dir, 'b', 'matrix.md'))).to.equal(matrixMarkdown(matrix));
    expect(read(junit)).to.equal(junitXml(sources.runs));
  });

  it("renders a run's readable views again without its record, as lab report does", async () => {
    const results = loadFixture(KERNEL_61);
    const sources = await runSources(results);
    const written = await writeViews(
      sources,
      { folder: dir },
      VIEWS.filter((view: ReportView) => !view.record),
    );
    expect(written).to.deep.equal([join(dir, 'summary.md'), join(dir, 'report.html')]);
    expect(read(join(dir, 'summary.md'))).to.equal(renderMarkdown(results, { story: sources.run.story }));
  });
});
