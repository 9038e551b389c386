/**
 * The proxy's upstream law (lab/scenario/theory/proxy.ts): one range per (source address, backend address and
 * port), held requests up to it, churn up to it within a TIME_WAIT. The figures are the quick mode's,
 * measured on 6.18 here (scenarios/proxy-upstream.ts).
 */
import { expect } from 'chai';
import {
  proxyChurnAnswered,
  proxyChurnCeilingPerSecond,
  proxyChurnRefused,
  proxyHeldRefused,
  proxyHeldUpstream,
  proxyUpstreamCeiling,
  requestsAsked,
  upstreamFailureStatus,
} from '../../lab/scenario/theory/proxy.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
import { MissingFigure } from '../../lab/scenario/theory/prediction.ts';
import type { ProxyTheory, TheoryContext } from '../../lab/scenario/types.ts';
import { clientTheoryOf } from './client-theory.ts';

const DNS_PORT = 43541;

function context(
  proxy: Partial<ProxyTheory> = {},
  options: { asked?: number; backends?: number; perConnection?: number; churnSeconds?: number } = {},
): TheoryContext {
  const requests =
    options.perConnection || options.churnSeconds
      ? { perConnection: options.perConnection ?? 1, ...(options.churnSeconds && { churnSeconds: options.churnSeconds }) }
      : undefined;
  return {
    kernel: kernelRelease('6.18.44'),
    clients: [clientTheoryOf('client-1', { asked: options.asked ?? 150, portRange: [32768, 60999], ...(requests && { requests }) })],
    server: { ip: '198.18.0.2', ports: [8080], backlog: 4096, workers: 1, nofile: 20000 },
    middle: {
      name: 'proxy',
      role: 'proxy',
      ips: ['198.18.0.10'],
      backends: options.backends ?? 1,
      proxy: {
        software: 'nginx',
        portRange: [40000, 40099],
        reservedPorts: [],
        boundPorts: [80, DNS_PORT],
        sources: [],
        keepalive: 0,
        workers: 1,
        twReuse: 2,
        ...proxy,
      },
    },
  };
}

describe("a reverse proxy's upstream ports (theory/proxy.ts)", () => {
  it('holds one range per backend endpoint and source address: usable ports x backends x sources', () => {
    expect(proxyUpstreamCeiling(context())).to.include({ min: 100, max: 100 });
    expect(proxyUpstreamCeiling(context({}, { backends: 2 }))).to.include({ min: 200, max: 200 });
    expect(proxyUpstreamCeiling(context({ sources: ['198.18.0.10', '198.18.0.254'] }, { backends: 2 }))).to.include({ min: 400, max: 400 });
    // A listener inside the range (Docker's DNS, or the proxy's own) takes a port from every range.
    expect(proxyUpstreamCeiling(context({ portRange: [43000, 43999] }))).to.include({ min: 999, max: 999 });
  });

  it('holds every held request up to the ceiling, then refuses the rest: 100 held, 50 refused of 150 (measured)', () => {
    expect(proxyHeldUpstream(context())).to.include({ min: 100, max: 100 });
    expect(proxyHeldRefused(context())).to.include({ min: 50, max: 50 });
    expect(proxyHeldUpstream(context({}, { asked: 60 }))).to.include({ min: 60, max: 60 });
    expect(proxyHeldRefused(context({}, { asked: 60 }))).to.include({ min: 0, max: 0 });
  });

  it('is exact past the ceiling with two sources only where the hash split cannot leave a range short', () => {
    const two = { sources: ['198.18.0.10', '198.18.0.254'] };
    // 300 asked over 2 x 100: a share under 100 would be 5.8 standard deviations off: exact (measured 200 and 100).
    expect(proxyHeldUpstream(context(two, { asked: 300 }))).to.include({ min: 200, max: 200 });
    expect(proxyHeldRefused(context(two, { asked: 300 }))).to.include({ min: 100, max: 100 });
    // 210 asked: one address may get more than its 100 while the other has room: a band.
    const near = proxyHeldUpstream(context(two, { asked: 210 }));
    expect(near.min).to.be.below(200);
    expect(near.max).to.equal(200);
    // HAProxy's server lines take turns: exact but for one request per thread and line.
    const haproxy = proxyHeldUpstream(context({ ...two, software: 'haproxy' }, { asked: 210 }));
    expect(haproxy.max - haproxy.min).to.be.at.most(4);
  });

  it("counts every client's requests: connections x answers per connection", () => {
    expect(requestsAsked(context({}, { asked: 20, perConnection: 20, churnSeconds: 4 }))).to.equal(400);
  });

  it('lets a churn shorter than TIME_WAIT through up to the ceiling: 200 of 400 with 200 ports (measured), 502 for the rest', () => {
    const churn = context({ portRange: [40000, 40199] }, { asked: 20, perConnection: 20, churnSeconds: 4 });
    expect(proxyChurnAnswered(churn)).to.include({ min: 200, max: 200 });
    expect(proxyChurnRefused(churn)).to.include({ min: 200, max: 200 });
    expect(proxyChurnCeilingPerSecond(context({ portRange: [32768, 60999], boundPorts: [] }))).to.include({ min: 470, max: 470 });
  });

  it('lets everything through with upstream keepalive, with HAProxy (resets, no TIME_WAIT), and past the wall with tcp_tw_reuse 1 only in part', () => {
    const opts = { asked: 20, perConnection: 20, churnSeconds: 4 };
    const range = { portRange: [40000, 40199] as [number, number] };
    expect(proxyChurnAnswered(context({ ...range, keepalive: 16 }, opts))).to.include({ min: 400, max: 400 });
    expect(proxyChurnAnswered(context({ ...range, software: 'haproxy' }, opts))).to.include({ min: 400, max: 400 });
    // Measured 400 of 400 with tcp_tw_reuse 1; the theory gives a band, for timing decides how many ports come back.
    expect(proxyChurnAnswered(context({ ...range, twReuse: 1 }, opts))).to.include({ min: 200, max: 400 });
  });

  it('bands a churn longer than a TIME_WAIT: the ceiling, then about ceiling / 60 a second', () => {
    const long = proxyChurnAnswered(context({ portRange: [40000, 40599] }, { asked: 100, perConnection: 100, churnSeconds: 120 }));
    expect(long.min).to.equal(600);
    expect(long.max).to.be.within(600 + 60 * 10, 600 + 60 * 10 * 1.2);
  });

  it('says which status a failed upstream connect gets, and that a case without a proxy has no such figure', () => {
    expect(upstreamFailureStatus('nginx')).to.equal(502);
    expect(upstreamFailureStatus('haproxy')).to.equal(503);
    const { middle: _none, ...noProxy } = context();
    expect(() => proxyUpstreamCeiling(noProxy)).to.throw(MissingFigure);
    expect(() => proxyChurnAnswered(context())).to.throw(MissingFigure, /churn/);
  });
});
