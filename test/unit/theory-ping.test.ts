/** The ping law (lab/scenario/theory/ping.ts): connscale's hold pings every connection once per interval. */
import { expect } from 'chai';
import { pingRate } from '../../lab/scenario/theory/ping.ts';
import { clientTheoryOf } from './client-theory.ts';

describe("connscale's ping rate (ping.ts)", () => {
  const holding = clientTheoryOf('client-1', { asked: 50_000, holdPing: { seconds: 60, intervalMs: 1000, timeoutMs: 5000 } });

  it('is connections / interval, within 5% for the first and last interval', () => {
    expect(pingRate(holding)).to.deep.include({ min: 47_500, max: 52_500 });
  });

  it('takes the connections really held where they are fewer than asked', () => {
    expect(pingRate(holding, 10_000)).to.deep.include({ min: 9_500, max: 10_500 });
  });

  it('refuses a client that holds no ping', () => {
    expect(() => pingRate(clientTheoryOf('client-1'))).to.throw(/holds no connscale ping/);
  });
});
