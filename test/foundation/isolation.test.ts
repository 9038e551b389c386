/**
 * Two labs side by side on one engine: each on its own internal network and subnet, correct on its own,
 * unable to reach the other; cleanup of one leaves the other alone. Every probe here targets the lab's own
 * hosts only.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Docker from 'dockerode';
import { containerOf, execIn, lab, labelledObjects, prepareRuntime, runIdIn, startLab, type LabProcess } from '../integration/helpers.ts';

const QUICK_ONE_CLIENT = ['run', 'scenarios/64k-myth.ts', '--quick', '--case', '1 client, default range'];

function serverIpIn(output: string): string {
  const match = /server (198\.\d+\.\d+\.\d+)/.exec(output);
  if (!match) throw new Error(`no server address in:\n${output}`);
  return match[1]!;
}

/** One connect from inside a client container, bounded: 1 connection, 2 s to connect, 5 s in all. */
async function probe(client: Docker.Container, target: string): Promise<{ established: number; errors: Record<string, number> }> {
  const out = await execIn(client, ['labclient', '--targets', target, '--count', '1', '--connect-timeout-ms', '2000', '--deadline', '5']);
  const filled = out.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((l) => l.type === 'filled');
  return { established: filled.established, errors: filled.errors };
}

describe('two labs at the same time', function () {
  let dir: string;
  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-two-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('both run correctly on separate networks and subnets', async () => {
    const [a, b] = await Promise.all(
      ['a', 'b'].map((name) => startLab([...QUICK_ONE_CLIENT.slice(0, 2), '--quick', '--json', join(dir, `${name}.json`)]).exited),
    );
    expect(a!.status, a!.stderr).to.equal(0);
    expect(b!.status, b!.stderr).to.equal(0);
    const [ra, rb] = ['a', 'b'].map((n) => JSON.parse(readFileSync(join(dir, `${n}.json`), 'utf8')));
    expect(ra.runId).to.not.equal(rb.runId);
    expect(ra.cases[0].subnet).to.not.equal(rb.cases[0].subnet);
    expect(ra.pass && rb.pass).to.equal(true);
    expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
  });

  describe('held side by side after their servers started', () => {
    let a: LabProcess;
    let b: LabProcess;
    let idA: string;
    let idB: string;

    before(async () => {
      a = startLab(QUICK_ONE_CLIENT, { LAB_HOLD_PHASE: 'observe' });
      b = startLab(QUICK_ONE_CLIENT, { LAB_HOLD_PHASE: 'observe' });
      await Promise.all([a.waitFor(/holding before observe/), b.waitFor(/holding before observe/)]);
      [idA, idB] = [runIdIn(a.output()), runIdIn(b.output())];
    });

    after(async () => {
      a.signal('SIGINT');
      b.signal('SIGINT');
      await Promise.all([a.exited, b.exited]);
      lab(['clean']);
    });

    it('each network is internal and a client has no default route', async () => {
      const docker = new Docker();
      for (const id of [idA, idB]) {
        const network = await docker.getNetwork(`lab-${id}`).inspect();
        expect(network.Internal).to.equal(true);
        const routes = await execIn(await containerOf(id, 'client-1'), ['ip', 'route']);
        expect(routes.stdout).to.match(/198\.\d+\.\d+\.0\/24 dev eth0/);
        expect(routes.stdout).to.not.match(/^default/m);
      }
    });

    it("a client of one lab reaches its own server but not the other lab's", async () => {
      const clientA = await containerOf(idA, 'client-1');
      const own = await probe(clientA, `${serverIpIn(a.output())}:8080`);
      expect(own.established).to.equal(1);
      const other = await probe(clientA, `${serverIpIn(b.output())}:8080`);
      expect(other.established).to.equal(0);
      expect(Object.keys(other.errors)).to.have.length.greaterThan(0);
      expect(Object.keys(other.errors)[0]).to.be.oneOf(['ENETUNREACH', 'ETIMEDOUT', 'EHOSTUNREACH']);
    });

    it('no container runs privileged or with added capabilities', async () => {
      for (const id of [idA, idB]) {
        for (const host of ['server', 'client-1']) {
          const info = await (await containerOf(id, host)).inspect();
          expect(info.HostConfig.Privileged).to.equal(false);
          expect(info.HostConfig.CapAdd ?? []).to.deep.equal([]);
        }
      }
    });

    it('lab clean --run <id> leaves a live run alone; --force removes that run only', async () => {
      const spared = lab(['clean', '--run', idA]);
      expect(spared.status).to.equal(0);
      expect(spared.stderr).to.include(`left run ${idA} alone: its lab is still running`);
      expect((await labelledObjects(idA)).networks).to.deep.equal([`lab-${idA}`]);
      const clean = lab(['clean', '--run', idA, '--force']);
      expect(clean.status).to.equal(0);
      expect(clean.stdout).to.include(`network lab-${idA}`);
      expect(await labelledObjects(idA)).to.deep.equal({ containers: [], networks: [] });
      const other = await labelledObjects(idB);
      expect(other.containers).to.have.length(2);
      expect(other.networks).to.deep.equal([`lab-${idB}`]);
    });
  });
});
