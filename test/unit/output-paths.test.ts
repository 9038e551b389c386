/** Output paths are checked before anything starts: one function (lab/cli/output-paths.ts) for every command. */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { spawnAsNobody } from '../fixtures/as-nobody.ts';
import { checkOutputPath, type OutputPath } from '../../lab/cli/output-paths.ts';
import { InputError } from '../../lab/errors.ts';
import { HOLD_PING, KERNEL_61, KERNEL_618 } from '../fixtures/results/fixtures.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

function refusal(output: OutputPath): InputError {
  try {
    checkOutputPath(output);
  } catch (error) {
    expect(error).to.be.instanceOf(InputError);
    return error as InputError;
  }
  throw new Error(`${output.flag} ${output.path} was not refused`);
}

describe('output paths, checked before anything starts', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'lab-outputs-'));
    writeFileSync(join(dir, 'scenario.ts'), 'export default {};\n');
    writeFileSync(join(dir, 'a-file'), 'x');
    mkdirSync(join(dir, 'a-folder'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses /proc, /sys and /dev, naming the flag', () => {
    expect(refusal({ flag: '--report', path: '/proc/labx', kind: 'dir' }).message).to.equal(
      '--report: /proc/labx is under /proc, a kernel or device file system: give a path on disk',
    );
    expect(refusal({ flag: '--out', path: '/sys/x/y', kind: 'dir' }).message).to.match(/^--out: \/sys\/x\/y is under \/sys/);
    expect(refusal({ flag: '--json', path: '/dev/null', kind: 'file' }).message).to.match(/^--json: \/dev\/null is under \/dev/);
    expect(refusal({ flag: '--markdown', path: '/proc', kind: 'file' }).message).to.match(/is under \/proc/);
  });

  it('refuses them through a symlink too', () => {
    const link = join(dir, 'to-proc');
    symlinkSync('/proc', link);
    expect(refusal({ flag: '--report', path: join(link, 'labx'), kind: 'dir' }).message).to.include('is under /proc');
  });

  it('refuses a file option that names an existing folder', () => {
    expect(refusal({ flag: '--json', path: join(dir, 'a-folder'), kind: 'file' }).message).to.match(
      /^--json: .*a-folder is a folder: give a file name$/,
    );
  });

  it('refuses a folder option that names a file, or a path through a file', () => {
    expect(refusal({ flag: '--report', path: join(dir, 'a-file'), kind: 'dir' }).message).to.match(/a-file is a file, not a folder$/);
    expect(refusal({ flag: '--out', path: join(dir, 'a-file', 'sub', 'deeper'), kind: 'dir' }).message).to.match(
      /cannot be made: .*a-file is a file, not a folder$/,
    );
  });

  it('refuses --json onto the scenario file, however it is spelt', () => {
    const scenario = join(dir, 'scenario.ts');
    const inputs = [{ path: scenario, what: 'the scenario file' }];
    expect(refusal({ flag: '--json', path: scenario, kind: 'file', inputs }).message).to.match(
      /^--json: .*scenario\.ts is the scenario file: writing there would overwrite it$/,
    );
    expect(refusal({ flag: '--json', path: relative(process.cwd(), scenario), kind: 'file', inputs }).message).to.include('is the scenario file');
    const link = join(dir, 'link.json');
    symlinkSync(scenario, link);
    expect(refusal({ flag: '--json', path: link, kind: 'file', inputs }).message).to.include('is the scenario file');
  });

  it('accepts a new file or folder under a writable folder, and an existing one, and returns it resolved', () => {
    expect(checkOutputPath({ flag: '--json', path: join(dir, 'new', 'deep', 'r.json'), kind: 'file' })).to.equal(join(dir, 'new', 'deep', 'r.json'));
    expect(checkOutputPath({ flag: '--report', path: join(dir, 'a-folder'), kind: 'dir' })).to.equal(join(dir, 'a-folder'));
    expect(
      checkOutputPath({
        flag: '--json',
        path: join(dir, 'a-file'),
        kind: 'file',
        inputs: [{ path: join(dir, 'scenario.ts'), what: 'the scenario file' }],
      }),
    ).to.equal(join(dir, 'a-file'));
  });

  it('refuses a folder this user cannot write to', () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    const wanted = /locked is a folder this user cannot write to$/;
    if (process.getuid?.() !== 0) return expect(refusal({ flag: '--report', path: join(locked, 'x'), kind: 'dir' }).message).to.match(wanted);
    // Root writes anywhere permissions say: the same check runs as nobody, for whom it is read-only.
    chmodSync(dir, 0o755);
    const checkoutAt = join(dir, 'checkout');
    mkdirSync(checkoutAt, { mode: 0o755 });
    const check = `import { checkOutputPath } from ${JSON.stringify(join(checkoutAt, 'lab/cli/output-paths.ts'))};
try { checkOutputPath({ flag: '--report', path: ${JSON.stringify(join(locked, 'x'))}, kind: 'dir' }); console.log('accepted'); } catch (e) { console.log(e.message); }`;
    const asNobody = spawnAsNobody({ checkoutAt, argv: [process.execPath, '--import', 'tsx', '--input-type=module', '-e', check] });
    expect(asNobody.stdout.trim(), asNobody.stderr).to.match(wanted);
  });
});

describe('every command that writes checks its paths first: exit 2, one line naming the flag, no hang', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'lab-outputs-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const lab = (args: string[]) => spawnSync(process.execPath, ['bin/lab.js', ...args], { cwd: projectRoot, encoding: 'utf8', timeout: 30_000 });
  const refused = (args: string[], flag: string) => {
    const run = lab(args);
    expect(run.signal, `hung: lab ${args.join(' ')}`).to.equal(null);
    expect(run.status, run.stderr).to.equal(2);
    expect(run.stderr.trim().split('\n'), run.stderr).to.have.length(1);
    expect(run.stderr).to.match(new RegExp(`^lab: ${flag}: `));
    expect(run.stderr).to.not.include('    at ');
  };

  it('lab report --out /proc/x', () => refused(['report', KERNEL_61, '--out', '/proc/x'], '--out'));
  it('lab report --out onto a file', () => {
    writeFileSync(join(dir, 'plain'), '');
    refused(['report', KERNEL_61, '--out', join(dir, 'plain')], '--out');
  });
  it('lab compare --markdown onto a folder, and onto a compared file', () => {
    refused(['compare', KERNEL_61, KERNEL_618, '--markdown', dir], '--markdown');
    const copy = join(dir, 'copy.json');
    copyFileSync(KERNEL_618, copy);
    refused(['compare', KERNEL_61, copy, '--markdown', copy], '--markdown');
  });
  it('lab matrix --from <dir> --out /proc/x', () => {
    const from = join(dir, 'from');
    mkdirSync(from);
    copyFileSync(KERNEL_61, join(from, 'a.json'));
    refused(['matrix', '--from', from, '--out', '/proc/x'], '--out');
  });

  it('lab compare of two different scenarios: refused, naming both', () => {
    const run = lab(['compare', KERNEL_61, HOLD_PING]);
    expect(run.status, run.stderr + run.stdout).to.equal(2);
    expect(run.stderr.trim().split('\n')).to.have.length(1);
    expect(run.stderr).to.match(
      /^lab: .*hold-ping-quick-6\.18\.44\.json: is a run of scenario "hold-ping", .*64k-myth-6\.1\.0-31\.json of "64k-myth": compare runs of one scenario\n$/,
    );
    expect(run.stdout).to.equal('');
  });
});
