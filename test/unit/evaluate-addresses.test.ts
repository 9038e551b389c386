/**
 * Subject 'each address': one row per address of each client, measured by the client's kernel (its count of
 * connections per local address), never made up; how the counts are read inside a client; the flood's and the
 * server's arguments for addresses and IPv6.
 */
import { expect } from 'chai';
import { evaluate, predictionProblem } from '../../lab/run/evaluate.ts';
import { parseSources, sourcesScript } from '../../lab/collect/sources.ts';
import { parseListeners } from '../../lab/collect/listeners.ts';
import { labclientArgv, labserverArgv } from '../../lab/programs/argv.ts';
import type { HostResult } from '../../lab/results/results.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
import { addressCeiling } from '../../lab/scenario/theory/ports.ts';
import type { Expectation, TheoryContext } from '../../lab/scenario/types.ts';
import { clientTheoryOf } from './client-theory.ts';
import { hostResultOf } from '../fixtures/host-result.ts';

const addresses = [
  { address: '198.18.0.11', family: 'ipv4' as const },
  { address: '198.18.0.13', family: 'ipv4' as const },
];
const context = (source: 'route' | 'bind'): Omit<TheoryContext, 'client'> => ({
  kernel: kernelRelease('6.18.44'),
  clients: [clientTheoryOf('client-1', { addresses, source, asked: 5000 })],
  server: { ip: '198.18.0.2', ports: [80], backlog: 4096, workers: 1, nofile: 20000 },
});
const host = (overrides: Partial<HostResult> = {}): HostResult => hostResultOf('client-1', { ip: '198.18.0.11', estab: 2000, ...overrides });
const server = host({ name: 'server', role: 'server', ip: '198.18.0.2' });
const perAddress: Expectation = {
  claim: 'per address',
  subject: 'each address',
  metric: 'estab',
  predict: ({ client, address }) => addressCeiling(client!, address!),
};

describe("evaluate: subject 'each address'", () => {
  it("makes one row per address of each client, measured by the client's kernel", () => {
    const rows = evaluate([perAddress], context('bind'), server, [host({ sources: { '198.18.0.11': 1000, '198.18.0.13': 1000 } })]);
    expect(rows.map((r) => [r.host, r.predicted.min, r.measured, r.pass])).to.deep.equal([
      ['client-1 198.18.0.11', 1000, 1000, true],
      ['client-1 198.18.0.13', 1000, 1000, true],
    ]);
  });

  it('fails an idle address that held connections', () => {
    const rows = evaluate([perAddress], context('route'), server, [host({ sources: { '198.18.0.11': 600, '198.18.0.13': 400 } })]);
    expect(rows.map((r) => r.pass)).to.deep.equal([false, false]);
  });

  it('is not measured, never 0, where no count per address was read', () => {
    const rows = evaluate([perAddress], context('bind'), server, [host({ sources: { '198.18.0.11': 1000 } })]);
    expect(rows[1]!.invalid).to.equal('not measured: no count per address was read inside client-1');
    expect(rows[1]!.pass).to.equal(false);
    expect(rows[1]!.measured).to.be.NaN;
  });

  it('tries predict() on every address before the run', () => {
    const throwsOnSecond: Expectation = { ...perAddress, predict: ({ address }) => (address!.address.endsWith('.13') ? Number.NaN : 1) };
    expect(predictionProblem(throwsOnSecond, context('bind'))).to.equal('predict() returned NaN');
  });
});

describe("a client's connections per address, read inside it", () => {
  it('asks ss for each address, an IPv6 one in brackets, and names none it could not count', () => {
    const script = sourcesScript(['198.18.0.11', 'fd00:1ab:c612::b']);
    expect(script).to.contain("src '198.18.0.11'").and.contain("src '[fd00:1ab:c612::b]'");
    expect(parseSources('198.18.0.11 1000\nfd00:1ab:c612::b 999\n')).to.deep.equal({ '198.18.0.11': 1000, 'fd00:1ab:c612::b': 999 });
    expect(parseSources('198.18.0.11 \n')).to.deep.equal({});
  });

  it('reads the listeners with their addresses: a dual-stack [::] as "*", an IPv6-only one as "::"', () => {
    const text = ['LISTEN 0 4096 127.0.0.11:45267 0.0.0.0:*', 'LISTEN 0 4096 *:80 *:*', 'LISTEN 0 4096 [::]:443 [::]:*'].join('\n');
    expect(parseListeners(text).map(({ address, port }) => [address, port])).to.deep.equal([
      ['127.0.0.11', 45267],
      ['*', 80],
      ['::', 443],
    ]);
  });
});

describe('the programs, told about addresses and IPv6', () => {
  it('binds the flood to its sources in turn, and reaches IPv6 endpoints in brackets', () => {
    const argv = labclientArgv({
      targets: ['[fd00:1ab::2]:80'],
      sources: ['fd00:1ab::b', 'fd00:1ab::c'],
      count: 10,
      processes: 1,
      inflight: 4,
      bind: 'nobindport',
      deadlineSeconds: 5,
    });
    expect(argv.join(' ')).to.contain('--targets [fd00:1ab::2]:80 --sources fd00:1ab::b,fd00:1ab::c');
    expect(
      labclientArgv({ targets: ['198.18.0.2:80'], sources: [], count: 10, processes: 1, inflight: 4, bind: 'none', deadlineSeconds: 5 }),
    ).not.to.include('--sources');
  });

  it('listens dual-stack only where asked', () => {
    expect(labserverArgv({ ports: [80], backlog: 16, workers: 1, deadlineSeconds: 5, dualStack: true })).to.include('--dual-stack');
    expect(labserverArgv({ ports: [80], backlog: 16, workers: 1, deadlineSeconds: 5 })).not.to.include('--dual-stack');
  });
});
