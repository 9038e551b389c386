/**
 * Bad input through the real command line: each gets one line naming the file and the field, exit 2, and
 * no container or network is created. The scenario files are written for each case from a valid one.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import Docker from 'dockerode';
import { lab, labelledObjects, prepareRuntime, projectRoot } from './helpers.ts';

interface Parts {
  server?: string;
  client?: string;
  cases?: string;
  extra?: string;
  expect?: string;
}

/** A scenario file's source: a valid scenario with some parts replaced. */
function source(parts: Parts): string {
  return `import { defineScenario } from '${join(projectRoot, 'lab/index.ts')}';
export default defineScenario({
  name: 'bad-input',
  claim: 'one part of this scenario is wrong',
  server: ${parts.server ?? '{ ports: [9000] }'},
  client: ${parts.client ?? "{ connections: 10, sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } }"},
  ${parts.extra ?? ''}
  expect: ${parts.expect ?? "[{ claim: 'x', subject: 'server', metric: 'estab', predict: () => 10 }]"},
  cases: ${parts.cases ?? "[{ name: 'one', clients: 1 }]"},
} as any);
`;
}

type Row = [what: string, content: string | Parts | null, args: (file: string) => string[], message: (file: string) => RegExp];
const run = (file: string) => ['run', file, '--quick'];
const field = (f: string, reason: string) => (file: string) => new RegExp(`^lab: ${escape(file)}: ${escape(f)}: ${reason}`);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const OVERLAP = '198.19.251.0/24';

