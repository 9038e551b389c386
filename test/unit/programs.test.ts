import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  clientProcessesFor,
  CLIENT_PROGRESS_MS,
  FD_RESERVE,
  labchurnArgv,
  labclientArgv,
  labserverArgv,
  serverWorkersFor,
} from '../../lab/programs/argv.ts';
import { failuresIn, parseLine } from '../../lab/programs/lines.ts';
import { isImageProgram, LABAGENT, LABCHURN, LABCLIENT, LABSERVER, PROGRAM_HEADERS, PROGRAMS, type LabProgram } from '../../lab/programs/programs.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const source = (program: LabProgram) => readFileSync(join(root, program.source), 'utf8');

/** The C program's getopt_long table: each long option and whether it takes an argument. */
function optionTable(program: LabProgram): Map<string, boolean> {
  const table = /struct option longopts\[\] = \{([\s\S]*?)\};/.exec(source(program));
  if (!table) throw new Error(`${program.source} has no longopts table`);
  const options = new Map<string, boolean>();
  for (const m of table[1]!.matchAll(/\{\s*"([a-z-]+)",\s*(required_argument|no_argument)/g)) options.set(m[1]!, m[2] === 'required_argument');
  return options;
}

/** Walks argv as getopt_long would: every flag in the program's table, a value after each that takes one. */
function expectParsable(program: LabProgram, argv: string[]): void {
  expect(argv[0]).to.equal(program.name);
  const table = optionTable(program);
  for (let i = 1; i < argv.length; i++) {
    const flag = argv[i]!;
    expect(flag, `${program.name} argv[${i}]`).to.match(/^--/);
    const name = flag.slice(2);
    expect(table.has(name), `${program.name} has no --${name}`).to.equal(true);
    if (table.get(name)) {
      const value = argv[++i];
      expect(value, `--${name} needs a value`).to.be.a('string');
      expect(value!.startsWith('--'), `--${name}'s value is ${value}`).to.equal(false);
    }
  }
}

const flagsOf = (argv: string[]) => argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2));

describe('the programs table', () => {
  it('names every C source and header there is, and only those', () => {
    for (const file of [...PROGRAMS.map((p) => p.source), ...PROGRAM_HEADERS]) expect(existsSync(join(root, file)), file).to.equal(true);
    // images/bench holds the bench's reference program, not one of the lab's.
    const files = (dir: string, ending: string) =>
      readdirSync(join(root, dir))
        .filter((f) => f.endsWith(ending))
        .map((f) => `${dir}/${f}`);
    expect(PROGRAMS.map((p) => p.source)).to.have.members(['images/server', 'images/client', 'images/agent'].flatMap((dir) => files(dir, '.c')));
    expect(PROGRAM_HEADERS).to.have.members(files('images/common', '.h'));
    for (const p of PROGRAMS) expect(p.source).to.match(new RegExp(`/${p.name}\\.c$`));
  });

  it('puts each program in the image whose Dockerfile and Makefile build it, the agent in none', () => {
    for (const p of PROGRAMS.filter((p) => p.image)) {
      expect(readFileSync(join(root, `Dockerfile.${p.image}`), 'utf8'), `Dockerfile.${p.image}`).to.include(`/${p.name}`);
      expect(readFileSync(join(root, `images/${p.image}/Makefile`), 'utf8'), `images/${p.image}/Makefile`).to.match(new RegExp(`^${p.name}:`, 'm'));
      expect(p.source.startsWith(`images/${p.image}/`)).to.equal(true);
    }
    expect(LABAGENT).not.to.have.property('image');
  });

  it('tells the binaries built by hand beside their sources from the sources', () => {
    expect([LABSERVER, LABCLIENT, LABCHURN].every((p) => isImageProgram(p.name))).to.equal(true);
    expect(isImageProgram('labserver.c')).to.equal(false);
    expect(isImageProgram(LABAGENT.name)).to.equal(false);
    expect(isImageProgram('Makefile')).to.equal(false);
  });
});

