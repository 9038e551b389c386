/**
 * The namespace runtime (`--runtime netns`) on this machine's kernel, no engine involved: the same laws
 * hold, every host sits in its own namespace with no route out of the lab, and nothing is left behind.
 */
import { execFileSync } from 'node:child_process';
import { release } from 'node:os';
import { expect } from 'chai';
import { rangeLaw as scenario } from './range-law.ts';
import { runScenario } from '../../lab/run/scenario-run.ts';
import { planCase } from '../../lab/plan/plan.ts';
import type { Results } from '../../lab/results/results.ts';
import { selectRuntime } from '../../lab/runtime/select.ts';
import { lab, namespacesNamed, projectRoot } from './helpers.ts';

describe('the netns runtime on this machine', function () {
  let results: Results;

  before(async () => {
    results = await runScenario(selectRuntime({ runtime: 'netns' }, projectRoot), scenario, {
      file: 'test/integration/netns-runtime.test.ts',
      quick: false,
    });
  });

  it('holds exactly 1000 connections for "40000 40999" (no listener in a bare namespace), then EADDRNOTAVAIL', () => {
    const [server, client] = results.cases[0]!.hosts;
    expect(client!.boundPortsBefore ?? []).to.deep.equal([]);
    expect(client!.estab).to.equal(1000);
    expect(client!.flood!.established).to.equal(1000);
    expect(Object.keys(client!.errors)).to.deep.equal(['EADDRNOTAVAIL']);
    expect(server!.estab).to.equal(1000);
    expect(results.cases[0]!.pass).to.equal(true);
  });

  it('doubles on the server with two clients on one IP and one port', () => {
    const [server, ...clients] = results.cases[1]!.hosts;
    for (const c of clients) expect(c.estab).to.equal(1000);
    expect(server!.estab).to.equal(2000);
  });

  it("says it ran in namespaces on this machine's kernel, with the kernel's namespace defaults", () => {
    expect(results.environment.runtime).to.equal('netns');
    expect(results.environment.kernel).to.equal(release());
    expect(results.environment.namespaceDefaults?.['net.core.somaxconn']).to.match(/^\d+$/);
    expect(results.environment.namespaceDefaults?.['net.ipv4.ip_local_port_range']).to.match(/^\d+ \d+$/);
  });

  it('leaves no namespace behind', () => {
    expect(namespacesNamed('lab-').filter((n) => n.includes(results.runId))).to.deep.equal([]);
  });

  it('gives each host only lo and eth0, and a route to the lab subnet alone', async () => {
    const runId = `t${Date.now().toString(36)}`;
    const session = selectRuntime({ runtime: 'netns' }, projectRoot).open(runId);
    await session.connect(() => {});
    try {
      const network = await session.createNetwork('198.18.0.0/24');
      const plan = planCase(scenario, 0, { runId, subnet: network.subnet, quick: true, nofileCeiling: 4096, file: 'test' });
      const [server, client] = await session.startHosts(network, [plan.server, ...plan.clients], 60);
      const routes = await client!.exec(['ip', '-4', 'route', 'show']);
      expect(routes.stdout.trim().split('\n')).to.deep.equal([
        `${network.subnet} dev eth0 proto kernel scope link src ${plan.clients[0]!.ip} `.trim(),
      ]);
      const links = await server!.exec(['ip', '-o', 'link', 'show']);
      expect(
        links.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(':')[1]!.trim().split('@')[0]),
      ).to.deep.equal(['lo', 'eth0']);
      const limit = await client!.exec(['sh', '-c', 'ulimit -n']);
      expect(limit.stdout.trim()).to.equal('4096');
    } finally {
      await session.close();
    }
    expect(namespacesNamed('lab-').filter((n) => n.includes(runId))).to.deep.equal([]);
  });

  it("lab clean removes namespaces a killed run left, and only the lab's", () => {
    execFileSync('ip', ['netns', 'add', 'lab-zzleftover1-server']);
    execFileSync('ip', ['netns', 'add', 'lab-zzleftover1-switch']);
    execFileSync('ip', ['netns', 'add', 'not-a-lab-namespace']);
    try {
      const clean = lab(['clean', '--run', 'zzleftover1']);
      expect(clean.status, clean.stderr).to.equal(0);
      expect(clean.stdout).to.include('namespace lab-zzleftover1-server');
      expect(namespacesNamed('lab-').filter((n) => n.includes('zzleftover1'))).to.deep.equal([]);
      expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).to.include('not-a-lab-namespace');
    } finally {
      execFileSync('ip', ['netns', 'del', 'not-a-lab-namespace']);
    }
  });
});
