import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
  [
    'a host-wide sysctl',
    (s) => ({ ...s, server: { ports: [80], sysctls: { 'fs.file-max': 100000 } } }),
    'server.sysctls["fs.file-max"]',
    /host-wide: Docker cannot set it per container/,
  ],
  [
    'an unknown sysctl',
    (s) => ({ ...s, client: { sysctls: { 'net.ipv4.tcp_magic': 1 } } }),
    'client.sysctls["net.ipv4.tcp_magic"]',
    /not a per-network-namespace sysctl/,
  ],
  [
    'a range with low above high',
    (s) => ({ ...s, client: { sysctls: { 'net.ipv4.ip_local_port_range': '50000 40000' } } }),
    'client.sysctls["net.ipv4.ip_local_port_range"]',
    /low end above its high end/,
  ],
  [
    'a range outside 1-65535',
    (s) => ({ ...s, client: { sysctls: { 'net.ipv4.ip_local_port_range': '0 70000' } } }),
    'client.sysctls["net.ipv4.ip_local_port_range"]',
    /within 1-65535/,
  ],
  [
    'a range written with a dash',
    (s) => ({ ...s, client: { sysctls: { 'net.ipv4.ip_local_port_range': '40000-40999' } } }),
    'client.sysctls["net.ipv4.ip_local_port_range"]',
    /not a range such as/,
  ],
  [
    'a sysctl value that is an object',
    (s) => ({ ...s, client: { sysctls: { 'net.core.somaxconn': {} } } }),
    'client.sysctls["net.core.somaxconn"]',
    /string or a number/,
  ],
  ['a nofile too small to be useful', (s) => ({ ...s, server: { ports: [80], nofile: 10 } }), 'server.nofile', /from 64/],
  ['a malformed subnet', (s) => ({ ...s, subnet: '198.18.0.0' }), 'subnet', /IPv4 subnet/],
  ['a deadline over an hour', (s) => ({ ...s, deadlineSeconds: 7200 }), 'deadlineSeconds', /from 1 to 3600/],
  [
    'an expectation with an unknown subject',
    (s) => ({ ...s, expect: [{ ...s.expect[0], subject: 'clients' }] }),
    'expect[0].subject',
    /must be one of/,
  ],
  [
    'an expectation with an unknown metric',
    (s) => ({ ...s, expect: [{ ...s.expect[0], metric: 'connections' }] }),
    'expect[0].metric',
    /estab, timewait, opened, pongs, accepted, listen.backlog, errors/,
  ],
  ['an expectation without predict', (s) => ({ ...s, expect: [{ ...s.expect[0], predict: 5 }] }), 'expect[0].predict', /must be a function/],
  ['a case with nothing to check', (s) => ({ ...s, expect: undefined }), 'cases[0].expect', /no expectation/],
  [
    'a misspelt field in quick overrides',
    (s) => ({ ...s, cases: [{ ...s.cases[0], quick: { client: { sysctl: {} } } }] }),
    'cases[0].quick.client.sysctl',
    /did you mean "sysctls"/,
  ],
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
    [
      'a sysctl in a case',
      (s) => ({ ...s, cases: [{ name: 'one', client: { sysctls: { 'fs.file-max': 1 } } }] }),
      'cases[0].client.sysctls["fs.file-max"]: fs.file-max is host-wide: Docker cannot set it per container',
    ],
    [
      'an accept object without everyMs',
      (s) => ({ ...s, server: { ports: [80], accept: {} } }),
      'server.accept.everyMs: must be a whole number from 1 to 60000 (got undefined)',
    ],
    [
      'an accept mode that does not exist',
      (s) => ({ ...s, server: { ports: [80], accept: 'sometimes' } }),
      "server.accept: must be 'immediate', 'paused' or { everyMs: N }",
    ],
    [
      'an unknown field beside a bad one',
      (s) => ({ ...s, client: { connections: -1, conections: 5 } }),
      'client.conections: unknown field (did you mean "connections"?)',
    ],
    [
      'an unknown field outside a bad one',
      (s) => ({ ...s, serverr: 1, client: { conections: 5 } }),
      'serverr: unknown field (did you mean "server"?)',
    ],
    [
      'more addresses without NET_ADMIN',
      (s) => ({ ...s, server: { ports: [80], addresses: 2 } }),
      "server.addresses: 2 addresses are added inside the server: declare capabilities: { NET_ADMIN: '<why>' } beside it",
    ],
    [
      'keepAsking with fill',
      (s) => ({ ...s, client: { keepAsking: true } }),
      "client.keepAsking: needs a number of connections to attempt, not 'fill'",
    ],
  ];
  for (const [what, mutate, message] of exact) {
    it(`refuses ${what}`, () => {
      expect(() => validateScenario(mutate(valid()), FILE)).to.throw(InputError, `${FILE}: ${message}`);
    });
  }
});

