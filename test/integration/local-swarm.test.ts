/**
 * The local swarm harness, for real: engines in network namespaces of their own on this machine, joined
 * into one Docker Swarm, each node labelled with how to reach its engine; and nothing of it left after down.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import Docker from 'dockerode';
import { ENGINE_LABEL, LOCAL_SWARM_DIR, localNode } from '../../lab/runtime/swarm/local-swarm.ts';
import { lab, prepareRuntime } from './helpers.ts';

const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('labswarm-'));
const swarmEngines = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('dockerd') && l.includes(LOCAL_SWARM_DIR));

describe('lab local-swarm: a swarm of engines on this machine', function () {
  before(prepareRuntime);
  after(() => lab(['local-swarm', 'down']));

  it('up: three engines in namespaces of their own form one swarm, each node labelled with its engine; down leaves nothing', async () => {
    const up = lab(['local-swarm', 'up', '--nodes', '3']);
    expect(up.status, up.stderr + up.stdout).to.equal(0);
    const nodes = [1, 2, 3].map(localNode);
    expect(up.stdout).to.include(`manager: DOCKER_HOST=unix://${nodes[0]!.socket}`);

    const manager = new Docker({ socketPath: nodes[0]!.socket });
    const listed = (await manager.listNodes()) as Array<{ Status: { State: string; Addr: string }; Spec: { Labels?: Record<string, string>; Role: string } }>;
    expect(listed.map((n) => n.Status.State)).to.deep.equal(['ready', 'ready', 'ready']);
    expect(listed.map((n) => n.Spec.Labels?.[ENGINE_LABEL]).sort()).to.deep.equal(nodes.map((n) => `unix://${n.socket}`));
    expect(listed.map((n) => n.Status.Addr).sort()).to.deep.equal(nodes.map((n) => n.address));
    expect(listed.filter((n) => n.Spec.Role === 'manager')).to.have.length(1);
    for (const node of nodes) {
      const info = (await new Docker({ socketPath: node.socket }).info()) as { Swarm: { LocalNodeState: string } };
      expect(info.Swarm.LocalNodeState, node.name).to.equal('active');
      expect(execFileSync('ip', ['-n', node.netns, 'route', 'show', 'default'], { encoding: 'utf8' }).trim(), `${node.name} has no way off the machine`).to.equal('');
    }
    // The overlay the lab's runs will use: internal, attachable, in a subnet of its own.
    const overlay = await manager.createNetwork({ Name: 'lab-swarm-check', Driver: 'overlay', Attachable: true, Internal: true, IPAM: { Config: [{ Subnet: '198.19.251.0/24' }] } });
    await overlay.remove();

    const down = lab(['local-swarm', 'down']);
    expect(down.status, down.stderr).to.equal(0);
    expect(down.stdout).to.include('the engine of node1');
    expect(namespaces()).to.deep.equal([]);
    expect(swarmEngines()).to.deep.equal([]);
    expect(existsSync('/var/lib/lab-swarm'), 'the engines’ data roots').to.equal(false);
    expect(existsSync(LOCAL_SWARM_DIR), 'sockets, pid files, logs').to.equal(false);
  });

  it('refuses a swarm of one, or of more than it can wire, before making anything (exit 2)', () => {
    for (const n of ['1', '9']) {
      const result = lab(['local-swarm', 'up', '--nodes', n]);
      expect(result.status, result.stderr).to.equal(2);
      expect(result.stderr).to.include('--nodes');
    }
    expect(namespaces()).to.deep.equal([]);
  });
});
