/** The ping law (lab/scenario/theory/ping.ts): connscale's hold pings every connection once per interval. */
import { expect } from 'chai';
import { pingCadenceHeld, pingRate } from '../../lab/scenario/theory/ping.ts';
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

describe('the cadence a hold that steps down holds (ping.ts)', () => {
  const stepping = clientTheoryOf('client-1', {
    asked: 62_500,
    holdPing: { seconds: 60, intervalMs: 20_000, timeoutMs: 20_000, stepDownMs: [30_000, 60_000, 300_000] },
  });

  it('lies between the slowest cadence and the one asked, each within 5%', () => {
    // 62,500 / 300 s = 208.3/s; 62,500 / 20 s = 3,125/s
    expect(pingCadenceHeld(stepping, 'two cores')).to.deep.include({ min: 197, max: 3282 });
  });

  it('says its why', () => {
    expect(pingCadenceHeld(stepping, 'two cores').why).to.match(
      /62500 connections \/ 20000 ms asked, or a slower cadence down to \/ 300000 ms: two cores$/,
    );
  });

  it('is the one cadence asked where the hold does not step down', () => {
    const plain = clientTheoryOf('client-1', { asked: 1000, holdPing: { seconds: 4, intervalMs: 2000, timeoutMs: 1000 } });
    expect(pingCadenceHeld(plain, 'x')).to.deep.include({ min: 475, max: 525 });
  });
});
