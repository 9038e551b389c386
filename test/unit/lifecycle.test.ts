/**
 * The run's one lifecycle (runScenario) on a fake runtime: events in order, teardown and close whatever
 * happens, bad input stopping before anything is created, a subnet taken meanwhile, handlers that hold the
 * run, the matrix, and choosing a runtime by name.
 */
import { expect } from 'chai';
import { InputError, Interrupted, RuntimeFailure } from '../../lab/errors.ts';
import type { RunEvents } from '../../lab/run/events.ts';
import { runMatrix } from '../../lab/run/matrix-run.ts';
import { runScenario, type ScenarioRunOptions } from '../../lab/run/scenario-run.ts';
import { registeredRuntimes } from '../../lab/runtime/registry.ts';
import { selectRuntime } from '../../lab/runtime/select.ts';
import { defineScenario } from '../../lab/scenario/define.ts';
import { descriptorsLeft } from '../../lab/scenario/theory/descriptors.ts';
import { serverHolds } from '../../lab/scenario/theory/ports.ts';
import { atLeast, exactly } from '../../lab/scenario/theory/prediction.ts';
import type { Scenario } from '../../lab/scenario/types.ts';
import { FakeRuntime, type FakeOptions } from '../fake/fake-runtime.ts';

const FILE = 'test/unit/fake-range.ts';
const PHASES = ['hosts', 'server', 'observe', 'flood', 'settle', 'collect', 'stop', 'teardown'];

/** 100 ports per client, 300 asked: the range decides, and each client runs out (EADDRNOTAVAIL). */
const scenario = defineScenario({
  name: 'fake-range',
  claim: 'a client holds the usable ports of its range to one server port',
  server: { ports: [9000] },
  client: { connections: 300, sysctls: { 'net.ipv4.ip_local_port_range': '40000 40099' } },
  deadlineSeconds: 30,
  expect: [
    { claim: 'each client holds its 100 ports', subject: 'each client', metric: 'estab', predict: () => exactly(100) },
    { claim: 'a spent range answers EADDRNOTAVAIL', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => atLeast(1) },
    { claim: 'the server holds the sum', subject: 'server', metric: 'estab', predict: serverHolds },
  ],
  cases: [
    { name: 'one client', clients: 1 },
    { name: 'two clients', clients: 2 },
  ],
});

/** A scenario like the one above with its first case changed. */
function withCase(change: Partial<Scenario['cases'][number]>): Scenario {
  return { ...scenario, cases: [{ ...scenario.cases[0]!, ...change }] };
}

/** Every event as one line, progress and log left out. */
type Closed = { removed: readonly string[]; interrupted: boolean; left?: string };

function recorder(extra: RunEvents = {}): { events: RunEvents; seen: string[]; closed: Closed[] } {
  const seen: string[] = [];
  const closed: Closed[] = [];
  const events: RunEvents = {
    connected: () => void seen.push('connected'),
    stepStarted: (step) => void seen.push(`stepStarted ${step}`),
    stepFinished: (step, outcome) => void seen.push(`stepFinished ${step}${outcome.error ? ' error' : ''}`),
    caseStarting: (info) => void seen.push(`caseStarting ${info.name}`),
    phaseStarted: async (info, phase, hosts) => {
      seen.push(`phaseStarted ${phase.name}`);
      await extra.phaseStarted?.(info, phase, hosts);
    },
    phaseFinished: async (info, phase, outcome) => {
      seen.push(`phaseFinished ${phase.name}${outcome.error ? ' error' : ''}`);
      await extra.phaseFinished?.(info, phase, outcome);
    },
    caseFinished: (info, outcome) => void seen.push(`caseFinished ${info.name}${outcome.error ? ' error' : ''}`),
    closed: (removed, interrupted, left) => {
      seen.push('closed');
      closed.push({ removed, interrupted, ...(left && { left }) });
    },
  };
  return { events, seen, closed };
}

/** The journal's entries about objects of the run: networks, hosts, removals, close. */
const lifecycle = (fake: FakeRuntime) => fake.journal.filter((e) => /^(createNetwork|startHosts|remove|close)/.test(e));

