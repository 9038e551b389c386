import { expect } from 'chai';
import { InputError } from '../../lab/errors.ts';
import { planCase } from '../../lab/plan/plan.ts';
import { defineScenario } from '../../lab/scenario/define.ts';
import type { Scenario } from '../../lab/scenario/types.ts';
import { validateScenario } from '../../lab/scenario/validate.ts';

const FILE = 'scenarios/example.ts';

function valid(): Record<string, any> {
  return defineScenario({
    name: 'example',
    claim: 'a claim',
    server: { ports: [8080] },
    client: { connections: 'fill' },
    expect: [{ claim: 'c', subject: 'each client', metric: 'estab', predict: () => 1 }],
    cases: [{ name: 'one', clients: 1, client: { sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } } }],
  }) as unknown as Record<string, any>;
}

const bad: Array<[string, (s: Record<string, any>) => unknown, string, RegExp]> = [
  ['a default export that is not a scenario', () => ({ name: 'x' }), '', /not made by defineScenario/],
  ['a default export that is a string', () => 'hello', '', /must be defineScenario/],
  ['a misspelt top-level field', (s) => ({ ...s, serverr: s.server }), 'serverr', /unknown field \(did you mean "server"\?\)/],
  ['a misspelt client field', (s) => ({ ...s, client: { conections: 5 } }), 'client.conections', /did you mean "connections"/],
  ['a missing claim', (s) => ({ ...s, claim: undefined }), 'claim', /is missing/],
  ['a name with spaces', (s) => ({ ...s, name: 'my scenario' }), 'name', /lowercase/],
  ['ports that are not a list', (s) => ({ ...s, server: { ports: 8080 } }), 'server.ports', /must be a list/],
  ['a port above 65535', (s) => ({ ...s, server: { ports: [70000] } }), 'server.ports[0]', /from 1 to 65535/],
  ['a negative connection count', (s) => ({ ...s, client: { connections: -5 } }), 'client.connections', /from 1 to 1000000 or 'fill'/],
  ['an absurd connection count', (s) => ({ ...s, client: { connections: 1e9 } }), 'client.connections', /from 1 to 1000000/],
  ['a count given as a string', (s) => ({ ...s, client: { connections: '100' } }), 'client.connections', /got "100"/],
  ['an unknown bind mode', (s) => ({ ...s, client: { bind: 'reuseport' } }), 'client.bind', /one of none, any, reuseaddr, nobindport/],
  ['zero clients', (s) => ({ ...s, cases: [{ ...s.cases[0], clients: 0 }] }), 'cases[0].clients', /from 1 to 64/],
  ['a fractional client count', (s) => ({ ...s, cases: [{ ...s.cases[0], clients: 1.5 }] }), 'cases[0].clients', /whole number/],
  ['no cases', (s) => ({ ...s, cases: [] }), 'cases', /at least one case/],
  ['two cases with one name', (s) => ({ ...s, cases: [s.cases[0], s.cases[0]] }), 'cases[1].name', /used by an earlier case/],
  ['a host-wide sysctl', (s) => ({ ...s, server: { ports: [80], sysctls: { 'fs.file-max': 100000 } } }), 'server.sysctls["fs.file-max"]', /host-wide: Docker cannot set it per container/],
  ['an unknown sysctl', (s) => ({ ...s, client: { sysctls: { 'net.ipv4.tcp_magic': 1 } } }), 'client.sysctls["net.ipv4.tcp_magic"]', /not a per-network-namespace sysctl/],
  ['a range with low above high', (s) => ({ ...s, client: { sysctls: { 'net.ipv4.ip_local_port_range': '50000 40000' } } }), 'client.sysctls["net.ipv4.ip_local_port_range"]', /low end above its high end/],
  ['a range outside 1-65535', (s) => ({ ...s, client: { sysctls: { 'net.ipv4.ip_local_port_range': '0 70000' } } }), 'client.sysctls["net.ipv4.ip_local_port_range"]', /within 1-65535/],
  ['a range written with a dash', (s) => ({ ...s, client: { sysctls: { 'net.ipv4.ip_local_port_range': '40000-40999' } } }), 'client.sysctls["net.ipv4.ip_local_port_range"]', /not a range such as/],
  ['a sysctl value that is an object', (s) => ({ ...s, client: { sysctls: { 'net.core.somaxconn': {} } } }), 'client.sysctls["net.core.somaxconn"]', /string or a number/],
  ['a nofile too small to be useful', (s) => ({ ...s, server: { ports: [80], nofile: 10 } }), 'server.nofile', /from 64/],
  ['a malformed subnet', (s) => ({ ...s, subnet: '198.18.0.0' }), 'subnet', /IPv4 subnet/],
  ['a deadline over an hour', (s) => ({ ...s, deadlineSeconds: 7200 }), 'deadlineSeconds', /from 1 to 3600/],
  ['an expectation with an unknown subject', (s) => ({ ...s, expect: [{ ...s.expect[0], subject: 'clients' }] }), 'expect[0].subject', /must be one of/],
  ['an expectation with an unknown metric', (s) => ({ ...s, expect: [{ ...s.expect[0], metric: 'connections' }] }), 'expect[0].metric', /estab, timewait, opened, pongs, accepted, listen.backlog, errors/],
  ['an expectation without predict', (s) => ({ ...s, expect: [{ ...s.expect[0], predict: 5 }] }), 'expect[0].predict', /must be a function/],
  ['a case with nothing to check', (s) => ({ ...s, expect: undefined }), 'cases[0].expect', /no expectation/],
  ['a misspelt field in quick overrides', (s) => ({ ...s, cases: [{ ...s.cases[0], quick: { client: { sysctl: {} } } }] }), 'cases[0].quick.client.sysctl', /did you mean "sysctls"/],
];

