/**
 * The checks on the machine the hosts run on (conntrack, memory, fs.file-max) on a fake runtime with a
 * machine of its own: every one that can refuse runs before any of them changes the machine, so a case the
 * memory check refuses never raised nf_conntrack_max first (50 clients x 1,000,000 connections once raised it
 * to 55,016,505, put it back, then was refused for memory); and the refusal advises only the flags not given.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { EnvironmentError } from '../../lab/errors.ts';
import { runScenario, type ScenarioRunOptions } from '../../lab/run/scenario-run.ts';
import type { ConnectionTracking, ExecResult, MachineShell, RaisableLimit } from '../../lab/runtime/runtime.ts';
import { defineScenario } from '../../lab/scenario/define.ts';
import { atLeast } from '../../lab/scenario/theory/prediction.ts';
import { FakeRuntime, type FakeSession } from '../fake/fake-runtime.ts';

const GIB = 1024 ** 3;

/** A machine: 24 GiB, `availableGiB` of it available; a conntrack table of 262,144, tracked; fs.file-max as given. */
interface Machine {
  availableGiB: number;
  conntrackMax?: number;
  fileMax?: number;
}

/** A fake runtime whose sessions have a machine to read and raise limits on; every raise lands in the journal. */
class MachineFake extends FakeRuntime {
  constructor(private readonly machine: Machine) {
    super();
  }

  override open(runId: string): FakeSession {
    const session = super.open(runId);
    const journal = this.journal;
    const { availableGiB, conntrackMax = 262_144, fileMax = 2_500_000 } = this.machine;
    const answers: Record<string, string> = {
      'cat /proc/meminfo': `MemTotal:       ${24 * 1024 * 1024} kB\nMemAvailable:   ${Math.round(availableGiB * 1024 * 1024)} kB\n`,
      'cat /proc/sys/fs/file-nr': `5000\t0\t${fileMax}\n`,
      // What one connection costs: both ends' socket, inode, file, dentry and epoll entry, and conntrack's.
      [`sh -c awk`]: 'TCP 100 2432\nsock_inode_cache 100 832\nfilp 100 256\ndentry 100 192\neventpoll_epi 100 128\nnf_conntrack 100 320\n',
    };
    const shell: MachineShell = async (argv: string[]): Promise<ExecResult> => {
      const key = argv[0] === 'sh' ? `sh -c ${(argv[2] ?? '').split(' ')[0]}` : argv.join(' ');
      const stdout = answers[key];
      return stdout === undefined ? { exitCode: 1, stdout: '', stderr: 'fake machine: not here' } : { exitCode: 0, stdout, stderr: '' };
    };
    const connectionTracking: ConnectionTracking = {
      read: async () => ({ tracked: true, max: conntrackMax, count: 100 }),
      raise: async (max, log) => {
        journal.push(`raise nf_conntrack_max ${max}`);
        log(`raised the host's nf_conntrack_max from ${conntrackMax} to ${max} for this run (--raise-conntrack)`);
      },
      exempt: async (subnet) => void journal.push(`exempt ${subnet}`),
      reclaim: async () => [],
    };
    const limit: RaisableLimit = {
      lasting: async () => fileMax,
      raise: async (value) => void journal.push(`raise fs.file-max ${value}`),
      reclaim: async () => [],
    };
    return Object.assign(session, { machineShell: () => shell, connectionTracking, fileMax: limit });
  }
}

/** `clients` clients of `connections` each, to four server ports with the widest range the kernel gives. */
function flood(clients: number, connections: number) {
  return defineScenario({
    name: 'machine-checks',
    claim: 'a case this machine cannot hold is refused before anything changes on it',
    server: { ports: [9000, 9001, 9002, 9003], workers: 4 },
    client: { connections, sysctls: { 'net.ipv4.ip_local_port_range': '1024 65535' } },
    expect: [{ claim: 'something is held', subject: 'server', metric: 'estab', predict: () => atLeast(1) }],
    cases: [{ name: `${clients} x ${connections}`, clients }],
  });
}

async function refusal(
  fake: FakeRuntime,
  clients: number,
  connections: number,
  options: Partial<ScenarioRunOptions>,
  said: string[],
): Promise<EnvironmentError> {
  try {
    await runScenario(
      fake,
      flood(clients, connections),
      { file: 'test/unit/machine-checks.ts', quick: false, ...options },
      { log: (line) => void said.push(line) },
    );
  } catch (error) {
    expect(error).to.be.instanceOf(EnvironmentError);
    return error as EnvironmentError;
  }
  throw new Error('the run was not refused');
}

describe('the checks on the machine: every refusal before any change', () => {
  let cache: string;
  let saved: string | undefined;
  before(() => {
    // No connection cost measured on this "machine": the theory's most, from the fake slabinfo.
    saved = process.env.XDG_CACHE_HOME;
    cache = mkdtempSync(join(tmpdir(), 'lab-machine-checks-'));
    process.env.XDG_CACHE_HOME = cache;
  });
  after(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    rmSync(cache, { recursive: true, force: true });
  });

  const changes = (fake: FakeRuntime) => fake.journal.filter((e) => /^(raise|exempt|createNetwork|startHosts|prepare)/.test(e));

  it('--raise-conntrack, 50 x 1,000,000 connections: refused for memory (exit 3) with nf_conntrack_max never raised', async () => {
    const fake = new MachineFake({ availableGiB: 22 });
    const said: string[] = [];
    const error = await refusal(fake, 50, 1_000_000, { raiseConntrack: true }, said);
    expect(error.message).to.match(/^not enough memory: case 1 \(50 x 1000000\): 50,000,000 connections x /);
    expect(changes(fake)).to.deep.equal([]);
    expect(said.join('\n')).to.not.match(/raised/);
  });

  it('--raise-conntrack with --raise-file-max, a case that fits in memory but not in fs.file-max: refused, nothing raised', async () => {
    const fake = new MachineFake({ availableGiB: 22, conntrackMax: 1000, fileMax: 100_000 });
    const error = await refusal(fake, 1, 60_000, { raiseConntrack: true }, []);
    expect(error.message).to.match(/open files on this machine .* but fs\.file-max is 100,000/);
    expect(changes(fake)).to.deep.equal([]);
  });

  it('once every check has passed, the raises are made, conntrack first, before the images and the network', async () => {
    const fake = new MachineFake({ availableGiB: 22, conntrackMax: 1000, fileMax: 100_000 });
    await runScenario(fake, flood(1, 60_000), { file: 'test/unit/machine-checks.ts', quick: false, raiseConntrack: true, raiseFileMax: true });
    const made = changes(fake);
    expect(made.slice(0, 3)).to.deep.equal(['raise nf_conntrack_max 66110', 'raise fs.file-max 147384', 'prepare']);
  });

  describe('the memory refusal advises only what was not given', () => {
    const advice = async (options: Partial<ScenarioRunOptions>) =>
      (await refusal(new MachineFake({ availableGiB: 22 }), 50, 1_000_000, options, [])).hint ?? '';

    it('without flags: fewer connections, --notrack, --until-memory-floor', async () => {
      const hint = await advice({});
      expect(hint).to.include('--notrack');
      expect(hint).to.include('--until-memory-floor');
    });

    it('with --notrack: not --notrack again', async () => {
      const hint = await advice({ notrack: true });
      expect(hint).to.not.include('--notrack');
      expect(hint).to.include('--until-memory-floor');
      expect(hint).to.include('fewer connections');
    });
  });
});
