/**
 * Hostile use that needs no engine: late and unusual signals, a stdout that goes away, malformed run ids,
 * files that are not kernels, scenario files that loop, wait, or are symlink loops, a TMPDIR that is not one.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { checkRunId } from '../../lab/cli/commands/clean.ts';
import { guardOutput, isClosed } from '../../lab/cli/output.ts';
import { interruptible } from '../../lab/cli/signals.ts';
import { InputError, Interrupted } from '../../lab/errors.ts';
import { selectRuntime } from '../../lab/runtime/select.ts';
import { spawnAsNobody } from '../fixtures/as-nobody.ts';
import { loadScenario, LOAD_TIMEOUT_ENV } from '../../lab/scenario/load.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
const fixture = (name: string) => join(projectRoot, 'test/fixtures/scenarios', name);

async function rejection(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not fail');
}

describe('interruptible', () => {
  for (const signal of ['SIGHUP', 'SIGQUIT'] as const) {
    it(`takes ${signal} (a closed terminal, SSH gone) as an interruption: the work is aborted, then Interrupted`, async () => {
      const error = await rejection(
        interruptible('stopping', (abort) => {
          const done = new Promise<void>((_, reject) => abort.addEventListener('abort', () => reject(new Error('aborted'))));
          process.emit(signal, signal);
          return done;
        }),
      );
      expect(error).to.be.instanceOf(Interrupted);
      expect(error.message).to.equal(`interrupted by ${signal}: tore down what this run created`);
    });
  }

  it('throws Interrupted when a signal came too late to stop the work (the last teardown): never a PASS', async () => {
    const error = await rejection(
      interruptible('stopping', async () => {
        process.emit('SIGQUIT', 'SIGQUIT');
        return 'finished anyway';
      }),
    );
    expect(error).to.be.instanceOf(Interrupted);
  });

  it('lets the work interrupt itself (Ctrl-D at a prompt), saying why', async () => {
    const error = await rejection(
      interruptible('stopping', (abort, interrupt) => {
        interrupt('end of input at the --step prompt');
        expect(abort.aborted).to.equal(true);
        return Promise.resolve();
      }),
    );
    expect(error).to.be.instanceOf(Interrupted);
    expect(error.message).to.equal('interrupted (end of input at the --step prompt): tore down what this run created');
  });

  it('resolves with the work when no signal came, and leaves no listener behind', async () => {
    const before = process.listenerCount('SIGHUP');
    expect(await interruptible('stopping', async () => 42)).to.equal(42);
    expect(process.listenerCount('SIGHUP')).to.equal(before);
  });
});

describe('a stdout that goes away', () => {
  it('is written no more after its first error, which kills nothing', async () => {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    guardOutput([stream]);
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(isClosed(stream)).to.equal(true);
    let called = false;
    expect(stream.write('more', () => (called = true))).to.equal(true);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(called, 'the write callback (bin/lab.js exits from one)').to.equal(true);
  });
});

describe('run ids for lab clean --run', () => {
  it('accepts the ids the lab makes', () => {
    expect(checkRunId('mwxgpni3d229')).to.equal('mwxgpni3d229');
    expect(checkRunId('leftover-a')).to.equal('leftover-a');
  });
  for (const id of ['', ' ', 'MWX', 'a b', '*', 'a,b', '-x', 'x=y', '../x']) {
    it(`refuses ${JSON.stringify(id)}: bad input, nothing removed`, () => {
      expect(() => checkRunId(id)).to.throw(InputError, /^--run: takes a run id/);
    });
  }
});

describe('--kernel <path> must be a kernel', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'lab-kernels-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const problem = (kernel: string) => {
    try {
      selectRuntime({ kernel }, projectRoot);
      return undefined;
    } catch (error) {
      expect(error).to.be.instanceOf(InputError);
      return (error as Error).message;
    }
  };

  it('refuses a file that is neither a .deb nor a bzImage: /etc/passwd', () => {
    expect(problem('/etc/passwd')).to.equal(
      '--kernel: "/etc/passwd" is not a kernel: neither a linux-image .deb (an ar archive) nor a bzImage (no "HdrS" at 0x202)',
    );
  });

  it('refuses an empty file, a folder, a device, a missing path', () => {
    writeFileSync(join(dir, 'empty'), '');
    expect(problem(join(dir, 'empty'))).to.include('is not a kernel');
    expect(problem(dir)).to.include('is a folder');
    expect(problem('/dev/null')).to.include('is not a regular file');
    expect(problem(join(dir, 'nope'))).to.include('nor an existing kernel image or .deb');
  });

  it('accepts an ar archive (a .deb) and a bzImage, and the Debian releases', () => {
    writeFileSync(join(dir, 'linux-image.deb'), '!<arch>\ndebian-binary   ');
    const image = Buffer.alloc(0x400);
    image.write('HdrS', 0x202, 'latin1');
    writeFileSync(join(dir, 'vmlinuz'), image);
    expect(problem(join(dir, 'linux-image.deb'))).to.equal(undefined);
    expect(problem(join(dir, 'vmlinuz'))).to.equal(undefined);
    expect(problem('6.1')).to.equal(undefined);
  });
});

describe('loading a hostile scenario file', () => {
  let dir: string;
  let saved: string | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-hostile-load-'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    copyFileSync(fixture('top-level-loop.ts.txt'), join(dir, 'loop.ts'));
    copyFileSync(fixture('top-level-wait.ts.txt'), join(dir, 'wait.ts'));
    saved = process.env[LOAD_TIMEOUT_ENV];
    process.env[LOAD_TIMEOUT_ENV] = '2';
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    if (saved === undefined) delete process.env[LOAD_TIMEOUT_ENV];
    else process.env[LOAD_TIMEOUT_ENV] = saved;
  });

  it('says a symlink loop is one (not "no such scenario file")', async () => {
    symlinkSync(join(dir, 'loop-b.ts'), join(dir, 'loop-a.ts'));
    symlinkSync(join(dir, 'loop-a.ts'), join(dir, 'loop-b.ts'));
    const error = await rejection(loadScenario(join(dir, 'loop-a.ts')));
    expect(error).to.be.instanceOf(InputError);
    expect(error.message).to.match(/loop-a\.ts: is a symlink loop/);
  });

  it('says a folder is one, and a path through a file is no scenario', async () => {
    expect((await rejection(loadScenario(dir))).message).to.match(/: is a folder, not a scenario file$/);
    expect((await rejection(loadScenario(join(dir, 'package.json', 'x.ts')))).message).to.match(
      /no such scenario file \(a part of its path is a file, not a folder\)$/,
    );
  });

  it('gives up on a top level that never returns (while (true) {}), naming the file, within the limit', async () => {
    const started = Date.now();
    const error = await rejection(loadScenario(join(dir, 'loop.ts')));
    expect(error).to.be.instanceOf(InputError);
    expect(error.message).to.match(/loop\.ts: did not finish loading within 2 s/);
    expect(Date.now() - started).to.be.below(6000);
  });

  it('gives up on a top level that waits forever', async () => {
    expect((await rejection(loadScenario(join(dir, 'wait.ts')))).message).to.match(/wait\.ts: did not finish loading within 2 s/);
  });

  it('lab list names the file that did not finish loading and lists the others, after it too (exit 2)', () => {
    const listed = join(dir, 'listed');
    mkdirSync(listed);
    writeFileSync(join(listed, 'package.json'), '{ "type": "module" }');
    copyFileSync(join(dir, 'loop.ts'), join(listed, 'a-loop.ts'));
    const good = {
      kind: 'lab.scenario',
      name: 'b-good',
      claim: 'a claim',
      server: { ports: [80] },
      client: { connections: 10 },
      cases: [{ name: 'one', clients: 1 }],
    };
    writeFileSync(
      join(listed, 'b-good.ts'),
      `export default { ...${JSON.stringify(good)}, expect: [{ claim: 'x', subject: 'server', metric: 'estab', predict: () => 0 }] };\n`,
    );
    const run = spawnSync(process.execPath, ['bin/lab.js', 'list', listed], {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, [LOAD_TIMEOUT_ENV]: '2' },
    });
    expect(run.signal, 'lab list hung').to.equal(null);
    expect(run.status, run.stderr).to.equal(2);
    expect(run.stdout).to.match(/b-good\.ts\s+b-good\s+1\s+a claim/);
    expect(run.stderr.trim()).to.match(/^lab: .*a-loop\.ts: did not finish loading within 2 s \(does its top level loop, or wait, forever\?\)$/);
  });
});

describe('a TMPDIR that is not a writable folder', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-tmpdir-'));
    writeFileSync(join(dir, 'a-file'), '');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [what, path] of [
    ['missing', () => join(dir, 'missing')],
    ['a file', () => join(dir, 'a-file')],
    ['under /proc (a recursive mkdir there never returns)', () => '/proc/lab-tmp'],
  ] as const) {
    it(`is said in one line, exit 3, before anything else: ${what}`, () => {
      const run = spawnSync(process.execPath, ['bin/lab.js', 'list'], {
        cwd: projectRoot,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, TMPDIR: path() },
      });
      expect(run.signal, 'hung').to.equal(null);
      expect(run.status, run.stderr).to.equal(3);
      expect(run.stderr.trim().split('\n')).to.have.length(1);
      expect(run.stderr).to.match(new RegExp(`^lab: TMPDIR=${path().replace(/[/.]/g, '\\$&')} is not a writable directory`));
      expect(run.stdout).to.equal('');
    });
  }

  it('a read-only one too, for a user who cannot write it', function () {
    const readOnly = join(dir, 'read-only');
    chmodSync(dir, 0o755);
    mkdirSync(readOnly, { mode: 0o555 });
    const env = { ...process.env, TMPDIR: readOnly };
    const checkoutAt = join(dir, 'checkout');
    mkdirSync(checkoutAt, { mode: 0o755 });
    // As nobody where the test runs as root: root writes anywhere.
    const run =
      process.getuid?.() === 0
        ? spawnAsNobody({ checkoutAt, argv: [process.execPath, 'bin/lab.js', '--version'], env })
        : spawnSync(process.execPath, ['bin/lab.js', '--version'], { cwd: projectRoot, encoding: 'utf8', timeout: 30_000, env });
    expect(run.status, run.stderr).to.equal(3);
    expect(run.stderr.trim()).to.match(/^lab: TMPDIR=.*read-only is not a writable directory \(nothing can be created in it: EACCES\)/);
  });
});