const rows: Row[] = [
  ['a missing scenario file', null, run, (f) => new RegExp(`^lab: ${escape(f)}: no such scenario file$`)],
  ['a folder given as the scenario', 'DIR', run, (f) => new RegExp(`^lab: ${escape(f)}: cannot be loaded: `)],
  ['a syntax error', "import { defineScenario } from 'x';\nexport default defineScenario({ name: ", run, (f) => new RegExp(`^lab: ${escape(f)}: cannot be loaded: `)],
  ['no default export', 'export const scenario = {};\n', run, (f) => new RegExp(`^lab: ${escape(f)}: has no default export`)],
  ['a default export that is not a scenario', "export default { name: 'x', claim: 'y' };\n", run, (f) => new RegExp(`^lab: ${escape(f)}: the default export is not made by defineScenario`)],
  ['a misspelt top-level field', { extra: 'deadlineSecond: 5,' }, run, field('deadlineSecond', 'unknown field \\(did you mean "deadlineSeconds"\\?\\)')],
  ['a misspelt client field', { client: '{ conections: 10 }' }, run, field('client.conections', 'unknown field \\(did you mean "connections"\\?\\)')],
  ['ports given as a string', { server: "{ ports: '80' }" }, run, field('server.ports', 'must be a list')],
  ['a client count given as a string', { cases: "[{ name: 'one', clients: 'two' }]" }, run, field('cases[0].clients', 'must be a whole number')],
  ['a negative connection count', { client: '{ connections: -10 }' }, run, field('client.connections', 'must be a number from 1 to 1000000')],
  ['an absurd connection count', { client: '{ connections: 1e12 }' }, run, field('client.connections', 'must be a number from 1 to 1000000')],
  ['zero clients', { cases: "[{ name: 'one', clients: 0 }]" }, run, field('cases[0].clients', 'must be a whole number from 1 to 64')],
  ['an absurd client count', { cases: "[{ name: 'one', clients: 5000 }]" }, run, field('cases[0].clients', 'must be a whole number from 1 to 64')],
  ['a port range with low above high', { client: "{ sysctls: { 'net.ipv4.ip_local_port_range': '60999 32768' } }" }, run, field('client.sysctls["net.ipv4.ip_local_port_range"]', '"60999 32768" has its low end above its high end')],
  ['a port range outside 1-65535', { client: "{ sysctls: { 'net.ipv4.ip_local_port_range': '1024 70000' } }" }, run, field('client.sysctls["net.ipv4.ip_local_port_range"]', '"1024 70000" must lie within 1-65535')],
  ['a server port of 0', { server: '{ ports: [0] }' }, run, field('server.ports[0]', 'must be a whole number from 1 to 65535')],
  ['a host-wide sysctl (fs.file-max)', { server: "{ ports: [9000], sysctls: { 'fs.file-max': 2000000 } }" }, run, field('server.sysctls["fs.file-max"]', 'fs.file-max is host-wide: Docker cannot set it per container')],
  ['a host-wide sysctl (vm.max_map_count)', { client: "{ sysctls: { 'vm.max_map_count': 262144 } }" }, run, field('client.sysctls["vm.max_map_count"]', 'vm.max_map_count is host-wide')],
  ['an unknown sysctl', { client: "{ sysctls: { 'net.ipv4.tcp_turbo': 1 } }" }, run, field('client.sysctls["net.ipv4.tcp_turbo"]', 'net.ipv4.tcp_turbo is not a per-network-namespace sysctl')],
  ['a subnet that overlaps an existing network', { extra: `subnet: '${OVERLAP}',` }, run, field('subnet', `${escape(OVERLAP)} overlaps the engine's network 198\\.19\\.251\\.0/25`)],
  ['more clients than the subnet holds', { extra: "subnet: '198.19.252.0/28',", cases: "[{ name: 'one', clients: 5 }]" }, run, field('cases[0].clients', '5 clients do not fit in 198\\.19\\.252\\.0/28 \\(room for 4 beside the server\\)')],
  ['nofile above what the engine allows', { client: '{ nofile: 1048576 }' }, run, field('cases[0].client.nofile', '1048576 is above what this engine allows per process \\(\\d+\\)')],
  ['a deadline over an hour', { extra: 'deadlineSeconds: 86400,' }, run, field('deadlineSeconds', 'must be a whole number from 1 to 3600')],
  ['a capability the lab never grants', { server: "{ ports: [9000], capabilities: { SYS_ADMIN: 'to mount things in the server' } }" }, run, field('server.capabilities.SYS_ADMIN', 'is not one the lab grants')],
  ['a capability without a reason', { server: "{ ports: [9000], capabilities: { NET_ADMIN: '' } }" }, run, field('server.capabilities.NET_ADMIN', 'needs a sentence saying why')],
  ['an unknown metric', { expect: "[{ claim: 'x', subject: 'server', metric: 'connections', predict: () => 1 }]" }, run, field('expect[0].metric', '"connections" is not estab, timewait, opened, pongs, accepted, listen.backlog, errors')],
  ['two cases with one name', { cases: "[{ name: 'one' }, { name: 'one' }]" }, run, field('cases[1].name', '"one" is used by an earlier case')],
  ['an unknown flag', {}, (f) => ['run', f, '--turbo'], () => /^lab: Unknown option `--turbo` \(see lab --help\)$/],
  ['a flag without its value', {}, (f) => ['run', f, '--json'], () => /^lab: option `--json <file>` value is missing \(see lab --help\)$/],
  ['an unknown case', {}, (f) => ['run', f, '--case', 'seven'], field('--case', 'no case named "seven"')],
  ['lab compare on a file that is not results JSON', { extra: '' }, (f) => ['compare', f, f], (f) => new RegExp(`^lab: ${escape(f)}: `)],
];

describe('bad input is refused: one line naming file and field, exit 2, nothing created', function () {
  let dir: string;
  let blocker: Docker.Network;

  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-bad-'));
    // An existing network for the overlap case (not the lab's: it carries no lab.run label).
    blocker = await new Docker().createNetwork({ Name: 'lab-test-blocker', Internal: true, IPAM: { Config: [{ Subnet: '198.19.251.0/25' }] } });
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await blocker.remove();
  });

  it(`has at least 25 cases (${rows.length})`, () => expect(rows.length).to.be.at.least(25));

  rows.forEach(([what, content, args, message], i) => {
    it(`refuses ${what}`, async () => {
      const file = join(dir, `case-${i}.ts`);
      if (content === 'DIR') mkdirSync(file);
      else if (typeof content === 'string') writeFileSync(file, content);
      else if (content) writeFileSync(file, source(content));
      const result = lab(args(file), { CI: 'true' });
      expect(result.status, result.stderr + result.stdout).to.equal(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).to.have.length(1);
      expect(lines[0]).to.match(message(file));
      expect(await labelledObjects()).to.deep.equal({ containers: [], networks: [] });
    });
  });
});