/** What a mutation gives: the one-line message, or undefined when the scenario is accepted. */
function problem(mutate: (s: Record<string, any>) => unknown, file = FILE): string | undefined {
  try {
    validateScenario(mutate(valid()), file);
    return undefined;
  } catch (e) {
    expect(e).to.be.instanceOf(InputError);
    return (e as Error).message;
  }
}

const withSysctl = (name: string, value: unknown) => (s: Record<string, any>) => ({ ...s, client: { sysctls: { [name]: value } } });
const inCase = (over: Record<string, any>) => (s: Record<string, any>) => ({ ...s, cases: [{ ...s.cases[0], ...over }] });

describe('scenario validation: hostile input', () => {
  describe('the subnet stays inside 198.18.0.0/15', () => {
    for (const subnet of ['203.0.113.0/24', '224.1.0.0/24', '10.0.0.0/16', '198.20.0.0/24', '198.17.255.0/24', '0.0.0.0/16']) {
      it(`refuses ${subnet}`, () => {
        expect(problem((s) => ({ ...s, subnet }))).to.equal(
          `${FILE}: subnet: ${subnet} is outside 198.18.0.0/15, the benchmarking range the lab keeps its networks in`,
        );
      });
    }
    for (const subnet of ['198.18.0.0/16', '198.19.0.0/16', '198.18.7.0/24', '198.19.255.240/29']) {
      it(`accepts ${subnet}`, () => expect(problem((s) => ({ ...s, subnet }))).to.equal(undefined));
    }
    it('still names a malformed subnet as such', () => {
      expect(problem((s) => ({ ...s, subnet: '203.0.113.0/8' }))).to.match(/subnet: "203\.0\.113\.0\/8" is not an IPv4 subnet from \/16 to \/29/);
    });
  });

  describe('sysctl values have the shape their sysctl takes', () => {
    const refused: Array<[string, unknown, RegExp]> = [
      [
        'net.core.somaxconn',
        '1; x',
        /"1; x" may hold only digits, spaces, tabs, commas and dashes; net\.core\.somaxconn takes a whole number from 0 to 2147483647$/,
      ],
      ['net.core.somaxconn', '$(reboot)', /may hold only digits, spaces, tabs, commas and dashes/],
      ['net.core.somaxconn', '4096\nreboot', /may hold only digits/],
      ['net.core.somaxconn', '`id`', /may hold only digits/],
      ['net.core.somaxconn', '4096 | tee /x', /may hold only digits/],
      ['net.core.somaxconn', 1.5, /"1\.5" may hold only digits/],
      ['net.core.somaxconn', -1, /"-1" is not a whole number from 0 to 2147483647/],
      ['net.core.somaxconn', '4096 4096', /"4096 4096" is not a whole number/],
      ['net.core.somaxconn', '', /"" is not a whole number/],
      ['net.core.somaxconn', 2 ** 31, /is not a whole number from 0 to 2147483647/],
      ['net.ipv4.tcp_max_syn_backlog', 'lots', /"lots" may hold only digits.*takes a whole number/],
      ['net.ipv4.tcp_syncookies', 3, /"3" is not one of 0, 1, 2/],
      ['net.ipv4.tcp_tw_reuse', '1,2', /"1,2" is not one of 0, 1, 2/],
      ['net.ipv4.ip_autobind_reuse', 2, /"2" is not one of 0, 1/],
      ['net.ipv4.tcp_abort_on_overflow', '-', /"-" is not one of 0, 1/],
      ['net.ipv4.tcp_syn_retries', 0, /"0" is not a whole number from 1 to 127/],
      ['net.ipv4.tcp_fin_timeout', 'NaN', /may hold only digits/],
      ['net.ipv4.tcp_rmem', '4096 131072', /"4096 131072" is not three whole numbers of at least 1, min default max, such as "4096 131072 6291456"$/],
      ['net.ipv4.tcp_wmem', '4096 16384 4194304 1', /is not three whole numbers/],
      ['net.ipv4.tcp_rmem', '0 4096 4096', /is not three whole numbers of at least 1/],
      ['net.ipv4.tcp_wmem', '4096,16384,4194304', /is not three whole numbers/],
      ['net.ipv4.tcp_rmem', 4096, /"4096" is not three whole numbers/],
      ['net.ipv4.ip_local_port_range', '40000 40999; reboot', /may hold only digits.*takes a range such as "40000 40999"/],
      ['net.ipv4.ip_local_port_range', '40000', /not a range such as "40000 40999"/],
      ['net.ipv4.ip_local_reserved_ports', '40000;40010', /may hold only digits.*takes a port list such as "40100-40199,40500"/],
      ['net.ipv4.ip_local_reserved_ports', '40010-40000', /has a range with its low end above its high end \("40010-40000"\)/],
      ['net.ipv4.ip_local_reserved_ports', '40000,70000', /"40000,70000" must lie within 0-65535/],
      ['net.ipv4.ip_local_reserved_ports', '40000,,40010', /is not a port list such as/],
      ['net.ipv4.ip_local_reserved_ports', '40000-', /is not a port list such as/],
      ['net.ipv4.ip_local_reserved_ports', '1-2-3', /is not a port list such as/],
    ];
    for (const [name, value, reason] of refused) {
      it(`refuses ${name} = ${JSON.stringify(value)}, naming the field and the shape`, () => {
        const message = problem(withSysctl(name, value));
        expect(message, String(message)).to.match(
          new RegExp(`^${FILE.replace(/[./]/g, '\\$&')}: client\\.sysctls\\["${name.replace(/\./g, '\\.')}"\\]: `),
        );
        expect(message).to.match(reason);
        expect(message).to.not.include('\n');
      });
    }
    it('refuses a shell metacharacter in a case and in its quick overrides too', () => {
      expect(problem(inCase({ server: { sysctls: { 'net.core.somaxconn': '1&&x' } } }))).to.match(
        /: cases\[0\]\.server\.sysctls\["net\.core\.somaxconn"\]: "1&&x" may hold only/,
      );
      expect(problem(inCase({ quick: { client: { sysctls: { 'net.ipv4.tcp_fin_timeout': '5>x' } } } }))).to.match(
        /: cases\[0\]\.quick\.client\.sysctls\["net\.ipv4\.tcp_fin_timeout"\]: "5>x" may hold only/,
      );
    });
    const accepted: Array<[string, unknown]> = [
      ['net.core.somaxconn', '4096'],
      ['net.core.somaxconn', 65535],
      ['net.core.somaxconn', ' 128\t'],
      ['net.ipv4.tcp_max_syn_backlog', '4096'],
      ['net.ipv4.tcp_syncookies', 0],
      ['net.ipv4.tcp_syncookies', '2'],
      ['net.ipv4.tcp_tw_reuse', '2'],
      ['net.ipv4.ip_autobind_reuse', 1],
      ['net.ipv4.tcp_abort_on_overflow', 1],
      ['net.ipv4.tcp_fin_timeout', '60'],
      ['net.ipv4.tcp_max_tw_buckets', 0],
      ['net.ipv4.tcp_rmem', '4096 4096 4096'],
      ['net.ipv4.tcp_wmem', '4096\t16384\t4194304'],
      ['net.ipv4.ip_local_port_range', '1024 65535'],
      ['net.ipv4.ip_local_port_range', '40000\t40999'],
      ['net.ipv4.ip_local_reserved_ports', '40000,40010-40020'],
      ['net.ipv4.ip_local_reserved_ports', '40100-40199'],
      ['net.ipv4.ip_local_reserved_ports', '40500'],
      ['net.ipv4.ip_local_reserved_ports', ''],
    ];
    for (const [name, value] of accepted) {
      it(`accepts ${name} = ${JSON.stringify(value)}`, () => expect(problem(withSysctl(name, value))).to.equal(undefined));
    }
    it('accepts every scenario in scenarios/ as it stands', async function () {
      this.timeout(120_000);
      const dir = fileURLToPath(new URL('../../scenarios/', import.meta.url));
      const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
      expect(files.length).to.be.at.least(10);
      for (const f of files) {
        const module = (await import(pathToFileURL(`${dir}${f}`).href)) as { default: unknown };
        expect(validateScenario(module.default, `scenarios/${f}`).kind, f).to.equal('lab.scenario');
      }
    });
  });

  describe('server ports are listed once each', () => {
    it('refuses a port listed twice', () => {
      expect(problem((s) => ({ ...s, server: { ports: [9000, 9000] } }))).to.equal(`${FILE}: server.ports[1]: 9000 is listed twice`);
    });
    it('names the second listing, wherever it is', () => {
      expect(problem((s) => ({ ...s, server: { ports: [9000, 9001, 9002, 9001] } }))).to.equal(`${FILE}: server.ports[3]: 9001 is listed twice`);
    });
    it('refuses it in a case and in its quick overrides', () => {
      expect(problem(inCase({ server: { ports: [80, 81, 80] } }))).to.equal(`${FILE}: cases[0].server.ports[2]: 80 is listed twice`);
      expect(problem(inCase({ quick: { server: { ports: [7, 7] } } }))).to.equal(`${FILE}: cases[0].quick.server.ports[1]: 7 is listed twice`);
    });
    it('accepts distinct ports', () => expect(problem((s) => ({ ...s, server: { ports: [9000, 9001, 9002] } }))).to.equal(undefined));
  });

  describe("a client program's Dockerfile exists, relative to the scenario file", () => {
    // scenarios/seed-000/Dockerfile is time-wait's: found from scenarios/example.ts, not from the working directory.
    const program = (dockerfile: string) => ({ command: ['true'], dockerfile });
    it('accepts a Dockerfile next to the scenario file', () => {
      expect(problem((s) => ({ ...s, client: { program: program('seed-000/Dockerfile') } }))).to.equal(undefined);
    });
    it('accepts an absolute path', () => {
      const absolute = fileURLToPath(new URL('../../scenarios/seed-000/Dockerfile', import.meta.url));
      expect(problem((s) => ({ ...s, client: { program: program(absolute) } }), 'elsewhere/example.ts')).to.equal(undefined);
    });
    it('refuses a missing one, naming the field and where it looked', () => {
      const message = problem((s) => ({ ...s, client: { program: program('seed-000/Dockerfile.gone') } }));
      expect(message).to.match(
        /^scenarios\/example\.ts: client\.program\.dockerfile: "seed-000\/Dockerfile\.gone" does not exist \(looked for \/.*\/scenarios\/seed-000\/Dockerfile\.gone, relative to the scenario file\)$/,
      );
    });
    it('looks beside the scenario file, not in the working directory', () => {
      expect(problem((s) => ({ ...s, client: { program: program('seed-000/Dockerfile') } }), 'example.ts')).to.match(
        /^example\.ts: client\.program\.dockerfile: "seed-000\/Dockerfile" does not exist/,
      );
    });
    it('refuses a folder', () => {
      expect(problem((s) => ({ ...s, client: { program: program('seed-000') } }))).to.match(
        /client\.program\.dockerfile: "seed-000" is a folder, not a Dockerfile/,
      );
    });
    it('checks those of cases and of their quick overrides', () => {
      expect(problem(inCase({ client: { program: program('nope/Dockerfile') } }))).to.match(
        /^scenarios\/example\.ts: cases\[0\]\.client\.program\.dockerfile: "nope\/Dockerfile" does not exist/,
      );
      expect(problem(inCase({ quick: { client: { program: program('nope/Dockerfile') } } }))).to.match(
        /^scenarios\/example\.ts: cases\[0\]\.quick\.client\.program\.dockerfile: "nope\/Dockerfile" does not exist/,
      );
    });
    it('leaves a program without a Dockerfile alone (it runs in the lab image)', () => {
      expect(problem((s) => ({ ...s, client: { program: { command: ['true'] } } }))).to.equal(undefined);
    });
  });

  describe("a bad value inside a case's quick overrides is named with .quick", () => {
    const quick: Array<[string, Record<string, any>, string]> = [
      ['a client count', { clients: 0 }, 'cases[0].quick.clients: must be a whole number from 1 to 64 (got 0)'],
      ['a hold', { holdSeconds: -1 }, 'cases[0].quick.holdSeconds: must be a whole number from 0 to 3600 (got -1)'],
      [
        'a connection count',
        { client: { connections: 'lots' } },
        'cases[0].quick.client.connections: must be a number from 1 to 1000000 or \'fill\' (got "lots")',
      ],
      [
        'an accept delay',
        { server: { accept: { everyMs: 0 } } },
        'cases[0].quick.server.accept.everyMs: must be a whole number from 1 to 60000 (got 0)',
      ],
      [
        'a port range',
        { client: { sysctls: { 'net.ipv4.ip_local_port_range': '9 1' } } },
        'cases[0].quick.client.sysctls["net.ipv4.ip_local_port_range"]: "9 1" has its low end above its high end',
      ],
      [
        'addresses without NET_ADMIN',
        { server: { addresses: 2 } },
        "cases[0].quick.server.addresses: 2 addresses are added inside the server: declare capabilities: { NET_ADMIN: '<why>' } beside it",
      ],
      [
        'keepAsking with fill',
        { client: { keepAsking: true } },
        "cases[0].quick.client.keepAsking: needs a number of connections to attempt, not 'fill'",
      ],
      ['a field quick cannot have', { name: 'x' }, 'cases[0].quick.name: unknown field'],
    ];
    for (const [what, over, message] of quick) {
      it(`names ${what} at cases[0].quick`, () => expect(problem(inCase({ quick: over }))).to.equal(`${FILE}: ${message}`));
    }
  });

  describe("the scenario's name fits in a results folder's name", () => {
    it('refuses a 300-character name', () => {
      expect(problem((s) => ({ ...s, name: 'a'.repeat(300) }))).to.equal(
        `${FILE}: name: is 300 characters long: at most 64 (the results folder is named after it)`,
      );
    });
    it('refuses 65 characters and accepts 64', () => {
      expect(problem((s) => ({ ...s, name: 'a'.repeat(65) }))).to.match(/name: is 65 characters long: at most 64/);
      expect(problem((s) => ({ ...s, name: 'a'.repeat(64) }))).to.equal(undefined);
    });
  });

  describe("an expectation's predict is a function", () => {
    for (const [what, predict] of [
      ['a number', 5],
      ['a string', '() => 1'],
      ['missing', undefined],
      ['an object', { min: 1, max: 2 }],
    ] as const) {
      it(`refuses ${what}`, () => {
        expect(problem((s) => ({ ...s, expect: [{ ...s.expect[0], predict }] }))).to.equal(
          `${FILE}: expect[0].predict: must be a function of the theory context`,
        );
      });
    }
    it('refuses it in a case too', () => {
      expect(problem(inCase({ expect: [{ claim: 'c', subject: 'server', metric: 'estab', predict: 1 }] }))).to.equal(
        `${FILE}: cases[0].expect[0].predict: must be a function of the theory context`,
      );
    });
  });
});

