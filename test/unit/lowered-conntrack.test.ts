/**
 * A case that lowers the machine's nf_conntrack_max (lab/run/lowered-conntrack.ts), against a table of its
 * own: it waits for the machine alone (runs on other kernels do not count) and refuses in one line when that
 * never comes, refuses a machine whose namespaces track too much, exempts the case's traffic before it
 * lowers, puts everything back (once, the exemption even where the ceiling failed, and itself on Ctrl-C), and
 * puts the ceiling back at once when a run starts meanwhile, the case's rows then INVALID.
 */
import { expect } from 'chai';
import type { ExpectationResult } from '../../lab/results/results.ts';
import type { ActiveRun } from '../../lab/run-ledger.ts';
import type { ConnectionTracking, NamespaceCount } from '../../lab/runtime/runtime.ts';

const { lowerForCase, runsOnThisKernel, crowdedNamespaces, aloneWaitSeconds, putBackEarly } = await import('../../lab/run/lowered-conntrack.ts');
const { EnvironmentError, Interrupted } = await import('../../lab/errors.ts');

const BOOT = 'boot-here';
const machine = (count: number): NamespaceCount => ({ namespace: 'net:[1]', machine: true, count, pid: 1, command: 'systemd' });

/** A machine's table: its ceiling, what each step did, in order. */
function table(counts: NamespaceCount[] = [machine(200)]) {
  const steps: string[] = [];
  let max = 262144;
  const tracking: ConnectionTracking = {
    read: async () => ({ tracked: true, max, count: 0 }),
    raise: async () => {},
    reclaim: async () => [],
    exempt: async (subnet) => void steps.push(`exempt ${subnet}`),
    endExemption: async () => void steps.push('end exemption'),
    lower: async (value) => {
      const before = max;
      max = value;
      steps.push(`lower to ${value}`);
      return async () => {
        if (max === before) return;
        max = before;
        steps.push('restore');
      };
    },
    namespaceCounts: async () => counts,
  };
  return { tracking, steps, max: () => max };
}

function request(runs: () => Promise<ActiveRun[]>, extra: Partial<Parameters<typeof lowerForCase>[1]> = {}) {
  const lines: string[] = [];
  return {
    lines,
    request: {
      runId: 'me',
      max: 1500,
      label: 'case 8 (small table)',
      subnet: '198.18.0.0/24',
      exemptAlready: false,
      bootId: BOOT,
      log: (line: string) => void lines.push(line),
      runs,
      waitSeconds: 0,
      ...extra,
    },
  };
}