describe("the programs' command lines", () => {
  it('give labserver only flags of its getopt table, with every option set', () => {
    const argv = labserverArgv({
      ports: [8080, 8081],
      backlog: 128,
      workers: 3,
      deadlineSeconds: 90,
      progressMs: 200,
      acceptPaused: true,
      acceptDelayMs: 5,
      closeAfterPong: true,
      http: true,
      noRead: true,
      emfileBackoffMs: 0,
      dualStack: true,
      holdMs: 30000,
    });
    expectParsable(LABSERVER, argv);
    expect(flagsOf(argv)).to.have.members([...optionTable(LABSERVER).keys()]);
    expect(argv.slice(0, 3)).to.deep.equal(['labserver', '--ports', '8080,8081']);
    // 0 is a value the program takes (retry at once), not "left out".
    expect(argv.slice(-2)).to.deep.equal(['--emfile-backoff-ms', '0']);
  });

  it("give labserver the program's defaults for what is left out", () => {
    expect(labserverArgv({ ports: [8080], backlog: 4096, workers: 1, deadlineSeconds: 600 })).to.deep.equal([
      'labserver',
      '--ports',
      '8080',
      '--backlog',
      '4096',
      '--workers',
      '1',
      '--deadline',
      '600',
    ]);
  });

  it('give labclient only flags of its getopt table, with every option set', () => {
    const argv = labclientArgv({
      targets: ['198.18.0.2:8080', '[fd00:1ab:c612::2]:8081'],
      sources: ['198.18.0.11', 'fd00:1ab:c612::b'],
      count: 100,
      processes: 2,
      inflight: 64,
      bind: 'reuseaddr',
      socketPortRange: [40000, 40999],
      deadlineSeconds: 300,
      progressMs: 250,
      ping: true,
      pingWaitMs: 1000,
      holdPing: { seconds: 10, intervalMs: 1000, timeoutMs: 500, stepDownMs: [2000, 4000] },
      pingStopBehind: true,
      sendBytes: 4096,
      keepAsking: true,
      connectTimeoutMs: 2000,
      costPorts: 1000,
      http: true,
      request: { path: '/hold', answerWaitMs: 1500 },
    });
    expectParsable(LABCLIENT, argv);
    expect(flagsOf(argv)).to.have.members([...optionTable(LABCLIENT).keys()]);
    expect(argv[argv.indexOf('--socket-port-range') + 1]).to.equal('40000-40999');
    expect(argv[argv.indexOf('--ping-step-down-ms') + 1]).to.equal('2000,4000');
  });

  it("give labclient the lab's progress interval, and no flag for what is left out or 0", () => {
    const argv = labclientArgv({
      targets: ['10.0.0.1:80'],
      count: 0,
      processes: 1,
      inflight: 256,
      bind: 'none',
      deadlineSeconds: 120,
      sendBytes: 0,
      connectTimeoutMs: 0,
      ping: false,
      pingWaitMs: 5000,
    });
    expect(argv).to.deep.equal([
      'labclient',
      '--targets',
      '10.0.0.1:80',
      '--count',
      '0',
      '--processes',
      '1',
      '--inflight',
      '256',
      '--bind',
      'none',
      '--deadline',
      '120',
      '--progress-ms',
      String(CLIENT_PROGRESS_MS),
    ]);
  });

  it('give labclient only the bind modes it knows', () => {
    const names = /bind_names\[\] = \{([^}]*)\}/
      .exec(source(LABCLIENT))![1]!
      .match(/"([a-z]+)"/g)!
      .map((s) => s.slice(1, -1));
    for (const bind of ['none', 'any', 'reuseaddr', 'nobindport'] as const) {
      const argv = labclientArgv({ targets: ['10.0.0.1:80'], count: 1, processes: 1, inflight: 1, bind, deadlineSeconds: 10 });
      expect(names).to.include(argv[argv.indexOf('--bind') + 1]);
    }
  });

  it('give labchurn only flags of its getopt table, with every option set', () => {
    const argv = labchurnArgv({
      targets: ['10.0.0.1:80'],
      rate: 500,
      seconds: 30,
      processes: 4,
      inflight: 128,
      deadlineSeconds: 200,
      progressMs: 1000,
      connectTimeoutMs: 3000,
      waitEof: true,
      request: { path: '/', perConnection: 100 },
    });
    expectParsable(LABCHURN, argv);
    expect(flagsOf(argv)).to.have.members([...optionTable(LABCHURN).keys()]);
    expect(labchurnArgv({ targets: ['10.0.0.1:80'], rate: 1, seconds: 1, inflight: 1, deadlineSeconds: 2 })).to.deep.equal([
      'labchurn',
      '--targets',
      '10.0.0.1:80',
      '--rate',
      '1',
      '--seconds',
      '1',
      '--inflight',
      '1',
      '--deadline',
      '2',
      '--progress-ms',
      '500',
    ]);
  });
});

describe('processes and workers for a count of connections', () => {
  const nofile = 1024;
  const room = nofile - FD_RESERVE;

  it('give one flood process as long as its connections fit beside the reserve', () => {
    expect(clientProcessesFor(0, nofile)).to.equal(1);
    expect(clientProcessesFor(1, nofile)).to.equal(1);
    expect(clientProcessesFor(room, nofile)).to.equal(1);
    expect(clientProcessesFor(room + 1, nofile)).to.equal(2);
    expect(clientProcessesFor(10 * room, nofile)).to.equal(10);
  });

  it('leave each server worker a third spare, beside the reserve and a descriptor per listening port', () => {
    const ports = 4;
    const perWorker = (nofile - FD_RESERVE - ports) / 1.34; // 713.4 connections
    expect(serverWorkersFor(0, nofile, ports)).to.equal(1);
    expect(serverWorkersFor(Math.floor(perWorker), nofile, ports)).to.equal(1);
    expect(serverWorkersFor(Math.ceil(perWorker), nofile, ports)).to.equal(2);
    expect(serverWorkersFor(1_000_000, 1 << 20, 1)).to.equal(2);
  });
});

describe("the programs' lines", () => {
  it('are JSON objects with a type; anything else is no line', () => {
    expect(parseLine('{"type":"filled","established":3}')).to.deep.equal({ type: 'filled', established: 3 });
    for (const text of ['', 'gcc: warning', '{"established":3}', '[1]', 'null', '{"type":1}', '{"type":"progress"'])
      expect(parseLine(text), text).to.equal(undefined);
  });

  it('count connect() and bind() failures alike', () => {
    expect(failuresIn({ errors: { EMFILE: 2 }, bind_errors: { EADDRINUSE: 1 } })).to.equal(3);
    expect(failuresIn({})).to.equal(0);
  });
});