describe('scenario validation: one line naming the file and the field', () => {
  it('accepts a valid scenario', () => {
    expect(validateScenario(valid(), FILE).name).to.equal('example');
  });

  for (const [what, mutate, field, reason] of bad) {
    it(`refuses ${what}`, () => {
      let error: unknown;
      try {
        validateScenario(mutate(valid()), FILE);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(InputError);
      const message = (error as Error).message;
      expect(message.startsWith(field ? `${FILE}: ${field}: ` : `${FILE}: `), message).to.equal(true);
      expect(message).to.match(reason);
      expect(message).to.not.include('\n');
    });
  }
});

describe('scenario validation: the first problem, word for word', () => {
  const exact: Array<[string, (s: Record<string, any>) => unknown, string]> = [
    ['a sysctl in a case', (s) => ({ ...s, cases: [{ name: 'one', client: { sysctls: { 'fs.file-max': 1 } } }] }), 'cases[0].client.sysctls["fs.file-max"]: fs.file-max is host-wide: Docker cannot set it per container'],
    ['an accept object without everyMs', (s) => ({ ...s, server: { ports: [80], accept: {} } }), 'server.accept.everyMs: must be a whole number from 1 to 60000 (got undefined)'],
    ['an accept mode that does not exist', (s) => ({ ...s, server: { ports: [80], accept: 'sometimes' } }), "server.accept: must be 'immediate', 'paused' or { everyMs: N }"],
    ['an unknown field beside a bad one', (s) => ({ ...s, client: { connections: -1, conections: 5 } }), 'client.conections: unknown field (did you mean "connections"?)'],
    ['an unknown field outside a bad one', (s) => ({ ...s, serverr: 1, client: { conections: 5 } }), 'serverr: unknown field (did you mean "server"?)'],
    ['more addresses without NET_ADMIN', (s) => ({ ...s, server: { ports: [80], addresses: 2 } }), "server.addresses: 2 addresses are added inside the server: declare capabilities: { NET_ADMIN: '<why>' } beside it"],
    ['keepAsking with fill', (s) => ({ ...s, client: { keepAsking: true } }), "client.keepAsking: needs a number of connections to attempt, not 'fill'"],
  ];
  for (const [what, mutate, message] of exact) {
    it(`refuses ${what}`, () => {
      expect(() => validateScenario(mutate(valid()), FILE)).to.throw(InputError, `${FILE}: ${message}`);
    });
  }
});

describe('planning a case', () => {
  const options = { runId: 'r1', subnet: '198.18.5.0/24', quick: false, nofileCeiling: 20000, file: FILE };
  const scenario = (over: Record<string, any> = {}) => validateScenario({ ...valid(), ...over }, FILE) as Scenario;

  it('puts the server on .2 and the clients from .11 with the case sysctls and the engine ceiling', () => {
    const plan = planCase(scenario({ cases: [{ name: 'two', clients: 2, client: { sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } } }] }), 0, options);
    expect(plan.server.ip).to.equal('198.18.5.2');
    expect(plan.clients.map((c) => c.ip)).to.deep.equal(['198.18.5.11', '198.18.5.12']);
    expect(plan.clients[0]!.sysctls).to.deep.equal({ 'net.ipv4.ip_local_port_range': '40000 40999' });
    expect(plan.clients[0]!.nofile).to.equal(20000);
    expect(plan.clients[0]!.targets).to.deep.equal(['198.18.5.2:8080']);
  });

  it("asks a 'fill' client for more than its range can give, and spreads it over enough processes", () => {
    const plan = planCase(scenario({ cases: [{ name: 'wide', client: { sysctls: { 'net.ipv4.ip_local_port_range': '1024 65535' } } }] }), 0, options);
    const c = plan.clients[0]!;
    expect(c.asked).to.be.greaterThan(64512);
    expect(c.processes).to.equal(4);
    expect(c.program).to.include.members(['labclient', '--processes', '4']);
  });

  it('gives the server enough workers for its open-file limit', () => {
    const plan = planCase(scenario({ cases: [{ name: 'four', clients: 4, client: { sysctls: { 'net.ipv4.ip_local_port_range': '32768 60999' } } }] }), 0, options);
    const perWorker = (plan.clients.reduce((s, c) => s + c.asked, 0) / plan.server.workers);
    expect(perWorker).to.be.lessThan(20000 * 0.8);
  });

  it('uses the quick overrides with --quick', () => {
    const s = scenario({ cases: [{ name: 'q', client: { sysctls: { 'net.ipv4.ip_local_port_range': '32768 60999' } }, quick: { client: { sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } } } }] });
    expect(planCase(s, 0, { ...options, quick: true }).clients[0]!.sysctls['net.ipv4.ip_local_port_range']).to.equal('40000 40999');
    expect(planCase(s, 0, options).clients[0]!.sysctls['net.ipv4.ip_local_port_range']).to.equal('32768 60999');
  });

  it('refuses more clients than the subnet holds', () => {
    const s = scenario({ subnet: '198.18.9.0/28', cases: [{ name: 'many', clients: 5 }] });
    expect(() => planCase(s, 0, { ...options, subnet: '198.18.9.0/28' })).to.throw(InputError, `${FILE}: cases[0].clients: 5 clients do not fit in 198.18.9.0/28 (room for 4 beside the server)`);
  });

  it('refuses a nofile above what the engine allows, naming the ceiling', () => {
    const s = scenario({ client: { nofile: 1_048_576 } });
    expect(() => planCase(s, 0, options)).to.throw(InputError, /cases\[0\]\.client\.nofile: 1048576 is above what this engine allows per process \(20000\)/);
  });
});