describe("lowering the machine's conntrack ceiling for one case", () => {
  it('counts the runs that share this kernel: live or just ended, on it or not saying where; not those on a VM', () => {
    const runs: ActiveRun[] = [
      { runId: 'me' },
      { runId: 'bench-1' },
      { runId: 'vm-run', kernels: ['boot-of-a-vm'] },
      { runId: 'here', kernels: [BOOT] },
      { runId: 'ended', endedAt: Date.now() },
    ];
    expect(runsOnThisKernel(runs, 'me', BOOT)).to.deep.equal(['bench-1', 'here', 'ended']);
    expect(runsOnThisKernel(runs, 'me', undefined), 'this kernel unknown: every run counts').to.deep.equal(['bench-1', 'vm-run', 'here', 'ended']);
  });

  it('names the namespaces without room under the lowered ceiling (half of it)', () => {
    const counts = [machine(749), { namespace: 'net:[2]', machine: false, count: 750, pid: 42, command: 'sleep' }];
    expect(crowdedNamespaces(counts, 1500)).to.deep.equal(['the namespace of pid 42 (sleep) tracks 750']);
    expect(crowdedNamespaces([machine(900)], 1500)).to.deep.equal(["the machine's own namespace tracks 900"]);
  });

  it('waits for the machine alone, saying why once, and refuses in one line when it never comes (exit 3), changing nothing', async () => {
    const { tracking, steps } = table();
    const { request: r, lines } = request(async () => [{ runId: 'bench-1' }, { runId: 'vm-run', kernels: ['other'] }], { waitSeconds: 2 });
    const error = await lowerForCase(tracking, r).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).to.be.instanceOf(EnvironmentError);
    expect(error!.message).to.equal(
      'case 8 (small table) needs the machine alone to lower nf_conntrack_max (machine-wide) but run(s) bench-1 stayed live on this kernel for 2 s',
    );
    expect(lines).to.deep.equal([
      'waiting up to 2 s for the machine alone: case 8 (small table) lowers nf_conntrack_max, machine-wide; run(s) bench-1 live on this kernel',
    ]);
    expect(steps).to.deep.equal([]);
  });

  it('goes on once the other run has ended', async () => {
    const { tracking, steps } = table();
    let looks = 0;
    const { request: r } = request(async () => (looks++ < 2 ? [{ runId: 'bench-1' }] : []), { waitSeconds: 30 });
    const lowered = await lowerForCase(tracking, r);
    expect(looks).to.equal(3);
    await lowered.putBack();
    expect(steps).to.deep.equal(['exempt 198.18.0.0/24', 'lower to 1500', 'restore', 'end exemption']);
  });

  it('refuses where a namespace tracks half the lowered ceiling or more, changing nothing', async () => {
    const { tracking, steps } = table([machine(200), { namespace: 'net:[9]', machine: false, count: 1200, pid: 77, command: 'sleep' }]);
    const error = await lowerForCase(tracking, request(async () => []).request).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error!.message).to.equal(
      "case 8 (small table) would lower the machine's nf_conntrack_max to 1500 (every namespace's ceiling) but the namespace of pid 77 (sleep) tracks 1200: each must be under 750",
    );
    expect(steps).to.deep.equal([]);
  });

  it('exempts the case before lowering, and leaves a run-long exemption (--notrack) in place', async () => {
    const { tracking, steps, max } = table();
    const lowered = await lowerForCase(tracking, request(async () => [], { exemptAlready: true }).request);
    expect(max()).to.equal(1500);
    await lowered.putBack();
    expect(max()).to.equal(262144);
    expect(steps).to.deep.equal(['lower to 1500', 'restore']);
  });

  it('puts the ceiling back at once when a run starts on this kernel meanwhile, and says why', async () => {
    const { tracking, steps, max } = table();
    let started = false;
    const { request: r, lines } = request(async () => (started ? [{ runId: 'newcomer' }] : []));
    const lowered = await lowerForCase(tracking, r);
    started = true;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(max()).to.equal(262144);
    expect(lines).to.include('putting nf_conntrack_max back before case 8 (small table) ends: run(s) newcomer started on this kernel');
    expect(lowered.putBackEarly).to.equal('run(s) newcomer started on this kernel');
    await lowered.putBack();
    expect(steps).to.deep.equal(['exempt 198.18.0.0/24', 'lower to 1500', 'restore', 'end exemption']);
  });

  it('puts back once however often asked, and ends the exemption even where putting the ceiling back failed', async () => {
    const { tracking, steps } = table();
    let restores = 0;
    const failing: ConnectionTracking = {
      ...tracking,
      lower: async (value, log) => {
        await tracking.lower!(value, log);
        return async () => {
          restores++;
          throw new Error('EACCES');
        };
      },
    };
    const lowered = await lowerForCase(failing, request(async () => []).request);
    expect(lowered.putBackEarly).to.equal(undefined);
    const [first, second] = await Promise.allSettled([lowered.putBack(), lowered.putBack()]);
    expect([first.status, second.status]).to.deep.equal(['rejected', 'rejected']);
    expect(restores).to.equal(1);
    expect(steps).to.deep.equal(['exempt 198.18.0.0/24', 'lower to 1500', 'end exemption']);
  });

  it('ends the exemption where the lowering itself fails', async () => {
    const { tracking, steps } = table();
    const refusing: ConnectionTracking = {
      ...tracking,
      lower: async () => {
        throw new EnvironmentError('cannot lower nf_conntrack_max to 1500: lab run(s) other hold it set (262144 now) and may need more');
      },
    };
    const error = await lowerForCase(refusing, request(async () => []).request).catch((e: Error) => e);
    expect((error as Error).message).to.match(/^cannot lower nf_conntrack_max/);
    expect(steps).to.deep.equal(['exempt 198.18.0.0/24', 'end exemption']);
  });

  it('interrupted (Ctrl-C) while it lowers: puts everything back itself, and the case never starts', async () => {
    const { tracking, steps, max } = table();
    const abort = new AbortController();
    const interrupting: ConnectionTracking = {
      ...tracking,
      lower: async (value, log) => {
        const restore = await tracking.lower!(value, log);
        abort.abort('SIGINT');
        return restore;
      },
    };
    const error = await lowerForCase(interrupting, request(async () => [], { signal: abort.signal }).request).catch((e: Error) => e);
    expect(error).to.be.instanceOf(Interrupted);
    expect(max()).to.equal(262144);
    expect(steps).to.deep.equal(['exempt 198.18.0.0/24', 'lower to 1500', 'restore', 'end exemption']);
  });

  it('a case whose ceiling went back early: its rows INVALID, saying why; rows that do not apply stay; none where it stayed lowered', () => {
    const row = (extra: Partial<ExpectationResult> = {}): ExpectationResult => ({
      claim: 'full',
      subject: 'middle',
      host: 'gateway',
      metric: 'conntrack.count',
      predicted: { min: 1500, max: 1500 },
      measured: 1500,
      pass: true,
      ...extra,
    });
    const rows = [row(), row({ notApplicable: 'not on this runtime', pass: true })];
    expect(putBackEarly(rows, undefined)).to.equal(rows);
    const judged = putBackEarly(rows, 'run(s) newcomer started on this kernel');
    expect(judged[0]).to.deep.include({
      pass: false,
      invalid: "nf_conntrack_max was put back before the case's figures were judged (run(s) newcomer started on this kernel)",
      measured: 1500,
    });
    expect(judged[1]).to.equal(rows[1]);
  });

  it('a runtime that cannot lower it is refused', async () => {
    const { tracking } = table();
    const { lower: _lower, ...without } = tracking;
    const error = await lowerForCase(without, request(async () => []).request).catch((e: Error) => e);
    expect((error as Error).message).to.equal("case 8 (small table) needs the machine's nf_conntrack_max lowered, which this runtime cannot do");
  });

  it('waits 600 s by default; LAB_ALONE_WAIT_SECONDS changes it', () => {
    expect(aloneWaitSeconds({})).to.equal(600);
    expect(aloneWaitSeconds({ LAB_ALONE_WAIT_SECONDS: '5' })).to.equal(5);
    expect(aloneWaitSeconds({ LAB_ALONE_WAIT_SECONDS: 'soon' })).to.equal(600);
  });
});
