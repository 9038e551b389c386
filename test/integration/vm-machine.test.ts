import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { labQemus } from './helpers.ts';
import { execOn } from '../../lab/runtime/netns/machine.ts';
import { bootVm, removeVms, type VmMachine, vmStateDir } from '../../lab/runtime/vm/vm-machine.ts';

const log = (line: string) => console.log(`      (vm) ${line}`);

const stateFiles = (runId: string) => (existsSync(vmStateDir()) ? readdirSync(vmStateDir()).filter((f) => f.startsWith(`${runId}-`)) : []);

describe('VM machine (Debian 6.1 under qemu, driven through its agent)', function () {
  const runId = `test${randomBytes(3).toString('hex')}`;
  let vm: VmMachine;

  before(async function () {
    vm = await bootVm({ kernel: '6.1', runId, log });
  });

  after(async function () {
    await vm?.close();
    await removeVms(runId);
  });

  it('runs the Debian 6.1 kernel', async function () {
    expect(vm.kernelRelease).to.match(/^6\.1\./);
    const { exitCode, stdout } = await execOn(vm, ['uname', '-r']);
    expect(exitCode).to.equal(0);
    expect(stdout.trim()).to.equal(vm.kernelRelease);
  });

  it('brings large outputs through intact, on stdout and stderr of processes running at once', async function () {
    const lines = 30_000; // 10 bytes each: 300 KB
    const expected = Array.from({ length: lines }, (_, i) => `${String(i).padStart(9, '0')}\n`).join('');
    const script = `BEGIN { for (i = 0; i < ${lines}; i++) printf "%09d\\n", i }`;
    const [out, err] = await Promise.all([execOn(vm, ['awk', script]), execOn(vm, ['sh', '-c', `awk '${script}' >&2`])]);
    expect(out.exitCode).to.equal(0);
    expect(out.stdout.length).to.equal(expected.length);
    expect(out.stdout === expected).to.equal(true);
    expect(err.stderr === expected).to.equal(true);
    expect(err.stdout).to.equal('');
  });

  it('kills a process group with a signal, and reports 128 + the signal', async function () {
    const sleeper = await vm.spawn(
      ['sleep', '100'],
      () => {},
      () => {},
    );
    await sleeper.kill('TERM');
    expect(await sleeper.exited).to.equal(128 + 15);
    const { stdout } = await execOn(vm, ['sh', '-c', 'pgrep -x sleep || true']);
    expect(stdout).to.equal('');
  });

  it('reports exit codes, and refuses to start what does not exist', async function () {
    expect((await execOn(vm, ['sh', '-c', 'exit 3'])).exitCode).to.equal(3);
    let error: unknown;
    await vm
      .spawn(
        ['no-such-program'],
        () => {},
        () => {},
      )
      .catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/no-such-program: No such file or directory/);
  });

  it('finds the lab programs on PATH, in programDir', async function () {
    expect(vm.programDir).to.equal('/usr/local/bin');
    const { stdout } = await execOn(vm, ['sh', '-c', 'for p in labserver labclient labchurn; do command -v $p; done']);
    expect(stdout.trim().split('\n')).to.deep.equal(['/usr/local/bin/labserver', '/usr/local/bin/labclient', '/usr/local/bin/labchurn']);
  });

  it('creates a namespace and a veth pair into it, and a bridge', async function () {
    const steps = [
      ['ip', 'netns', 'add', 'x'],
      ['ip', 'link', 'add', 'br0', 'type', 'bridge'],
      ['ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'],
      ['ip', 'link', 'set', 'v0', 'master', 'br0'],
      ['ip', 'link', 'set', 'v1', 'netns', 'x'],
      ['ip', 'netns', 'exec', 'x', 'ip', 'addr', 'add', '10.9.0.2/24', 'dev', 'v1'],
      ['ip', 'netns', 'exec', 'x', 'ip', 'link', 'set', 'v1', 'up'],
    ];
    for (const argv of steps) {
      const result = await execOn(vm, argv);
      expect(result, argv.join(' ')).to.deep.include({ exitCode: 0, stderr: '' });
    }
    const { stdout } = await execOn(vm, ['ip', 'netns', 'exec', 'x', 'ip', '-br', 'addr', 'show', 'v1']);
    expect(stdout).to.contain('10.9.0.2/24');
  });

  it('stops qemu and removes its files on close', async function () {
    expect(labQemus(runId)).to.have.length(1);
    await vm.close();
    expect(labQemus(runId)).to.deep.equal([]);
    expect(stateFiles(runId)).to.deep.equal([]);
    let error: unknown;
    await vm
      .spawn(
        ['true'],
        () => {},
        () => {},
      )
      .catch((e: unknown) => (error = e));
    expect(String(error)).to.match(/cannot start true/);
  });

  it('removeVms kills a VM that was left running, and removes its files', async function () {
    const leftRunId = `${runId}left`;
    const left = await bootVm({ kernel: '6.1', runId: leftRunId, log });
    // Started for sure before the kill: killing qemu while the agent still starts it is another race.
    const running = await left.spawn(
      ['sleep', '100'],
      () => {},
      () => {},
    );
    const removed = await removeVms(leftRunId);
    expect(removed).to.have.length(1);
    expect(removed[0]).to.match(new RegExp(`^VM lab-${leftRunId} \\(qemu pid \\d+\\)$`));
    expect(labQemus(leftRunId)).to.deep.equal([]);
    expect(stateFiles(leftRunId)).to.deep.equal([]);
    expect(await running.exited).to.equal(255);
    await left.close();
  });
});
