/**
 * The scenarios across the nodes of a real Docker Swarm: three engines on this machine (lab local-swarm),
 * the server on one node, the clients on the others, over an internal attachable overlay. The kernel's
 * figures must be the exact ones the theory predicts, as on one engine, and nothing of the run may be left
 * on any node.
 */
import { spawnSync } from 'node:child_process';
import { Agent } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Docker from 'dockerode';
import type { Results } from '../../lab/results/results.ts';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ENGINE_LABEL, LOCAL_SWARM_DIR, localNode, startLocalEngine } from '../../lab/runtime/swarm/local-swarm.ts';
import { fixture, lab, namespacesNamed, prepareRuntime, startLab } from './helpers.ts';
import { startSshNode } from './ssh-node.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const nodes = [1, 2, 3].map(localNode);
const manager = { DOCKER_HOST: `unix://${nodes[0]!.socket}` };
const swarmEngines = () =>
  execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith('dockerd') && l.includes(LOCAL_SWARM_DIR));
let upOutput = '';

async function labelledOnNodes(): Promise<string[]> {
  const filters = JSON.stringify({ label: ['lab.run'] });
  const found = await Promise.all(
    nodes.map(async (n) => {
      // No kept-alive connection: one to an engine a test stopped (or a local swarm made anew) fails (EPIPE).
      const docker = new Docker({ socketPath: n.socket, agent: new Agent({ keepAlive: false }) } as Docker.DockerOptions);
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
      upOutput = up.stdout;
    });
  });
  after(function () {
    this.timeout(120_000);
    lab(['clean'], manager);
    lab(['local-swarm', 'down']);
  });

  it('lab local-swarm up: three engines in namespaces of their own form one swarm, each node labelled with its engine', async () => {
    expect(upOutput).to.include(`manager: DOCKER_HOST=unix://${nodes[0]!.socket}`);

    const manager = new Docker({ socketPath: nodes[0]!.socket });
    const listed = (await manager.listNodes()) as Array<{
      Status: { State: string; Addr: string };
      Spec: { Labels?: Record<string, string>; Role: string };
    }>;
    expect(listed.map((n) => n.Status.State)).to.deep.equal(['ready', 'ready', 'ready']);
    expect(listed.map((n) => n.Spec.Labels?.[ENGINE_LABEL]).sort()).to.deep.equal(nodes.map((n) => `unix://${n.socket}`));
    expect(listed.map((n) => n.Status.Addr).sort()).to.deep.equal(nodes.map((n) => n.address));
    expect(listed.filter((n) => n.Spec.Role === 'manager')).to.have.length(1);
    for (const node of nodes) {
      const info = (await new Docker({ socketPath: node.socket }).info()) as { Swarm: { LocalNodeState: string } };
      expect(info.Swarm.LocalNodeState, node.name).to.equal('active');
      expect(
        execFileSync('ip', ['-n', node.netns, 'route', 'show', 'default'], { encoding: 'utf8' }).trim(),
        `${node.name} has no way off the machine`,
      ).to.equal('');
    }
    // The overlay the lab's runs will use: internal, attachable, in a subnet of its own.
    const overlay = await manager.createNetwork({
      Name: 'lab-swarm-check',
      Driver: 'overlay',
      Attachable: true,
      Internal: true,
      IPAM: { Config: [{ Subnet: '198.19.251.0/24' }] },
    });
    await overlay.remove();
  });

  it('a lab SIGKILLed mid-run leaves its containers on several nodes: lab clean removes them from every node, and the overlay', async () => {
    const run = startLab(['run', 'scenarios/64k-myth.ts', '--quick', '--swarm', '--case', '4 clients, default range'], {
      ...manager,
      LAB_HOLD_PHASE: 'flood',
    });
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

  const runs: Array<{ scenario: string; args?: string[]; about: string; viaContext?: boolean }> = [
    { scenario: '64k-myth', about: 'every exact figure as on one engine' },
    { scenario: 'port-range', about: 'every exact figure as on one engine, the manager found through the docker context in use', viaContext: true },
    { scenario: 'c1m', args: ['--notrack'], about: '16 clients over two nodes, the hold pinging every connection, each container untracked' },
    {
      scenario: 'time-wait',
      args: ['--case', 'seed 000 replayed: Go net/http, MaxIdleConnsPerHost 2'],
      about: "the scenario's own client program: its image moved to the nodes by id",
    },
  ];
  for (const { scenario, args = [], about, viaContext } of runs) {
    it(`${scenario} --quick: the server on node1, the clients round-robin on the others, ${about}; each host's node and kernel in the results; nothing left on any node`, async () => {
      const json = `/tmp/lab-swarm-${scenario}.json`;
      const result = lab(
        ['run', `scenarios/${scenario}.ts`, '--quick', '--swarm', ...args, '--json', json],
        viaContext ? dockerContext('labswarm', manager.DOCKER_HOST) : manager,
      );
      expect(result.status, result.stdout.slice(-3000) + result.stderr).to.equal(0);
      expect(result.stdout + result.stderr).to.include('placement: server on node1, clients on node2, node3, round-robin');
      const results = JSON.parse(readFileSync(json, 'utf8')) as Results;
      rmSync(json, { force: true });
      expect(results.environment.runtime).to.equal('swarm');
      expect(results.environment.nodes?.map((n) => n.name)).to.deep.equal(['node1', 'node2', 'node3']);
      expect(results.cases.flatMap((c) => c.expectations).filter((e) => !e.pass)).to.deep.equal([]);
      for (const c of results.cases) {
        const [server, ...clients] = c.hosts;
        expect(server!.machine?.node).to.equal('node1');
        expect(clients.map((h) => h.machine?.node)).to.deep.equal(clients.map((_, i) => (i % 2 === 0 ? 'node2' : 'node3')));
        // The local swarm's engines share this machine's kernel: the results say so.
        expect(c.oneKernel).to.equal(true);
        expect(new Set(c.hosts.map((h) => h.machine?.bootId))).to.deep.equal(
          new Set([readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()]),
        );
      }
      if (scenario === 'time-wait') expect(result.stdout + result.stderr).to.match(/moved image lab-program:\w+ to node2/);
      expect(await labelledOnNodes()).to.deep.equal([]);
    });
  }

  it('SIGINT mid-flood: exit 130, and nothing of the run is left on any node, without lab clean', async () => {
    const run = startLab(['run', fixture('long-fill.ts'), '--swarm'], manager);
    await run.waitFor(/client-2: \[[#.]+\] [1-9][\d,]*\//, 180_000);
    expect(new Set((await labelledOnNodes()).map((l) => l.split(' ')[0]))).to.deep.equal(new Set(['node1', 'node2', 'node3']));
    run.signal('SIGINT');
    const result = await run.exited;
    expect(result.status, result.stderr).to.equal(130);
    expect(result.stderr).to.include('lab: interrupted by SIGINT: tore down what this run created');
    expect(await labelledOnNodes()).to.deep.equal([]);
  });

  it('a node reached over ssh (lab.engine=ssh://root@127.0.0.1:22022, sshd handing over its engine): the same exact figures, its open-file ceiling read through a container there (the base image moved to it)', async () => {
    const ssh = await startSshNode(nodes[2]!.socket);
    try {
      await relabel('node3', ssh.address);
      const json = '/tmp/lab-swarm-ssh.json';
      const result = lab(['run', 'scenarios/64k-myth.ts', '--quick', '--swarm', '--case', '4 clients, default range', '--json', json], {
        ...manager,
        ...ssh.env,
      });
      expect(result.status, result.stdout.slice(-3000) + result.stderr).to.equal(0);
      expect(result.stdout + result.stderr).to.include(`node3 (${ssh.address})`);
      // Not every node is here: the machine's own memory is not read, and the run says so.
      expect(result.stdout + result.stderr).to.match(/memory: not checked before the run/);
      const results = JSON.parse(readFileSync(json, 'utf8')) as Results;
      rmSync(json, { force: true });
      expect(results.environment.nodes?.find((n) => n.name === 'node3')).to.deep.include({ address: ssh.address, nofileCeiling: 20000 });
      expect(results.cases.flatMap((c) => c.expectations).filter((e) => !e.pass)).to.deep.equal([]);
      expect(results.cases[0]!.hosts.filter((h) => h.machine?.node === 'node3').map((h) => h.estab)).to.deep.equal([1000, 1000]);
      expect(await labelledOnNodes()).to.deep.equal([]);
    } finally {
      await relabel('node3', `unix://${nodes[2]!.socket}`);
      ssh.stop();
    }
  });

  it('a node drained (or down) is named and left out: the run goes on with the others', async () => {
    await updateNode('node3', (spec) => ({ ...spec, Availability: 'drain' }));
    try {
      const result = lab(['run', 'scenarios/64k-myth.ts', '--quick', '--swarm', '--case', '2 clients, default range'], manager);
      expect(result.status, result.stdout.slice(-3000) + result.stderr).to.equal(0);
      expect(result.stdout + result.stderr).to.include('swarm: node3 (drain) not ready: the run goes on without it');
      expect(result.stdout + result.stderr).to.include('placement: server on node1, clients on node2, round-robin');
    } finally {
      await updateNode('node3', (spec) => ({ ...spec, Availability: 'active' }));
    }
    expect(await labelledOnNodes()).to.deep.equal([]);
  });

  it('two --swarm runs at once on one swarm, both choosing one subnet: the manager allocates it to one, the other chooses again; both pass', async () => {
    // Both plan their subnet, then hold before making their overlays, and make them within a second of each
    // other: the manager accepts both and allocates one, the other never (it overlaps) until the first is gone.
    const args = ['run', 'scenarios/64k-myth.ts', '--quick', '--swarm', '--case', '2 clients, default range'];
    const runs = [0, 1].map(() => startLab(args, { ...manager, LAB_HOLD_PHASE: 'network' }));
    const results = await Promise.all(runs.map((r) => r.exited));
    for (const result of results) {
      expect(result.status, result.stdout.slice(-3000) + result.stderr).to.equal(0);
      expect(result.stderr).not.to.match(/^\s+at /m);
    }
    const subnets = results.map((r) => /Network lab-\w+ (\S+)/.exec(r.stdout + r.stderr)?.[1]);
    expect(subnets[0], 'the subnet of the first').to.be.a('string');
    expect(subnets[1], 'two runs, two subnets').to.be.a('string').and.not.equal(subnets[0]);
    expect(await labelledOnNodes()).to.deep.equal([]);
  });

  // Last: these stop a node's engine, or the swarm.
  it("a node's engine stopping mid-flood: exit 4 naming the node; once it is back, lab clean removes what was left there", async () => {
    const run = startLab(['run', fixture('long-fill.ts'), '--swarm'], manager);
    await run.waitFor(/client-2: \[[#.]+\] [1-9][\d,]*\//, 180_000);
    const node3 = nodes[2]!;
    process.kill(Number(readFileSync(node3.pidFile, 'utf8').trim()), 'SIGKILL');
    const result = await run.exited;
    expect(result.status, result.stdout.slice(-2000) + result.stderr).to.equal(4);
    expect(result.stderr).to.match(
      /^lab: node3's engine \(unix:\/\/\/run\/lab-swarm\/node3\.sock\) stopped answering during flood: start it again, then run 'lab clean'/m,
    );
    expect(result.stderr).not.to.match(/^\s+at /m);
    await startLocalEngine(node3);
    await untilReady('node3');
    const clean = lab(['clean'], manager);
    expect(clean.status, clean.stderr).to.equal(0);
    expect(await labelledOnNodes()).to.deep.equal([]);
  });

  it("lab clean a second after a node's engine died: says what it removed on each node, and that the dead node's leftovers wait for it (exit 3)", async () => {
    const run = startLab(['run', 'scenarios/64k-myth.ts', '--quick', '--swarm', '--case', '4 clients, default range'], {
      ...manager,
      LAB_HOLD_PHASE: 'flood',
    });
    const [, runId] = await run.waitFor(/Network lab-(\w+) /, 180_000);
    await run.waitFor(/holding before flood/, 180_000);
    run.signal('SIGKILL');
    await run.exited;
    const node3 = nodes[2]!;
    process.kill(Number(readFileSync(node3.pidFile, 'utf8').trim()), 'SIGKILL');
    await sleep(1000);
    const clean = lab(['clean', '--run', runId!], manager);
    const said = clean.stdout + clean.stderr;
    expect(clean.status, said).to.equal(3);
    const removedOn = (node: string) => new RegExp(`^lab: removed on ${node}: (.*)$`, 'm').exec(said)?.[1]?.split(', ').sort();
    const named = (hosts: string[]) => hosts.map((h) => `container lab-${runId}-${h}`).sort();
    expect(removedOn('node1'), said).to.deep.equal(named(['server', 'anchor-node1']));
    expect(removedOn('node2'), said).to.deep.equal(named(['client-1', 'client-3', 'anchor-node2']));
    expect(said).to.match(
      new RegExp(`^lab: node3's engine does not answer: its leftovers stay until it is back; then lab clean --run ${runId}$`, 'm'),
    );
    expect(said).not.to.match(/removes what is left/);
    expect(said).not.to.match(/^\s+at /m);
    // Once it is back, they go.
    await startLocalEngine(node3);
    await untilReady('node3');
    const again = lab(['clean', '--run', runId!], manager);
    expect(again.status, again.stdout + again.stderr).to.equal(0);
    expect(again.stdout).to.match(/removed \(run \w+\): .*on node3/);
    expect(await labelledOnNodes()).to.deep.equal([]);
  });

  it("a node's engine SIGKILLed under a SIGKILLed run: local-swarm up reaps what it left (containerd-shims, its containers' processes), saying so", async () => {
    const run = startLab(['run', 'scenarios/64k-myth.ts', '--quick', '--swarm', '--case', '4 clients, default range'], {
      ...manager,
      LAB_HOLD_PHASE: 'flood',
    });
    await run.waitFor(/holding before flood/, 180_000);
    run.signal('SIGKILL');
    await run.exited;
    const node3 = nodes[2]!;
    const engine = Number(readFileSync(node3.pidFile, 'utf8').trim());
    process.kill(engine, 'SIGKILL');
    while (existsSync(`/proc/${engine}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${engine}/status`, 'utf8'))) await sleep(100);
    const left = swarmProcesses('node3');
    expect(
      left.filter((p) => p.args.startsWith('/usr/bin/containerd-shim')),
      "node3's shims outlive its engine",
    ).not.to.deep.equal([]);
    expect(
      left.filter((p) => p.args.startsWith('sleep')),
      'the anchor and the clients',
    ).to.have.length.of.at.least(3);

    const up = lab(['local-swarm', 'up', '--nodes', '3']);
    expect(up.status, up.stderr + up.stdout).to.equal(0);
    expect(up.stdout).to.match(
      /^lab: node3's engine had stopped: reaped what it left: \d+ containerd-shims?, \d+ process(es)? of its containers \(sleep/m,
    );
    expect(
      left.filter((p) => existsSync(`/proc/${p.pid}`)).map((p) => `${p.pid} ${p.args}`),
      'the shims and their processes are gone',
    ).to.deep.equal([]);
    expect(swarmProcesses('node3').filter((p) => !p.args.startsWith('dockerd') && !p.args.startsWith('containerd '))).to.deep.equal([]);
    expect(await labelledOnNodes()).to.deep.equal([]);
  });

  it('lab local-swarm down during a run: the run says the swarm was taken down under it, and advises no lab clean', async () => {
    const run = startLab(['run', fixture('long-fill.ts'), '--swarm'], manager);
    await run.waitFor(/client-2: \[[#.]+\] [1-9][\d,]*\//, 180_000);
    const down = lab(['local-swarm', 'down']);
    expect(down.status, down.stderr).to.equal(0);
    const result = await run.exited;
    expect(result.status, result.stdout.slice(-2000) + result.stderr).to.equal(4);
    expect(result.stderr).to.match(/^lab: the local swarm was taken down during the run: nothing of it is left to clean$/m);
    expect(result.stdout + result.stderr).not.to.match(/lab clean/);
    expect(result.stderr).not.to.match(/^\s+at /m);
    // Up again, for the tests after this one.
    const up = lab(['local-swarm', 'up', '--nodes', '3']);
    expect(up.status, up.stderr + up.stdout).to.equal(0);
  });

  it('lab local-swarm down leaves nothing: engines, namespaces, data roots', () => {
    const down = lab(['local-swarm', 'down']);
    expect(down.status, down.stderr).to.equal(0);
    expect(down.stdout).to.include('the engine of node1');
    expect(namespacesNamed('labswarm-')).to.deep.equal([]);
    expect(swarmEngines()).to.deep.equal([]);
    expect(swarmProcesses(), 'containerd, shims, containers').to.deep.equal([]);
    expect(existsSync('/var/lib/lab-swarm'), 'the engines’ data roots').to.equal(false);
    expect(existsSync(LOCAL_SWARM_DIR), 'sockets, pid files, logs').to.equal(false);
  });

  it('refuses a swarm of one, or of more than it can wire, before making anything (exit 2)', () => {
    for (const n of ['1', '9']) {
      const result = lab(['local-swarm', 'up', '--nodes', n]);
      expect(result.status, result.stderr).to.equal(2);
      expect(result.stderr).to.include('--nodes');
    }
    expect(namespacesNamed('labswarm-')).to.deep.equal([]);
  });
});

/**
 * The processes of this machine that belong to the local swarm (of one node): by a path of theirs under its
 * folders (dockerd, containerd, containerd-shim -address) or by their cgroup (its containers' processes).
 */
function swarmProcesses(node = 'node'): Array<{ pid: number; args: string }> {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+) (.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ pid: Number(m[1]), args: m[2]! }))
    .filter(({ pid, args }) => {
      if (new RegExp(`/(run|var/lib)/lab-swarm/${node}`).test(args)) return true;
      try {
        return new RegExp(`:/lab-swarm-${node}`).test(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
      } catch {
        return false;
      }
    });
}

/** A docker CLI configuration of its own whose current context is `name`, at `host`: the environment that picks it. */
function dockerContext(name: string, host: string): Record<string, string> {
  const config = mkdtempSync(join(tmpdir(), 'lab-docker-config-'));
  const cli = (args: string[]) => {
    const done = spawnSync('docker', args, { encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: config, DOCKER_HOST: '' } });
    expect(done.status, done.stderr).to.equal(0);
  };
  cli(['context', 'create', name, '--docker', `host=${host}`]);
  cli(['context', 'use', name]);
  return { DOCKER_CONFIG: config, DOCKER_HOST: '' };
}

/** Points a node's lab.engine label at another address of its engine. */
function relabel(name: string, address: string): Promise<void> {
  return updateNode(name, (spec) => ({ ...spec, Labels: { ...(spec.Labels as Record<string, string>), 'lab.engine': address } }));
}

/** Changes a node's spec through the manager. */
async function updateNode(name: string, change: (spec: Record<string, unknown>) => Record<string, unknown>): Promise<void> {
  const docker = new Docker({ socketPath: nodes[0]!.socket });
  const listed = (await docker.listNodes()) as Array<{ ID: string; Spec: { Labels?: Record<string, string> } }>;
  const id = listed.find((n) => n.Spec.Labels?.['lab.node'] === name)!.ID;
  const found = await docker.getNode(id).inspect();
  await docker.getNode(id).update({ version: found.Version.Index, ...change(found.Spec) });
}

/** A restarted engine is back in the swarm once its manager lists it ready. */
async function untilReady(name: string): Promise<void> {
  const docker = new Docker({ socketPath: nodes[0]!.socket });
  for (let i = 0; i < 120; i++) {
    const listed = (await docker.listNodes()) as Array<{ Status: { State: string }; Spec: { Labels?: Record<string, string> } }>;
    if (listed.some((n) => n.Spec.Labels?.['lab.node'] === name && n.Status.State === 'ready')) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${name} is not ready in the swarm a minute after its engine started again`);
}
