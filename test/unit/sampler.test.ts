import { expect } from 'chai';
import { Sampler } from '../../lab/collect/sampler.ts';
import type { ExecResult, Host, RunningProgram } from '../../lab/runtime/runtime.ts';

/** A host whose sampler loop never ends by itself: what stop() then does, command by command. */
function stuckHost() {
  const execs: string[][] = [];
  const signals: string[] = [];
  const program: RunningProgram = { exited: new Promise<number>(() => {}), signal: async (s) => void signals.push(s), stderr: () => '' };
  const host = {
    plan: { name: 'server' },
    exec: async (argv: string[]): Promise<ExecResult> => (execs.push(argv), { exitCode: 0, stdout: '', stderr: '' }),
    spawn: async () => program,
  } as unknown as Host;
  return { host, execs, signals };
}

describe('the sampler loop', () => {
  it('leaves its pid beside the stop file, and removes both when it ends', () => {
    const script = Sampler.script({ stopFile: '/tmp/s.stop', maxReadings: 3 });
    expect(script).to.match(/^echo \$\$ > \/tmp\/s\.stop\.pid;/);
    expect(script).to.match(/rm -f \/tmp\/s\.stop \/tmp\/s\.stop\.pid$/);
  });

  it('that does not stop is killed alone, by its pid: no pkill of every shell in the host', async () => {
    const { host, execs, signals } = stuckHost();
    const sampler = new Sampler(
      host,
      () => 0,
      () => {},
      { stopFile: '/tmp/s.stop', maxReadings: 3, stopWaitMs: 50 },
    );
    sampler.start();
    await sampler.stop();
    expect(execs[0]).to.deep.equal(['touch', '/tmp/s.stop']);
    expect(execs[1]!.join(' ')).to.include('kill -KILL "$(cat /tmp/s.stop.pid)"');
    expect(signals).to.deep.equal([]);
  });
});
