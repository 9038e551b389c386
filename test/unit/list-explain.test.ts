import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { explainScenario } from '../../lab/report/explain.ts';
import { mergeCase } from '../../lab/plan/plan.ts';
import { defineScenario } from '../../lab/scenario/define.ts';
import myth from '../../scenarios/64k-myth.ts';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

function lab(args: string[], cwd = projectRoot) {
  return spawnSync(process.execPath, [join(projectRoot, 'bin/lab.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
}

describe('what a case runs with, from its spec', () => {
  const scenario = defineScenario({
    name: 'layers',
    claim: 'c',
    server: { ports: [80] },
    client: { connections: 'fill', sysctls: { 'net.ipv4.tcp_tw_reuse': 1, 'net.ipv4.ip_local_port_range': '32768 60999' } },
    expect: [{ claim: 'x', subject: 'server', metric: 'estab', predict: () => 0 }],
    cases: [
      {
        name: 'one',
        clients: 2,
        client: { sysctls: { 'net.ipv4.ip_local_port_range': '1024 65535' } },
        server: { ports: [80, 443] },
        quick: { clients: 1, client: { connections: 500, sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } } },
      },
    ],
  });

  it('lays the case over the scenario: sysctls merged, counts and ports replaced', () => {
    const merged = mergeCase(scenario, scenario.cases[0]!, false);
    expect(merged.clients).to.equal(2);
    expect(merged.client.connections).to.equal('fill');
    expect(merged.client.sysctls).to.deep.equal({ 'net.ipv4.tcp_tw_reuse': 1, 'net.ipv4.ip_local_port_range': '1024 65535' });
    expect(merged.server.ports).to.deep.equal([80, 443]);
  });

  it('lays the quick overrides over that with --quick', () => {
    const merged = mergeCase(scenario, scenario.cases[0]!, true);
    expect(merged.clients).to.equal(1);
    expect(merged.client.connections).to.equal(500);
    expect(merged.client.sysctls).to.deep.equal({ 'net.ipv4.tcp_tw_reuse': 1, 'net.ipv4.ip_local_port_range': '40000 40999' });
    expect(merged.server.ports).to.deep.equal([80, 443]);
  });
});

describe('lab explain', () => {
  it('tells the claim, the story, the seeds and per case what it sets and expects', () => {
    const text = explainScenario(myth, 'scenarios/64k-myth.ts', false);
    expect(text.split('\n')[0]).to.equal('64k-myth: The ephemeral-port limit is per (client IP, server IP, server port), not per server.');
    expect(text).to.include('"A server can only take 64k connections" mixes up two things.');
    expect(text).to.include('seeds replayed: 003, 004');
    expect(text).to.include('Case 3/4: 4 clients, default range\n  Four client IPs:');
    expect(text).to.include('  clients: 4, each asking for as many connections as its range gives (fill)');
    expect(text).to.include('  client sysctls: net.ipv4.ip_local_port_range=32768 60999');
    expect(text).to.include('  server ports: 8080');
    expect(text).to.include('    - a spent range answers EADDRNOTAVAIL (each client, errors.EADDRNOTAVAIL)');
    expect(text).to.include('lab explain scenarios/64k-myth.ts --quick');
  });

  it('shows the settings --quick runs with and its overrides (the command, exit 0)', () => {
    const run = lab(['explain', 'scenarios/64k-myth.ts', '--quick']);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.include('Case 4/4: 1 client, range 1024-65535');
    expect(run.stdout).to.include('  client sysctls: net.ipv4.ip_local_port_range=40000 41999');
    expect(run.stdout).to.include('  --quick overrides: client net.ipv4.ip_local_port_range=40000 41999');
  });

  it('exits 2 naming a scenario file that does not exist', () => {
    const run = lab(['explain', 'scenarios/nope.ts']);
    expect(run.status).to.equal(2);
    expect(run.stderr).to.include('scenarios/nope.ts: no such scenario file');
  });
});

describe('lab list', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'lab-list-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("lists the lab's own scenarios by default, once in its own checkout: file, name, number of cases and claim", () => {
    const run = lab(['list']);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout.split('\n')[0]).to.equal("the lab's own scenarios (scenarios/):");
    expect(run.stdout).to.match(/file\s+name\s+cases\s+claim/);
    expect(run.stdout).to.match(
      / 64k-myth\.ts\s+64k-myth\s+4\s+The ephemeral-port limit is per \(client IP, server IP, server port\), not per server\./,
    );
    expect(run.stdout).to.not.include("this folder's");
  });

  it("lists, from another folder, the lab's own scenarios, then that folder's scenarios/ and the scenario files beside it", () => {
    const here = mkdtempSync(join(tmpdir(), 'lab-list-here-'));
    try {
      mkdirSync(join(here, 'scenarios'));
      writeFileSync(join(here, 'package.json'), '{ "type": "module" }');
      writeFileSync(join(here, 'scenarios', 'in-folder.ts'), scenarioFile({ name: 'in-folder', client: { connections: 10 } }));
      writeFileSync(join(here, 'beside.ts'), scenarioFile({ name: 'beside', client: { connections: 10 } }));
      // Not a scenario: never loaded (loading runs it), never called broken.
      writeFileSync(join(here, 'tool.config.ts'), "throw new Error('ran');\n");
      const run = lab(['list'], here);
      expect(run.status, run.stderr).to.equal(0);
      expect(run.stderr).to.equal('');
      const headings = run.stdout.split('\n').filter((line) => line.endsWith(':'));
      expect(headings).to.deep.equal([
        `the lab's own scenarios (${join(projectRoot, 'scenarios')}/):`,
        "this folder's scenarios (scenarios/):",
        "this folder's scenarios (./):",
      ]);
      expect(run.stdout).to.match(/ 64k-myth\.ts\s+64k-myth\s+4 /);
      expect(run.stdout).to.match(/ in-folder\.ts\s+in-folder\s+1\s+a claim/);
      expect(run.stdout).to.match(/ beside\.ts\s+beside\s+1\s+a claim/);
      expect(run.stdout).to.not.include('tool.config');
    } finally {
      rmSync(here, { recursive: true, force: true });
    }
  });

  it('lists the scenarios it can load, names each broken file on stderr and exits 2', () => {
    // Outside the project 'tcp-limits-lab' does not resolve: these files hold what defineScenario() returns,
    // as ES modules like the project's own.
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    writeFileSync(join(dir, 'a-good.ts'), scenarioFile({ name: 'a-good', client: { connections: 10 } }));
    writeFileSync(join(dir, 'b-misspelt.ts'), scenarioFile({ name: 'b-misspelt', client: { conections: 10 } }));
    writeFileSync(join(dir, 'notes.txt'), 'not a scenario');
    const run = lab(['list', dir]);
    expect(run.status).to.equal(2);
    expect(run.stdout).to.match(/a-good\.ts\s+a-good\s+1\s+a claim/);
    expect(run.stdout).to.not.include('notes.txt');
    expect(run.stderr).to.match(/b-misspelt\.ts: client\.conections: unknown field/);
  });

  function scenarioFile(fields: object): string {
    const scenario = { kind: 'lab.scenario', claim: 'a claim', server: { ports: [80] }, cases: [{ name: 'one', clients: 1 }], ...fields };
    const expectation = "[{ claim: 'x', subject: 'server', metric: 'estab', predict: () => 0 }]";
    return `export default { ...${JSON.stringify(scenario)}, expect: ${expectation} };\n`;
  }

  it('exits 2 for a folder that does not exist or holds no scenario', () => {
    expect(lab(['list', join(dir, 'nope')]).stderr).to.include('nope: no such folder');
    const empty = mkdtempSync(join(tmpdir(), 'lab-list-empty-'));
    const run = lab(['list', empty]);
    rmSync(empty, { recursive: true });
    expect(run.status).to.equal(2);
    expect(run.stderr).to.include('holds no scenario (.ts) files');
  });
});