describe('planning a case', () => {
  const options = { runId: 'r1', subnet: '198.18.5.0/24', quick: false, nofileCeiling: 20000, file: FILE };
  const scenario = (over: Record<string, any> = {}) => validateScenario({ ...valid(), ...over }, FILE) as Scenario;

  it('puts the server on .2 and the clients from .11 with the case sysctls and the engine ceiling', () => {
    const plan = planCase(
      scenario({ cases: [{ name: 'two', clients: 2, client: { sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } } }] }),
      0,
      options,
    );
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
    const plan = planCase(
      scenario({ cases: [{ name: 'four', clients: 4, client: { sysctls: { 'net.ipv4.ip_local_port_range': '32768 60999' } } }] }),
      0,
      options,
    );
    const perWorker = plan.clients.reduce((s, c) => s + c.asked, 0) / plan.server.workers;
    expect(perWorker).to.be.lessThan(20000 * 0.8);
  });

  it('uses the quick overrides with --quick', () => {
    const s = scenario({
      cases: [
        {
          name: 'q',
          client: { sysctls: { 'net.ipv4.ip_local_port_range': '32768 60999' } },
          quick: { client: { sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } } },
        },
      ],
    });
    expect(planCase(s, 0, { ...options, quick: true }).clients[0]!.sysctls['net.ipv4.ip_local_port_range']).to.equal('40000 40999');
    expect(planCase(s, 0, options).clients[0]!.sysctls['net.ipv4.ip_local_port_range']).to.equal('32768 60999');
  });

  it('refuses more clients than the subnet holds', () => {
    const s = scenario({ subnet: '198.18.9.0/28', cases: [{ name: 'many', clients: 5 }] });
    expect(() => planCase(s, 0, { ...options, subnet: '198.18.9.0/28' })).to.throw(
      InputError,
      `${FILE}: cases[0].clients: 5 clients do not fit in 198.18.9.0/28 (room for 4 beside the server)`,
    );
  });

  it('refuses a nofile above what the engine allows, naming the ceiling', () => {
    const s = scenario({ client: { nofile: 1_048_576 } });
    expect(() => planCase(s, 0, options)).to.throw(
      InputError,
      /cases\[0\]\.client\.nofile: 1048576 is above what this engine allows per process \(20000\)/,
    );
  });
});

