/**
 * Hostile use against the real engine: a stdout closed early, SIGHUP and SIGQUIT, Ctrl-C and Ctrl-D at the
 * --step prompt, a signal in the last teardown, lab clean with a bad run id or no permission to look, and
 * up-front refusals of `lab run` (output paths, kernels that are not, files that loop). Every test leaves
 * nothing labelled lab.run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Docker from 'dockerode';
import { fixture, labelledObjects, prepareRuntime, projectRoot, runIdIn, startLab, type CliResult } from './helpers.ts';
import { folderForNobody, spawnAsNobody } from '../fixtures/as-nobody.ts';

const NOTHING = { containers: [], networks: [] };
/** One quick case: about 4 s from start to the verdict. */
const ONE_CASE = ['run', 'scenarios/port-range.ts', '--quick', '--case', '1000 ports 40000-40999'];
const NO_STACK = /^\s+at /m;
/** A client's count mid-flood, in either form the view prints ("1234 established", "[###...] 1,234/28,232"). */
const CLIENT_1_CONNECTED = /client-1: (?:[1-9]\d* established|\[[#.]+\] [1-9][\d,]*\/)/;

let dir: string;
/** Reports go to a folder of the test's, not into the checkout's results/. */
const report = () => ['--report', mkdtempSync(join(dir, 'report-'))];

function lab(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): CliResult & { signal: NodeJS.Signals | null } {
  const run = spawnSync(process.execPath, [join(projectRoot, 'bin/lab.js'), ...args], {
    cwd: options.cwd ?? projectRoot,
    env: { ...process.env, CI: 'true', ...options.env },
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  });
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr };
}

/** A test that also checks, after it, that nothing labelled lab.run is left. */
function leaves(title: string, test: (this: Mocha.Context) => unknown): void {
  it(title, async function () {
    await test.call(this);
    expect(await labelledObjects(), 'left labelled lab.run').to.deep.equal(NOTHING);
  });
}

function oneLine(result: CliResult, code: number, pattern: RegExp): void {
  expect(result.status, result.stderr + result.stdout).to.equal(code);
  expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1);
  expect(result.stderr.trim()).to.match(pattern);
  expect(result.stderr).to.not.match(NO_STACK);
}

describe('hostile use of the lab (real engine)', function () {
  before(async function () {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-hostile-'));
    chmodSync(dir, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    // Whatever a failed test left is removed, so that one leak fails one test, not every test after it.
    const left = await labelledObjects();
    if (left.containers.length || left.networks.length) lab(['clean']);
  });

  describe('a stdout closed early (lab run ... | head)', function () {
    leaves('does not abort the run: it finishes, removes everything, exits with its own code, no stack', async () => {
      // As a user types it; PIPESTATUS[0] is the lab's own exit code.
      const command = `node bin/lab.js ${ONE_CASE.map((a) => `'${a}'`).join(' ')} ${report().join(' ')} | head -3 >/dev/null; echo "lab exited $\{PIPESTATUS[0]}" >&2`;
      const run = spawnSync('bash', ['-c', command], { cwd: projectRoot, env: { ...process.env, CI: 'true' }, encoding: 'utf8', timeout: 120_000 });
      expect(run.stderr).to.not.match(NO_STACK);
      expect(run.stderr).to.not.include('EPIPE');
      expect(run.stderr.trim().split('\n').at(-1)).to.equal('lab exited 0');
    });

    leaves('a stdout closed in the middle of the flood too', async () => {
      const child = spawn(process.execPath, ['bin/lab.js', 'run', fixture('long-fill.ts'), ...report()], {
        cwd: projectRoot,
        env: { ...process.env, CI: 'true' },
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      let seen = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        seen += d;
        if (CLIENT_1_CONNECTED.test(seen) && !child.stdout.destroyed) child.stdout.destroy();
      });
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(child.stdout.destroyed, 'stdout closed mid-flood').to.equal(true);
      expect(seen, 'nothing read after closing').to.not.match(/^PASS/m);
      expect(stderr).to.not.match(NO_STACK);
      // long-fill's verdict: every expectation holds (0); a closed stdout is no failed expectation.
      expect(status, stderr).to.equal(0);
    });
  });

  describe('SIGHUP and SIGQUIT (a closed terminal, an SSH session gone) are interruptions', function () {
    leaves('SIGHUP mid-flood: exit 130, one clear line, everything removed', async () => {
      const run = startLab(['run', fixture('long-fill.ts'), ...report()]);
      await run.waitFor(CLIENT_1_CONNECTED);
      run.signal('SIGHUP');
      const result = await run.exited;
      expect(result.status, result.stderr).to.equal(130);
      expect(result.stderr).to.include('lab: interrupted by SIGHUP: tore down what this run created');
    });

    leaves('SIGQUIT with the hosts up: exit 130, everything removed', async () => {
      const run = startLab([...ONE_CASE, ...report()], { LAB_HOLD_PHASE: 'flood' });
      await run.waitFor(/holding before flood/);
      expect((await labelledObjects(runIdIn(run.output()))).containers).to.have.length(2);
      run.signal('SIGQUIT');
      const result = await run.exited;
      expect(result.status, result.stderr).to.equal(130);
      expect(result.stderr).to.include('lab: interrupted by SIGQUIT: tore down what this run created');
    });
  });

  describe("a signal in the last case's teardown", function () {
    leaves('still interrupts the run: exit 130, never PASS', async () => {
      const run = startLab([...ONE_CASE, ...report()]);
      await run.waitFor(/Tear down the containers/);
      run.signal('SIGINT');
      const result = await run.exited;
      expect(result.status, result.stdout).to.equal(130);
      expect(result.stdout).to.not.match(/^PASS/m);
      expect(result.stderr).to.include('lab: interrupted by SIGINT');
    });
  });

  describe('Ctrl-C and Ctrl-D at the --step prompt (a real terminal: script(1) gives the lab a pty)', function () {
    /** The lab under a pseudo-terminal, its keyboard our pipe; script -e exits with the lab's code. */
    function onTerminal(args: string[]) {
      const command = ['node', 'bin/lab.js', ...args].map((a) => `'${a}'`).join(' ');
      const child = spawn('script', ['-qefc', command, '/dev/null'], { cwd: projectRoot, env: { ...process.env, CI: 'true' } });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
      const waitFor = async (pattern: RegExp, timeoutMs = 60_000) => {
        const deadline = Date.now() + timeoutMs;
        while (!pattern.test(output)) {
          if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern}; output:\n${output}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const type = (keys: string) => child.stdin.write(keys);
      const kill = () => child.exitCode === null && child.kill('SIGKILL');
      return { waitFor, type, exited, output: () => output, kill };
    }

    for (const [key, keys, said] of [
      ['Ctrl-C', '\x03', 'lab: interrupted by SIGINT: tore down what this run created'],
      ['Ctrl-D', '\x04', 'lab: interrupted (end of input at the --step prompt): tore down what this run created'],
    ] as const) {
      leaves(`${key} at the prompt: exit 130, the network removed`, async () => {
        const run = onTerminal([...ONE_CASE, '--step', ...report()]);
        try {
          await run.waitFor(/Press Enter to start it/);
          expect((await labelledObjects(runIdIn(run.output()))).networks).to.have.length(1);
          // Past the prompt's write: readline has the terminal in raw mode, so the key is a byte, not a signal.
          await new Promise((r) => setTimeout(r, 300));
          run.type(keys);
          const status = await Promise.race([run.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
          expect(status, run.output()).to.equal(130);
          expect(run.output()).to.include(said);
        } finally {
          run.kill();
        }
      });
    }
  });

  describe('lab clean with a run id that is not one', function () {
    for (const [what, id] of [
      ['an empty one (an unset shell variable)', ''],
      ['a malformed one', 'MX5 bad*'],
    ] as const) {
      leaves(`${what}: exit 2, one line, nothing removed`, async () => {
        const docker = new Docker();
        const network = await docker.createNetwork({ Name: 'lab-hostile-keep', Internal: true, Labels: { 'lab.run': 'hostile-keep' } });
        try {
          oneLine(lab(['clean', '--run', id]), 2, /^lab: (--run|option `--run <id>`)/);
          expect((await labelledObjects()).networks).to.deep.equal(['lab-hostile-keep']);
        } finally {
          await network.remove();
        }
      });
    }
  });

  describe('lab clean as a user who may not look', function () {
    leaves('says it could not look (permission denied on the socket), exit 3, never "nothing left"', async function () {
      if (process.getuid?.() !== 0) this.skip();
      const docker = new Docker();
      const runId = `hostile${Date.now().toString(36)}`;
      const network = await docker.createNetwork({ Name: `lab-${runId}`, Internal: true, Labels: { 'lab.run': runId } });
      try {
        // nobody may not use the Docker socket (root:docker 660); the checkout is bound where it can reach it.
        const { checkoutAt, remove } = folderForNobody();
        const run = spawnAsNobody({
          checkoutAt,
          argv: [process.execPath, 'bin/lab.js', 'clean', '--run', runId],
          env: { ...process.env, TMPDIR: '/tmp' },
        });
        remove();
        oneLine(
          run,
          3,
          /^lab: could not look for Docker leftovers \(they may be there\): permission denied on the Docker socket \/var\/run\/docker\.sock/,
        );
        expect(run.stdout).to.not.include('nothing the lab made is left');
        expect((await labelledObjects(runId)).networks).to.deep.equal([`lab-${runId}`]);
      } finally {
        await network.remove();
      }
    });

    leaves('no engine at all is no error: nothing of it can be left (exit 0)', () => {
      const run = lab(['clean', '--run', `hostile${Date.now().toString(36)}`], { env: { DOCKER_HOST: 'unix:///tmp/lab-no-engine.sock' } });
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stderr).to.match(/^lab: Docker skipped: no Docker engine answers at \/tmp\/lab-no-engine\.sock/m);
      expect(run.stdout).to.match(/^nothing the lab made is left \(run hostile\w+\)$/m);
    });
  });

  describe('lab run refuses up front, before anything starts (exit 2, one line naming the flag)', function () {
    leaves('--report /proc/labx (a recursive mkdir there never returns)', () => {
      const run = lab([...ONE_CASE, '--report', '/proc/labx'], { timeoutMs: 30_000 });
      expect(run.signal, 'hung').to.equal(null);
      oneLine(run, 2, /^lab: --report: \/proc\/labx is under \/proc/);
    });

    leaves('--json onto the scenario file itself: refused, the scenario untouched', () => {
      const work = mkdtempSync(join(dir, 'keep-'));
      mkdirSync(join(work, 'node_modules'));
      symlinkSync(projectRoot, join(work, 'node_modules', 'tcp-limits-lab'));
      copyFileSync(join(projectRoot, 'scenarios/port-range.ts'), join(work, 'keep.ts'));
      const before = readFileSync(join(work, 'keep.ts'), 'utf8');
      const run = lab(['run', 'keep.ts', '--quick', '--case', '1000 ports 40000-40999', '--json', 'keep.ts'], { cwd: work, timeoutMs: 30_000 });
      oneLine(run, 2, /^lab: --json: keep\.ts is the scenario file: writing there would overwrite it$/);
      expect(readFileSync(join(work, 'keep.ts'), 'utf8')).to.equal(before);
    });

    leaves('--json onto a folder, --report onto a file', () => {
      oneLine(lab([...ONE_CASE, '--json', dir]), 2, /^lab: --json: .* is a folder: give a file name$/);
      oneLine(lab([...ONE_CASE, '--report', join(projectRoot, 'package.json')]), 2, /^lab: --report: .*package\.json is a file, not a folder$/);
    });

    leaves('--kernel /etc/passwd: not a kernel (exit 2, not 3)', () => {
      oneLine(lab([...ONE_CASE, '--kernel', '/etc/passwd']), 2, /^lab: --kernel: "\/etc\/passwd" is not a kernel/);
    });

    leaves('a scenario that is a symlink loop says so', () => {
      const a = join(dir, 'loop-a.ts');
      const b = join(dir, 'loop-b.ts');
      if (!existsSync(a)) {
        symlinkSync(b, a);
        symlinkSync(a, b);
      }
      oneLine(lab(['run', a]), 2, /loop-a\.ts: is a symlink loop/);
    });

    leaves('a scenario whose top level never returns: named, within the limit', () => {
      const file = join(dir, 'never-returns.ts');
      copyFileSync(join(projectRoot, fixture('top-level-loop.ts.txt')), file);
      const started = Date.now();
      const run = lab(['run', file], { env: { LAB_LOAD_TIMEOUT_SECONDS: '2' }, timeoutMs: 30_000 });
      expect(run.signal, 'hung').to.equal(null);
      oneLine(run, 2, /never-returns\.ts: did not finish loading within 2 s/);
      expect(Date.now() - started).to.be.below(15_000);
    });

    leaves('a TMPDIR that is not a writable folder: exit 3, one line, before anything', () => {
      oneLine(lab(ONE_CASE, { env: { TMPDIR: join(dir, 'no-such-tmp') } }), 3, /^lab: TMPDIR=.*no-such-tmp is not a writable directory/);
    });
  });
});
