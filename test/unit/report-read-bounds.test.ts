/**
 * `lab report` on hostile results files: a 50 MB string is not echoed into the error line, and 25 million
 * nested arrays (valid JSON) are refused at once, in one line, rather than after 29 s and 2.5 GB.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { InputError } from '../../lab/errors.ts';
import { nestingBeyond, parseResults, readResults } from '../../lab/report/read.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** A file written piece by piece from a few buffers: no 50 MB string is built here. */
function writePieces(file: string, pieces: Array<[Buffer, number]>): void {
  const fd = openSync(file, 'w');
  try {
    for (const [buffer, times] of pieces) for (let i = 0; i < times; i++) writeSync(fd, buffer);
  } finally {
    closeSync(fd);
  }
}

const MB = 1_000_000;

async function rejection(promise: Promise<unknown>): Promise<InputError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected a rejection');
}

describe('lab report on hostile results files', function () {
  this.timeout(20_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'lab-read-bounds-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('quotes at most ~200 characters of a 50 MB string in its one line', async () => {
    const file = join(dir, 'long-string.json');
    writePieces(file, [
      [Buffer.from('{"schema": "'), 1],
      [Buffer.alloc(MB, 'x'), 50],
      [Buffer.from('"}'), 1],
    ]);
    const error = await rejection(readResults(file));
    expect(error.kind).to.equal('input');
    expect(error.message.startsWith(`${file}: schema: not a lab results document: schema is "xxxx`)).to.equal(true);
    expect(error.message).to.match(/\.\.\. \(cut: \d+ characters in all\)$/);
    expect(error.message.length).to.be.below(file.length + 350);
    expect(error.message).to.not.include('\n');
  });

  it('refuses 25 million nested arrays at once, in one line, before JSON.parse', async () => {
    const file = join(dir, 'deep.json');
    writePieces(file, [
      [Buffer.alloc(MB, '['), 25],
      [Buffer.alloc(MB, ']'), 25],
    ]);
    const started = performance.now();
    const error = await rejection(readResults(file));
    expect(performance.now() - started).to.be.below(3000);
    expect(error.message).to.equal(
      `${file}: not a lab results document: nested more than 64 levels deep (at character 65); a results file nests about 10`,
    );
  });

  it('says the same from the command line: one line, exit 2, quickly', () => {
    const file = join(dir, 'deep-cli.json');
    writePieces(file, [
      [Buffer.alloc(MB, '['), 25],
      [Buffer.alloc(MB, ']'), 25],
    ]);
    const started = performance.now();
    const run = spawnSync(process.execPath, [join(projectRoot, 'bin/lab.js'), 'report', file], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    expect(run.status).to.equal(2);
    expect(run.stderr).to.equal(
      `lab: ${file}: not a lab results document: nested more than 64 levels deep (at character 65); a results file nests about 10\n`,
    );
    expect(performance.now() - started).to.be.below(10_000);
  });

  it('counts brackets only outside strings, escapes included', () => {
    expect(nestingBeyond('{"a": "' + '['.repeat(100) + '\\"[[[["}', 64)).to.equal(undefined);
    expect(nestingBeyond('['.repeat(64) + ']'.repeat(64), 64)).to.equal(undefined);
    expect(nestingBeyond('['.repeat(65) + ']'.repeat(65), 64)).to.equal(64);
    expect(nestingBeyond('{"a":{"b":[' + '{}'.repeat(10) + ']}}', 4)).to.equal(undefined);
    expect(nestingBeyond('{"a":{"b":[{}]}}', 3)).to.equal(11);
  });

  it('quotes at most ~200 characters of a field name a schema problem names', () => {
    const doc = JSON.parse(readFileSync(join(projectRoot, 'test/fixtures/results/64k-myth-6.18.44.json'), 'utf8'));
    doc.cases[0].hosts[0].errors = { ['k'.repeat(10_000)]: 'x' };
    expect(() => parseResults(JSON.stringify(doc), 'r.json'))
      .to.throw(InputError)
      .that.satisfies(
        (e: InputError) =>
          e.message.length < 400 &&
          /^r\.json: cases\[0\]\.hosts\[0\]\.errors\.k{100,}\.\.\. \(cut: \d+ characters in all\): missing or not a number$/.test(e.message),
      );
  });
});