describe('a server program of your own', () => {
  const options = { runId: 'r1', subnet: '198.18.5.0/24', quick: false, nofileCeiling: 20000, file: FILE };
  const program = { command: ['myserver', '--port', '80'], ports: [80] };
  const withProgram =
    (server: Record<string, any>, over: Record<string, any> = {}) =>
    (s: Record<string, any>) => ({ ...s, server, ...over });
  const plan = (mutate: (s: Record<string, any>) => unknown, quick = false) =>
    planCase(validateScenario(mutate(valid()), FILE) as Scenario, 0, { ...options, quick });

  it('runs its command, bounded like every flood, on the ports it lists; ready when each of them listens', () => {
    const server = plan(withProgram({ program })).server;
    expect(server.program).to.deep.equal(['timeout', '-k', '5', server.program[3]!, 'myserver', '--port', '80']);
    expect(Number(server.program[3])).to.be.greaterThan(600);
    expect(server.ports).to.deep.equal([80]);
    expect(server.customProgram).to.deep.equal({ command: ['myserver', '--port', '80'] });
    expect(server.ready).to.deep.equal({ ports: [80], timeoutSeconds: 30 });
    expect(plan((s) => ({ ...s })).server.customProgram).to.equal(undefined);
  });

  it('waits for the ready port it names, as long as it says; hands its settings to the theory', () => {
    const server = plan(
      withProgram({ program: { ...program, ports: [80, 443], ready: { port: 443, timeoutSeconds: 5 }, settings: { workers: 2 } } }),
    ).server;
    expect(server.ready).to.deep.equal({ ports: [443], timeoutSeconds: 5 });
    expect(server.settings).to.deep.equal({ workers: 2 });
  });

  it('finds its Dockerfile beside the scenario file, and refuses a missing one', () => {
    const server = plan(withProgram({ program: { ...program, dockerfile: 'nginx/Dockerfile' } })).server;
    expect(server.customProgram?.dockerfile).to.match(/\/scenarios\/nginx\/Dockerfile$/);
    expect(problem(withProgram({ program: { ...program, dockerfile: 'nope/Dockerfile' } }))).to.match(
      /^scenarios\/example\.ts: server\.program\.dockerfile: "nope\/Dockerfile" does not exist/,
    );
    expect(problem(inCase({ quick: { server: { program: { ...program, dockerfile: 'nope/Dockerfile' } } } }))).to.match(
      /cases\[0\]\.quick\.server\.program\.dockerfile: "nope\/Dockerfile" does not exist/,
    );
  });

  it("needs ports, its own or the server's", () => {
    expect(problem(withProgram({ program: { command: ['x'] } }))).to.equal(
      `${FILE}: server.ports: is missing (the ports the server listens on; or server.program.ports)`,
    );
    expect(plan(withProgram({ ports: [9000], program: { command: ['x'] } })).server.ports).to.deep.equal([9000]);
  });

  it('refuses bad fields of its own', () => {
    expect(problem(withProgram({ program: { ...program, command: [] } }))).to.equal(
      `${FILE}: server.program.command: needs at least the program to run`,
    );
    expect(problem(withProgram({ program: { ...program, ready: { timeoutSeconds: 0 } } }))).to.equal(
      `${FILE}: server.program.ready.timeoutSeconds: must be a whole number from 1 to 600 (got 0)`,
    );
    expect(problem(withProgram({ program: { ...program, readyy: {} } }))).to.equal(
      `${FILE}: server.program.readyy: unknown field (did you mean "ready"?)`,
    );
    expect(problem(withProgram({ program: { ...program, settings: { workers: [1] } } }))).to.match(
      /^scenarios\/example\.ts: server\.program\.settings/,
    );
  });

  it("refuses labserver's own settings beside it, named where they were written", () => {
    expect(() => plan(withProgram({ program, backlog: 64 }))).to.throw(
      InputError,
      `${FILE}: server.backlog: is a setting of the lab's server (labserver): a server program of your own sets its own (its config, its flags)`,
    );
    expect(() => plan(inCase({ server: { program, workers: 2 } }))).to.throw(
      InputError,
      /^scenarios\/example\.ts: cases\[0\]\.server\.workers: is a setting of the lab's server/,
    );
    expect(() => plan(inCase({ server: { program }, quick: { server: { emfileBackoffMs: 0 } } }), true)).to.throw(
      InputError,
      /cases\[0\]\.quick\.server\.emfileBackoffMs: is a setting/,
    );
  });

  it('refuses the Ping round and hold-ping unless it says what it answers; with http the clients send GET /', () => {
    expect(() => plan(withProgram({ program }, { client: { connections: 'fill', ping: true } }))).to.throw(
      InputError,
      `${FILE}: client.ping: needs a server that answers: say what yours speaks with server.program.protocol ('http' or 'ping')`,
    );
    expect(() => plan(inCase({ server: { program }, client: { holdPing: { seconds: 5, intervalMs: 1000, timeoutMs: 1000 } } }))).to.throw(
      InputError,
      /cases\[0\]\.client\.holdPing: needs a server that answers/,
    );
    const http = plan(withProgram({ program: { ...program, protocol: 'http' } }, { client: { connections: 'fill', ping: true } }));
    expect(http.clients[0]!.program).to.include.members(['--ping', '--http']);
    const ping = plan(withProgram({ program: { ...program, protocol: 'ping' } }, { client: { connections: 'fill', ping: true } }));
    expect(ping.clients[0]!.program).to.include('--ping').and.not.include('--http');
  });
});
