/**
 * backlog.ts against figures real runs gave, quiet and busy: where SYN drops, retransmits, cookies and the
 * connect timeout decide (a busy CPU lets the first handshakes fill the queue while the burst's SYNs still
 * arrive), its predictions are bands that hold both; what the kernel makes exact stays exact.
 */
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Prediction, Scenario } from '../../lab/index.ts';
import { KERNEL_FACTS } from '../fixtures/kernel-facts.ts';

// As ES modules, as bin/lab.js loads the lab (see scenarios-offline.test.ts).
const { planCase } = await import('../../lab/plan/plan.ts');
const { plannedContext } = await import('../../lab/run/evaluate.ts');
const { loadScenario } = await import('../../lab/scenario/load.ts');

const file = fileURLToPath(new URL('../../scenarios/backlog.ts', import.meta.url));
const facts = KERNEL_FACTS['6.18']!;

/** Each expectation's prediction in the named case, by its metric and subject ('each client' for client-1). */
function predictions(scenario: Scenario, caseName: string): Map<string, Prediction> {
  const index = scenario.cases.findIndex((c) => c.name === caseName);
  expect(index, caseName).to.be.at.least(0);
  const plan = planCase(scenario, index, { runId: 'offline', subnet: '198.18.0.0/24', quick: true, nofileCeiling: 20000, file });
  const context = { ...plannedContext(plan, facts.kernel), slabObjectSizes: facts.slabObjectSizes, tracked: true };
  const found = new Map<string, Prediction>();
  for (const e of plan.expectations) {
    const ctx = e.subject === 'each client' ? { ...context, client: context.clients[0]! } : context;
    found.set(`${e.subject === 'server' ? 'server' : 'client'} ${e.metric}`, e.predict(ctx) as Prediction);
  }
  return found;
}

const holds = (p: Prediction | undefined, measured: number) => p !== undefined && measured >= p.min && measured <= p.max;

describe('backlog.ts: bands where timing decides, exact where the kernel does', () => {
  let scenario: Scenario;
  before(async () => {
    scenario = await loadScenario(file);
  });

  it("seed 004's data step holds a busy machine's run: 36 connects timed out, 1,964 connected and held", () => {
    const p = predictions(scenario, "seed 004's data step: a Ping on every 'connected' socket");
    for (const [metric, quiet, busy] of [
      ['client opened', 2000, 1964],
      ['client estab', 2000, 1964],
    ] as const) {
      expect(holds(p.get(metric), quiet), `${metric} ${quiet} (quiet) in ${JSON.stringify(p.get(metric))}`).to.equal(true);
      expect(holds(p.get(metric), busy), `${metric} ${busy} (busy) in ${JSON.stringify(p.get(metric))}`).to.equal(true);
      expect(p.get(metric)!.why, `${metric}: the band says why`).to.match(/busy/);
    }
    expect(p.get('client errors.ECONNRESET'), 'no reset before the cookie is minutes old: exact').to.deep.include({ min: 0, max: 0 });
  });

  it('the burst with cookies: a busy machine connects fewer than all 2000', () => {
    const p = predictions(scenario, 'slow accept, a burst of 2000: SYN cookies');
    expect(holds(p.get('client estab'), 2000)).to.equal(true);
    expect(holds(p.get('client estab'), 1964)).to.equal(true);
  });

  for (const name of ['accept paused: the queue holds backlog + 1', 'accept paused, tcp_abort_on_overflow=1']) {
    it(`${name}: the server's queue is exact, the client's count a band (handshakes done on its side only)`, () => {
      const p = predictions(scenario, name);
      if (p.has('server estab')) expect(p.get('server estab')).to.deep.include({ min: 17, max: 17 });
      // Quiet: 17 held, 83 timed out. Busy: 20 completed on the client's side, 80 timed out.
      expect(holds(p.get('client estab'), 17) && holds(p.get('client estab'), 20)).to.equal(true);
      expect(holds(p.get('client errors.ETIMEDOUT'), 83) && holds(p.get('client errors.ETIMEDOUT'), 80)).to.equal(true);
    });
  }

  it('what the kernel makes exact stays exact: somaxconn caps the backlog, no cookie with syncookies off', () => {
    expect(predictions(scenario, 'listen(65535) is capped by somaxconn').get('server listen.backlog')).to.deep.include({ min: 4096, max: 4096 });
    expect(predictions(scenario, 'slow accept, a burst of 2000, syncookies off').get('server nstat.TcpExtTCPReqQFullDoCookies')).to.deep.include({
      min: 0,
      max: 0,
    });
  });
});
