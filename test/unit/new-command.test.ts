/**
 * `lab new <name>` in a folder it cannot write: one line naming the folder and why, exit 2 (as `lab run` there),
 * no stack, nothing written. A read-only file system is a tmpfs mounted read-only in a mount namespace of the
 * test's own (root only: the mount never shows outside it); a folder this user cannot write is one of mode
 * 555, tried as nobody when the test runs as root (root writes anywhere permissions say).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { spawnAsNobody } from '../fixtures/as-nobody.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const LAB = join(projectRoot, 'bin/lab.js');
const isRoot = process.getuid?.() === 0;

function refusedInOneLine(run: SpawnSyncReturns<string>, folder: string, why: RegExp): void {
  expect(run.signal, 'hung').to.equal(null);
  expect(run.status, run.stderr).to.equal(2);
  const lines = run.stderr.trim().split('\n');
  expect(lines, run.stderr).to.have.length(1);
  expect(lines[0]).to.match(new RegExp(`^lab: ${folder.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
  expect(lines[0]).to.match(why);
  expect(run.stderr).to.not.include('unexpected error');
  expect(run.stderr).to.not.match(/^\s+at /m);
  expect(run.stdout).to.equal('');
}

describe('lab new in a folder it cannot write', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-new-'));
    chmodSync(dir, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('on a read-only file system: one line naming the folder and why, exit 2, as lab run', function () {
    if (!isRoot || spawnSync('unshare', ['--version']).status !== 0) this.skip();
    const folder = join(dir, 'read-only');
    mkdirSync(folder);
    const inside = (args: string) =>
      spawnSync(
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-c',
          `mount -t tmpfs -o ro tmpfs "$0" && cd "$0" && exec "$1" "$2" ${args}`,
          folder,
          process.execPath,
          LAB,
        ],
        {
          encoding: 'utf8',
          timeout: 30_000,
          env: { ...process.env, CI: 'true' },
        },
      );
    const made = inside('new foo');
    if (/mount: .*(permission denied|not permitted)/i.test(made.stderr)) this.skip();
    refusedInOneLine(made, folder, /read-only file system/);
    // lab run in the same folder is refused with exit 2 too (its results folder cannot be made there).
    expect(inside(`run ${join(projectRoot, 'scenarios/64k-myth.ts')} --quick`).status).to.equal(2);
    expect(readdirSync(folder)).to.deep.equal([]);
  });

  it('in a folder this user may not write to: one line naming the folder and why, exit 2', function () {
    const folder = join(dir, 'locked');
    mkdirSync(folder, { mode: 0o555 });
    chmodSync(folder, 0o555);
    const checkoutAt = join(dir, 'checkout');
    mkdirSync(checkoutAt, { mode: 0o755 });
    const run = isRoot
      ? spawnAsNobody({ checkoutAt, argv: [process.execPath, join(checkoutAt, 'bin/lab.js'), 'new', 'foo'], cwd: folder })
      : spawnSync(process.execPath, [LAB, 'new', 'foo'], { cwd: folder, encoding: 'utf8', timeout: 30_000 });
    refusedInOneLine(run, folder, /permission denied/);
    expect(existsSync(join(folder, 'foo.ts'))).to.equal(false);
  });
});
