/**
 * A scenario's own client program that exits 0 and prints nothing: an expectation on its figures is not
 * measured (INVALID), never a zero that passes. Run through the real command line from a scenario folder
 * that imports the lab by its package name, as a user's would.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Results } from '../../lab/results/results.ts';
import { labelledObjects, prepareRuntime, projectRoot } from './helpers.ts';

const SCENARIO = `import { defineScenario } from 'tcp-limits-lab';
export default defineScenario({
  name: 'silent-program',
  claim: 'a program that reports nothing cannot pass an expectation on its figures',
  server: { ports: [7100] },
  client: { program: { command: ['true'] } },
  expect: [{ claim: 'no errors', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => 0 }],
  cases: [{ name: 'silent', clients: 1 }],
});
`;

describe('a client program that exits 0 without reporting', function () {
  this.timeout(180_000);
  let dir: string;
  let run: { status: number | null; stdout: string; stderr: string };
  let results: Results;

  before(async function () {
    this.timeout(15 * 60 * 1000);
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-silent-'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(projectRoot, join(dir, 'node_modules', 'tcp-limits-lab'));
    writeFileSync(join(dir, 'silent.ts'), SCENARIO);
    // lab() runs from the project root; this scenario must resolve 'tcp-limits-lab' from its own folder.
    const out = spawnSync(process.execPath, [join(projectRoot, 'bin/lab.js'), 'run', 'silent.ts', '--json', join(dir, 'out.json')], {
      cwd: dir,
      env: { ...process.env, CI: 'true' },
      encoding: 'utf8',
      timeout: 170_000,
    });
    run = { status: out.status, stdout: out.stdout, stderr: out.stderr };
    if (existsSync(join(dir, 'out.json'))) results = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Results;
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 1: an expectation did not pass', () => {
    expect(run.status, run.stdout + run.stderr).to.equal(1);
  });

  it('writes results that do not pass', () => {
    expect(results, `no results JSON; output:\n${run.stdout}\n${run.stderr}`).to.be.an('object');
    expect(results.pass).to.equal(false);
    expect(results.cases).to.have.length(1);
    expect(results.cases[0]!.pass).to.equal(false);
  });

  it("makes the expectation on the program's errors invalid: not measured, naming the program", () => {
    const rows = results.cases[0]!.expectations;
    expect(rows).to.have.length(1);
    const row = rows[0]!;
    expect(row).to.deep.include({ claim: 'no errors', subject: 'each client', host: 'client-1', metric: 'errors.EADDRNOTAVAIL', pass: false });
    expect(row.invalid, JSON.stringify(row)).to.match(/not measured/);
    expect(row.invalid, JSON.stringify(row)).to.match(/\btrue\b/);
    const client = results.cases[0]!.hosts.find((h) => h.name === 'client-1')!;
    expect(client.flood?.unreported).to.equal(true);
  });

  it('shows INVALID in the terminal output', () => {
    expect(run.stdout + run.stderr).to.match(/INVALID/);
  });

  it('leaves no labelled container or network behind', async () => {
    expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
  });
});
