/**
 * Every scenario in scenarios/ in quick mode against the real engine: each must load, explain itself, and
 * have every verdict hold. (The full runs take minutes; their figures are in the README and BENCHMARKS.md.)
 */
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { lab, labelledObjects, prepareRuntime, projectRoot } from './helpers.ts';

const scenarios = readdirSync(join(projectRoot, 'scenarios'))
  .filter((f) => f.endsWith('.ts'))
  .sort();

describe('every scenario in quick mode', function () {
  let dir: string;
  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-scenarios-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every scenario file with its claim', () => {
    const list = lab(['list']);
    expect(list.status, list.stderr).to.equal(0);
    expect(list.stdout).to.match(/^the lab's own scenarios \(scenarios\/\):$/m);
    for (const file of scenarios) expect(list.stdout).to.match(new RegExp(`^  ${file.replace('.', '\\.')} `, 'm'));
  });

  for (const file of scenarios) {
    it(`${file}: explains itself, and every verdict holds in quick mode`, async () => {
      const explain = lab(['explain', `scenarios/${file}`]);
      expect(explain.status, explain.stderr).to.equal(0);
      expect(explain.stdout).to.match(/^Case 1\//m);
      const json = join(dir, `${file}.json`);
      const run = lab(['run', `scenarios/${file}`, '--quick', '--json', json], { CI: 'true' });
      const results = JSON.parse(readFileSync(json, 'utf8'));
      const failed = results.cases.flatMap((c: any) =>
        c.expectations
          .filter((e: any) => !e.pass)
          .map((e: any) => `${c.name}: ${e.claim} (${e.host}): predicted ${JSON.stringify(e.predicted)}, measured ${e.measured}`),
      );
      expect(failed, run.stdout.slice(-3000)).to.deep.equal([]);
      expect(run.status).to.equal(0);
      expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
    });
  }
});
