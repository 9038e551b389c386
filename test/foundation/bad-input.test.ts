/**
 * Bad input through the real command line, with the engine up: each gets one line naming the file and the
 * field, exit 2, and no container or network is created. The rows refused only once the engine answered run
 * here, with a few of the others for the real process (the unit test runs every engine-free row in-process).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Docker from 'dockerode';
import { rows as allRows, writeRowScenario } from '../fixtures/bad-input-rows.ts';
import { type CliResult, lab, labelledObjects, prepareRuntime } from '../integration/helpers.ts';

const THROUGH_THE_PROCESS = [
  'a missing scenario file',
  'a syntax error',
  'a misspelt top-level field',
  'an unknown flag',
  'a shell command in somaxconn',
  'a client program whose Dockerfile is missing',
];
const rows = allRows.filter(([what, , , , needs]) => needs === 'engine' || THROUGH_THE_PROCESS.includes(what));

/** What `lab` printed and how it exited, once per row: the row's own test and the stack-trace sweep share it. */
const results = new Map<number, CliResult>();

describe('bad input is refused: one line naming file and field, exit 2, nothing created', function () {
  let dir: string;
  let blocker: Docker.Network;

  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-bad-'));
    // An existing network for the overlap case (not the lab's: it carries no lab.run label).
    blocker = await new Docker().createNetwork({ Name: 'lab-test-blocker', Internal: true, IPAM: { Config: [{ Subnet: '198.19.251.0/25' }] } });
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await blocker.remove();
  });

  const fileOf = (i: number) => join(dir, `case-${i}.ts`);

  /** Writes the row's scenario file and runs `lab` on it, once. */
  function runRow(i: number): CliResult {
    const done = results.get(i);
    if (done) return done;
    const file = fileOf(i);
    writeRowScenario(rows[i]!, file);
    const result = lab(rows[i]![2](file), { CI: 'true' });
    results.set(i, result);
    return result;
  }

  it(`has at least 120 rows in all (${allRows.length}), each named once, ${rows.length} of them here`, () => {
    expect(allRows.length).to.be.at.least(120);
    expect(new Set(allRows.map(([what]) => what)).size).to.equal(allRows.length);
    expect(rows.length).to.equal(THROUGH_THE_PROCESS.length + allRows.filter((row) => row[4] === 'engine').length);
  });

  rows.forEach(([what, , , message], i) => {
    it(`refuses ${what}`, async () => {
      const file = fileOf(i);
      const result = runRow(i);
      expect(result.status, result.stderr + result.stdout).to.equal(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).to.have.length(1);
      expect(lines[0]).to.match(message(file));
      expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
    });
  });

  it('prints no stack trace for any row', () => {
    const traced = rows.flatMap(([what], i) => {
      const result = runRow(i);
      const output = `${result.stderr}\n${result.stdout}`;
      const line = /^\s+at .*$/m.exec(output);
      return line ? [`${what}: ${line[0].trim()} (in: ${output.trim().split('\n')[0]})`] : [];
    });
    expect(traced, traced.join('\n')).to.deep.equal([]);
  });
});
