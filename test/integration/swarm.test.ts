/**
 * The scenarios across the nodes of a real Docker Swarm: three engines on this machine (lab local-swarm),
 * the server on one node, the clients on the others, over an internal attachable overlay. The kernel's
 * figures must be the exact ones the theory predicts, as on one engine, and nothing of the run may be left
 * on any node.
 */
import { readFileSync, rmSync } from 'node:fs';
import { expect } from 'chai';
import Docker from 'dockerode';
import { localNode } from '../../lab/runtime/swarm/local-swarm.ts';
import { lab, prepareRuntime, startLab } from './helpers.ts';

const nodes = [1, 2, 3].map(localNode);
const manager = { DOCKER_HOST: `unix://${nodes[0]!.socket}` };

async function labelledOnNodes(): Promise<string[]> {
  const filters = JSON.stringify({ label: ['lab.run'] });
  const found = await Promise.all(
    nodes.map(async (n) => {
      const docker = new Docker({ socketPath: n.socket });
      const containers = await docker.listContainers({ all: true, filters });
      const networks = await docker.listNetworks({ filters });
      return [...containers.map((c) => `${n.name} ${c.Names[0]}`), ...networks.map((x) => `${n.name} ${x.Name}`)];
    }),
  );
  return found.flat();
}

describe('scenarios across the nodes of a Docker Swarm (--swarm)', function () {
  before(function () {
    this.timeout(300_000);
    return prepareRuntime().then(() => {
      const up = lab(['local-swarm', 'up', '--nodes', '3']);
      expect(up.status, up.stderr + up.stdout).to.equal(0);
    });
  });
  after(function () {
    this.timeout(120_000);
    lab(['clean'], manager);
    lab(['local-swarm', 'down']);
  });

  it('a lab SIGKILLed mid-run leaves its containers on several nodes: lab clean removes them from every node, and the overlay', async () => {
    const run = startLab(['run', 'scenarios/64k-myth.ts', '--quick', '--swarm', '--case', '4 clients, default range'], { ...manager, LAB_HOLD_PHASE: 'flood' });
    await run.waitFor(/holding before flood/, 180_000);
    const left = await labelledOnNodes();
    expect(new Set(left.map((l) => l.split(' ')[0])), 'hosts and anchors on every node').to.deep.equal(new Set(['node1', 'node2', 'node3']));
    run.signal('SIGKILL');
    await run.exited;
    const clean = lab(['clean'], manager);
    expect(clean.status, clean.stderr).to.equal(0);
    expect(clean.stdout + clean.stderr).to.match(/on node2/);
    expect(await labelledOnNodes()).to.deep.equal([]);
  });

  for (const scenario of ['64k-myth', 'port-range']) {
    it(`${scenario} --quick: the server on node1, the clients round-robin on the others, every exact figure as on one engine, nothing left on any node`, async () => {
      const json = `/tmp/lab-swarm-${scenario}.json`;
      const result = lab(['run', `scenarios/${scenario}.ts`, '--quick', '--swarm', '--json', json], manager);
      expect(result.status, result.stdout.slice(-3000) + result.stderr).to.equal(0);
      expect(result.stdout + result.stderr).to.include('placement: server on node1, clients on node2, node3, round-robin');
      const results = JSON.parse(readFileSync(json, 'utf8')) as { environment: { runtime: string }; cases: Array<{ expectations: Array<{ pass: boolean; verdict?: string }> }> };
      rmSync(json, { force: true });
      expect(results.environment.runtime).to.equal('swarm');
      expect(results.cases.flatMap((c) => c.expectations).filter((e) => !e.pass)).to.deep.equal([]);
      expect(await labelledOnNodes()).to.deep.equal([]);
    });
  }
});