async function rejection(work: Promise<unknown>): Promise<Error> {
  try {
    await work;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the run to reject');
}

function run(fake: FakeRuntime, options: Partial<ScenarioRunOptions> = {}, events: RunEvents = {}, s: Scenario = scenario) {
  return runScenario(fake, s, { file: FILE, quick: false, ...options }, events);
}

function fakeWith(options: FakeOptions = {}): FakeRuntime {
  return new FakeRuntime(options);
}

describe('the run lifecycle on a fake runtime', () => {
  it('a passing run: one result per case, events in order, the session closed once with nothing left', async () => {
    const fake = fakeWith();
    const { events, seen, closed } = recorder();
    const results = await run(fake, {}, events);

    expect(
      results.pass,
      JSON.stringify(
        results.cases.map((c) => c.expectations),
        null,
        1,
      ),
    ).to.equal(true);
    expect(results.cases.map((c) => c.name)).to.deep.equal(['one client', 'two clients']);
    const twoClients = results.cases[1]!;
    expect(twoClients.hosts.map((h) => [h.name, h.estab])).to.deep.equal([
      ['server', 200],
      ['client-1', 100],
      ['client-2', 100],
    ]);
    expect(twoClients.hosts.find((h) => h.name === 'client-1')!.errors).to.deep.equal({ EADDRNOTAVAIL: 1 });
    expect(twoClients.samples.some((s) => s.source === 'kernel' && s.host === 'server')).to.equal(true);

    const perCase = (name: string) => [
      `caseStarting ${name}`,
      ...PHASES.flatMap((p) => [`phaseStarted ${p}`, `phaseFinished ${p}`]),
      `caseFinished ${name}`,
    ];
    expect(seen).to.deep.equal([
      'connected',
      'stepStarted images',
      'stepFinished images',
      'stepStarted network',
      'stepFinished network',
      ...perCase('one client'),
      ...perCase('two clients'),
      'closed',
    ]);
    expect(closed).to.deep.equal([{ removed: [`network lab-${results.runId}`], interrupted: false }]);

    expect(lifecycle(fake)).to.deep.equal([
      'createNetwork 198.18.0.0/24',
      'startHosts server,client-1',
      'remove server',
      'remove client-1',
      'startHosts server,client-1,client-2',
      'remove server',
      'remove client-1',
      'remove client-2',
      'close',
    ]);
    expect(fake.journal.at(-1)).to.equal('close');
    expect(fake.leftovers()).to.deep.equal([]);
    // Clients are stopped before the server, the sampler by its stop file.
    const signals = fake.journal.filter((e) => e.startsWith('signal'));
    expect(signals.at(-1)).to.equal('signal server labserver TERM');
    expect(fake.journal.some((e) => /^exec server touch \/tmp\/lab-sampler-.*\.stop$/.test(e))).to.equal(true);
  });

  it('a client program failing mid-flood: the run rejects naming the client, teardown and close still run', async () => {
    const fake = fakeWith({ failingClients: ['client-1'] });
    const { events, seen } = recorder();
    const error = await rejection(run(fake, { cases: [0] }, events));

    expect(error).to.be.instanceOf(RuntimeFailure);
    expect(error.message).to.match(/^the flood on client-1 \(198\.18\.0\.11\) exited \(code 1\) before it filled: labclient: epoll_wait/);
    expect(seen).to.include.members([
      'phaseFinished flood error',
      'phaseStarted teardown',
      'phaseFinished teardown',
      'caseFinished one client error',
      'closed',
    ]);
    expect(seen).not.to.include('phaseStarted settle');
    expect(lifecycle(fake)).to.deep.equal(['createNetwork 198.18.0.0/24', 'startHosts server,client-1', 'remove server', 'remove client-1', 'close']);
    expect(fake.leftovers()).to.deep.equal([]);
  });

  it('interrupted during the flood: rejects with Interrupted, hosts removed, closed, and closed says interrupted', async () => {
    // The flood never fills: the client's program hangs until its host is removed.
    const fake = fakeWith({ hangsAt: 'spawn client-1 labclient' });
    const controller = new AbortController();
    const { events, seen, closed } = recorder({
      phaseStarted: (_info, phase) => {
        if (phase.name === 'flood') setTimeout(() => controller.abort('SIGINT'), 20);
      },
    });
    const error = await rejection(run(fake, { cases: [0], signal: controller.signal }, events));

    expect(error).to.be.instanceOf(Interrupted);
    expect(error.message).to.equal('interrupted by SIGINT: tore down what this run created');
    expect(seen).to.include.members(['phaseFinished flood error', 'phaseFinished teardown', 'closed']);
    expect(closed).to.have.length(1);
    expect(closed[0]!.interrupted).to.equal(true);
    expect(lifecycle(fake)).to.deep.equal(['createNetwork 198.18.0.0/24', 'startHosts server,client-1', 'remove server', 'remove client-1', 'close']);
    expect(fake.leftovers()).to.deep.equal([]);
  });

  it('a network the engine will not remove: the results stand, and closed names what is left and how to remove it', async () => {
    const fake = fakeWith({ networkStays: 'network has active endpoints' });
    const { events, closed } = recorder();
    const results = await run(fake, {}, events);
    expect(results.pass).to.equal(true);
    expect(closed).to.deep.equal([
      {
        removed: [],
        interrupted: false,
        left: `could not remove network lab-${results.runId} (network has active endpoints): \`lab clean\` removes what is left`,
      },
    ]);
  });

  it('a hung engine, interrupted: rejects with Interrupted before anything is created, and closes', async () => {
    const fake = fakeWith({ hangsAt: 'connect' });
    const controller = new AbortController();
    const { events, closed } = recorder();
    setTimeout(() => controller.abort('SIGTERM'), 20);
    const error = await rejection(run(fake, { signal: controller.signal }, events));
    expect(error).to.be.instanceOf(Interrupted);
    expect(error.message).to.equal('interrupted by SIGTERM: tore down what this run created');
    expect(lifecycle(fake)).to.deep.equal(['close']);
    expect(closed).to.deep.equal([{ removed: [], interrupted: true }]);
  });

  it('a verdict against the theory still resolves: clients capped below their range fail the expectation', async () => {
    const fake = fakeWith({ connectCap: 60 });
    const results = await run(fake, { cases: [0] });
    expect(results.pass).to.equal(false);
    const [c] = results.cases;
    expect(c!.hosts.map((h) => [h.name, h.estab])).to.deep.equal([
      ['server', 60],
      ['client-1', 60],
    ]);
    expect(c!.expectations.map((e) => [e.host, e.metric, e.measured, e.pass])).to.deep.equal([
      ['client-1', 'estab', 60, false],
      ['client-1', 'errors.EADDRNOTAVAIL', 1, true],
      ['server', 'estab', 60, false],
    ]);
    expect(fake.leftovers()).to.deep.equal([]);
  });

  describe('bad input stops before anything is created', () => {
    const cases: Array<[string, Partial<Scenario['cases'][number]>, RegExp, FakeOptions?]> = [
      ['more clients than the subnet holds', { clients: 245 }, /cases\[0\]\.clients: 245 clients do not fit in 198\.18\.0\.0\/24 \(room for 244/],
      [
        'nofile above the ceiling',
        { client: { nofile: 4096 } },
        /cases\[0\]\.client\.nofile: 4096 is above what this engine allows per process \(1024\)/,
        { nofileCeiling: 1024 },
      ],
    ];
    const predicting = (predict: unknown): Partial<Scenario['cases'][number]> => ({
      expect: [{ claim: 'x', subject: 'server', metric: 'estab', predict: predict as () => number }],
    });
    cases.push(
      [
        'a predict() that throws',
        predicting(() => {
          throw new Error('boom');
        }),
        /cases\[0\]\.expect\[0\]\.predict: predict\(\) threw: boom$/,
      ],
      [
        'a predict() that returns a Promise',
        predicting(async () => 10),
        /cases\[0\]\.expect\[0\]\.predict: predict\(\) returned a Promise: it must return at once$/,
      ],
      ['a predict() that returns NaN', predicting(() => NaN), /cases\[0\]\.expect\[0\]\.predict: predict\(\) returned NaN$/],
      [
        'a predict() that returns a string',
        predicting(() => '10'),
        /cases\[0\]\.expect\[0\]\.predict: predict\(\) returned string, not a number or \{ min, max \}$/,
      ],
      [
        'a predict() with min above max',
        predicting(() => ({ min: 5, max: 2 })),
        /cases\[0\]\.expect\[0\]\.predict: predict\(\) returned min 5 above max 2$/,
      ],
      ['a scenario-level predict() that throws, per client', { expect: [] }, /: expect\[0\]\.predict: predict\(\) threw: no client-2$/],
    );
    for (const [what, change, message, options] of cases) {
      it(`${what}: InputError, no network, no host, the session closed`, async () => {
        const fake = fakeWith(options);
        const { events, seen } = recorder();
        const base = what.startsWith('a scenario-level')
          ? {
              ...scenario,
              expect: [
                {
                  claim: 'x',
                  subject: 'each client' as const,
                  metric: 'estab' as const,
                  predict: (ctx: { client?: { name: string } }) => {
                    if (ctx.client?.name === 'client-2') throw new Error('no client-2');
                    return 100;
                  },
                },
              ],
            }
          : scenario;
        const error = await rejection(run(fake, {}, events, what.startsWith('a scenario-level') ? base : withCase(change)));
        expect(error).to.be.instanceOf(InputError);
        expect(error.message).to.match(message);
        expect(error.message.startsWith(`${FILE}: `)).to.equal(true);
        expect(lifecycle(fake)).to.deep.equal(['close']);
        expect(seen).to.deep.equal(['closed']);
      });
    }
  });

  it('a predict() that needs a figure only the run reads is left for after the run', async () => {
    const fake = fakeWith();
    const needsFds = withCase({ expect: [{ claim: 'x', subject: 'server', metric: 'estab', predict: (ctx) => descriptorsLeft(ctx.server) }] });
    const results = await run(fake, {}, {}, needsFds);
    expect(results.cases[0]!.expectations.at(-1)!.invalid ?? '').to.match(/did not report the descriptors|^$/);
    expect(fake.leftovers()).to.deep.equal([]);
  });

  it('a signal during the last teardown still interrupts the run', async () => {
    const fake = fakeWith();
    const controller = new AbortController();
    const { events, closed } = recorder({
      phaseStarted: (info, phase) => {
        if (phase.name === 'teardown' && info.index === 1) controller.abort('SIGHUP');
      },
    });
    const error = await rejection(run(fake, { signal: controller.signal }, events));
    expect(error).to.be.instanceOf(Interrupted);
    expect(closed[0]!.interrupted).to.equal(true);
    expect(fake.leftovers()).to.deep.equal([]);
  });

  it('a subnet taken meanwhile: the run plans again in the next free one, and its hosts are there', async () => {
    const fake = fakeWith({ subnetTaken: 1 });
    const { events, seen } = recorder();
    const subnets: string[] = [];
    events.caseStarting = (info) => void subnets.push(info.plan.subnet);
    const results = await run(fake, { cases: [1] }, events);

    expect(results.pass).to.equal(true);
    expect(fake.journal.filter((e) => e.startsWith('createNetwork'))).to.deep.equal(['createNetwork 198.18.0.0/24', 'createNetwork 198.18.1.0/24']);
    expect(subnets).to.deep.equal(['198.18.1.0/24']);
    expect(results.cases[0]!.subnet).to.equal('198.18.1.0/24');
    expect(fake.hosts.map((h) => h.plan.ip)).to.deep.equal(['198.18.1.2', '198.18.1.11', '198.18.1.12']);
    expect(fake.hosts.find((h) => h.plan.role === 'client')!.plan.program.join(' ')).to.include('--targets 198.18.1.2:9000');
    expect(seen.filter((e) => e.startsWith('stepFinished network'))).to.deep.equal(['stepFinished network']);
    expect(fake.leftovers()).to.deep.equal([]);
  });

  it('an awaited handler holds the run: the next phase starts only once it resolves', async () => {
    const fake = fakeWith();
    const order: string[] = [];
    let spawnedWhileHeld = true;
    const { events } = recorder({
      phaseStarted: (_info, phase) => void order.push(`started ${phase.name}`),
      phaseFinished: async (_info, phase) => {
        order.push(`finished ${phase.name}`);
        if (phase.name !== 'hosts') return;
        await new Promise((resolve) => setTimeout(resolve, 50));
        spawnedWhileHeld = fake.journal.some((e) => e.startsWith('spawn'));
        order.push('hosts handler resolved');
      },
    });
    await run(fake, { cases: [0] }, events);
    expect(order.slice(0, 5)).to.deep.equal(['started hosts', 'finished hosts', 'hosts handler resolved', 'started server', 'finished server']);
    expect(spawnedWhileHeld).to.equal(false);
  });

  it('a host vanishing mid-flood: the run finishes, the host lost and the verdicts that needed it invalid', async () => {
    const fake = fakeWith({ hostVanishes: { host: 'client-2', after: 'spawn client-2 labclient' } });
    const results = await run(fake, { cases: [1] });
    const [c] = results.cases;
    expect(results.pass).to.equal(false);
    expect(c!.hosts.find((h) => h.name === 'client-2')!.lost).to.equal(true);
    const rows = (host: string) => c!.expectations.filter((e) => e.host === host);
    expect(rows('client-1').every((e) => e.pass && !e.invalid)).to.equal(true);
    expect(rows('client-2').every((e) => !e.pass && e.invalid === 'client-2 lost mid-run')).to.equal(true);
    expect(rows('server').every((e) => !e.pass && e.invalid === 'client-2 lost mid-run')).to.equal(true);
    expect(fake.leftovers()).to.deep.equal([]);
  });

  // SKIPPED, a bug in lab/run/scenario-run.ts: runCase's finally (line ~223) awaits teardown.run() unguarded.
  // With the engine gone, CaseRun.teardown's host.remove() rejects (as DockerHost's does when the engine is
  // unreachable), so the finally throws that plain Error ("the fake engine does not answer (remove server)")
  // in place of the flood's RuntimeFailure, and phaseFinished(teardown) and caseFinished are never told.
  it('the engine stopping mid-flood: the run rejects saying so, and still closes', async () => {
    const fake = fakeWith({ engineStopsAfter: 'spawn client-1 labclient' });
    const { events, seen } = recorder();
    const error = await rejection(run(fake, { cases: [0] }, events));
    expect(error).to.be.instanceOf(RuntimeFailure);
    expect(error.message).to.equal('the fake engine stopped answering during flood');
    expect(seen).to.include.members(['phaseFinished flood error', 'caseFinished one client error', 'closed']);
    expect(fake.journal.at(-1)).to.equal('close');
    expect(fake.leftovers()).to.deep.equal([]);
  });

  it('runMatrix: a job that breaks is recorded, the other returns its run', async () => {
    const good = fakeWith({ name: 'fake-good' });
    const bad = fakeWith({ name: 'fake-bad', serverError: 'bind: Address already in use' });
    const written: string[] = [];
    const { runs, failures } = await runMatrix(
      [{ file: FILE, scenario }],
      [
        { kernel: 'good', runtime: () => good },
        { kernel: 'bad', runtime: () => bad },
      ],
      {
        quick: false,
        parallel: 2,
        signal: new AbortController().signal,
        onResults: async (kernel, file) => {
          written.push(`${kernel} ${file}`);
          return `${kernel}.json`;
        },
        onState: () => {},
      },
    );
    expect(runs.map((r) => [r.file, r.results.pass, r.results.environment.runtime])).to.deep.equal([['good.json', true, 'fake-good']]);
    expect(written).to.deep.equal([`good ${FILE}`]);
    expect(failures).to.deep.equal([
      { kernel: 'bad', scenario: 'fake-range', error: 'the server on 198.18.0.2 could not listen: bind: Address already in use' },
    ]);
    expect(good.leftovers()).to.deep.equal([]);
    expect(bad.leftovers()).to.deep.equal([]);
    expect(bad.journal.filter((e) => e === 'close')).to.have.length(1);
  });
});

describe('choosing a runtime through the registry', () => {
  const inputError = (work: () => unknown): InputError => {
    try {
      work();
    } catch (error) {
      expect(error).to.be.instanceOf(InputError);
      return error as InputError;
    }
    throw new Error('expected an InputError');
  };

  it('--runtime nosuch: an InputError listing the registered runtimes', () => {
    const names = registeredRuntimes().map((r) => r.name);
    expect(names).to.include.members(['docker', 'netns', 'vm']);
    const error = inputError(() => selectRuntime({ runtime: 'nosuch' }, process.cwd()));
    expect(error.message).to.equal(`--runtime: must be one of ${names.join(', ')}, not "nosuch"`);
  });

  it('--runtime docker --kernel 6.1: an InputError about --kernel (containers share this kernel)', () => {
    const error = inputError(() => selectRuntime({ runtime: 'docker', kernel: '6.1' }, process.cwd()));
    expect(error.field).to.equal(undefined);
    expect(error.file).to.equal('--kernel');
    expect(error.message).to.match(/^--kernel: .*--kernel 6\.1 needs a runtime that boots it, not --runtime docker/);
  });
});
