/**
 * Bad input that needs no engine, through the lab's own command line in this process: one line naming the
 * file and the field, exit 2. No engine can be reached (DOCKER_HOST names no socket, and the lab may not
 * start one), so a row that got as far as the engine would end with exit 3 instead: refused before anything.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { rows, writeRowScenario } from '../fixtures/bad-input-rows.ts';

interface Answer {
  code: number;
  stderr: string;
  stdout: string;
}

const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/lab-unit-test.sock', LAB_ENGINE_SETUP: 'never', CI: 'true' };

/** `lab <args>` in this process, with what it wrote to stdout and stderr caught. */
async function labInProcess(args: string[]): Promise<Answer> {
  const saved = { stdout: process.stdout.write, stderr: process.stderr.write };
  const env = Object.fromEntries(Object.keys(NO_ENGINE).map((k) => [k, process.env[k]]));
  const caught = { stdout: '', stderr: '' };
  const catcher = (stream: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      caught[stream] += String(chunk);
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stdout.write;
  Object.assign(process.env, NO_ENGINE);
  process.stdout.write = catcher('stdout');
  process.stderr.write = catcher('stderr');
  try {
    // Imported as an ES module, as bin/lab.js does: the commands it loads on demand then share its classes.
    const { main } = await import('../../lab/cli/main.ts');
    const code = await main(args);
    return { code, ...caught };
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('bad input that needs no engine is refused in one line, exit 2', function () {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-bad-unit-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const engineFree = rows.map((row, i) => ({ row, i })).filter(({ row }) => row[4] !== 'engine');

  it(`covers at least 100 rows (${engineFree.length})`, () => expect(engineFree.length).to.be.at.least(100));

  for (const { row, i } of engineFree) {
    const [what, , args, message] = row;
    it(`refuses ${what}`, async () => {
      const file = join(dir, `case-${i}.ts`);
      writeRowScenario(row, file);
      const answer = await labInProcess(args(file));
      expect(answer.code, answer.stderr + answer.stdout).to.equal(2);
      const lines = answer.stderr.trim().split('\n');
      expect(lines, answer.stderr).to.have.length(1);
      expect(lines[0]).to.match(message(file));
      expect(answer.stderr + answer.stdout, 'a stack trace').not.to.match(/^\s+at .*$/m);
    });
  }
});
