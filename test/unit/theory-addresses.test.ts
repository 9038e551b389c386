/**
 * The addresses law (lab/scenario/theory/addresses.ts) and the per-address ports it feeds (ports.ts): which
 * addresses a client's connections leave from, which sockets a bind() meets, and the pools, per-address
 * ceilings and failures that follow. The figures are those measured on 6.18 here (docs/addresses-and-ipv6.md).
 */
import { expect } from 'chai';
import { addressesOf, bindMeets, familiesOf, poolShapes, routeSource, sourceAddresses } from '../../lab/scenario/theory/addresses.ts';
import { addressCeiling, clientCeiling, portPools, serverHolds, spentErrno, spentFailures } from '../../lab/scenario/theory/ports.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
import type { ClientTheory, SourceAddress } from '../../lab/scenario/types.ts';
import { clientTheoryOf } from './client-theory.ts';

const v4 = (n: number): SourceAddress => ({ address: `198.18.0.${n}`, family: 'ipv4' });
const v6 = (n: number): SourceAddress => ({ address: `fd00:1ab:c612::${n.toString(16)}`, family: 'ipv6' });
const DNS = { address: '127.0.0.11', port: 45267 };
const FULL: ClientTheory['portRange'] = [32768, 60999];

/** One client with `n` addresses per family, asking for more than any pool holds. */
const client = (overrides: Partial<ClientTheory> = {}, n = 1): ClientTheory => {
  const family = overrides.family ?? 'ipv4';
  const numbers = [11, ...Array.from({ length: n - 1 }, (_, k) => 12 + k)];
  const addresses = [...(family === 'ipv6' ? [] : numbers.map(v4)), ...(family === 'ipv4' ? [] : numbers.map(v6))];
  return clientTheoryOf('client-1', { asked: 1_000_000, addresses, ...overrides });
};

describe('which addresses a client connects from (addresses.ts)', () => {
  it('uses IPv4 alone unless told otherwise, and its ip alone when the plan says no more', () => {
    expect(familiesOf({})).to.deep.equal(['ipv4']);
    expect(familiesOf({ family: 'dual' })).to.deep.equal(['ipv4', 'ipv6']);
    expect(addressesOf({ ip: '198.18.0.11' })).to.deep.equal([v4(11)]);
  });

  it("leaves from the route's source without a bind: IPv4's first address, IPv6's last added", () => {
    // Measured: 1000 of 1000 from 198.19.240.11 (the first of four); over IPv6 from ::e, the last of ::b to ::e.
    const c = client({ family: 'dual' }, 4);
    expect(routeSource(c, 'ipv4')).to.deep.equal(v4(11));
    expect(routeSource(c, 'ipv6')).to.deep.equal(v6(14));
    expect(sourceAddresses(c)).to.deep.equal([v4(11), v6(14)]);
  });

  it('leaves from every address of its families where it binds them', () => {
    expect(sourceAddresses(client({ source: 'bind' }, 3))).to.deep.equal([v4(11), v4(12), v4(13)]);
    expect(sourceAddresses(client({ source: 'nobindport', family: 'ipv6' }, 2))).to.deep.equal([v6(11), v6(12)]);
  });

  it("a bind to the client's own address does not meet Docker's DNS listener on 127.0.0.11; the wildcards do", () => {
    expect(bindMeets(v4(11), DNS)).to.equal(false);
    expect(bindMeets({ address: '0.0.0.0', family: 'ipv4' }, DNS)).to.equal(true);
    // [::] covers IPv4 too, unless net.ipv6.bindv6only.
    expect(bindMeets({ address: '::', family: 'ipv6' }, DNS)).to.equal(true);
    expect(bindMeets({ address: '::', family: 'ipv6' }, DNS, true)).to.equal(false);
  });

  it('a bind to an address meets a wildcard of its family, and a dual-stack [::] ("*") from either', () => {
    expect(bindMeets(v4(11), { address: '0.0.0.0', port: 80 })).to.equal(true);
    expect(bindMeets(v4(11), { address: '*', port: 80 })).to.equal(true);
    expect(bindMeets(v4(11), { address: '::', port: 80 })).to.equal(false);
    expect(bindMeets(v6(11), { address: '::', port: 80 })).to.equal(true);
    expect(bindMeets(v6(11), { address: '0.0.0.0', port: 80 })).to.equal(false);
    expect(bindMeets(v6(11), { address: v6(11).address, port: 80 })).to.equal(true);
    expect(bindMeets(v6(11), { address: v6(12).address, port: 80 })).to.equal(false);
  });

  it('counts the pools: per address and destination for connect(), per address for bind(), one wildcard for both families', () => {
    const shape = (c: ClientTheory) => poolShapes(c).map((p) => [p.pickedBy, p.sources.length, p.ranges, p.pairs]);
    expect(shape(client({ destinations: 2 }, 4))).to.deep.equal([['connect', 1, 2, 2]]);
    expect(shape(client({ destinations: 2, source: 'bind' }, 2))).to.deep.equal([
      ['bind', 1, 1, 2],
      ['bind', 1, 1, 2],
    ]);
    expect(shape(client({ destinations: 2, source: 'nobindport' }, 2))).to.deep.equal([
      ['connect', 1, 2, 2],
      ['connect', 1, 2, 2],
    ]);
    expect(shape(client({ destinations: 2, family: 'dual', bind: 'any' }))).to.deep.equal([['bind', 2, 1, 2]]);
    expect(shape(client({ destinations: 2, family: 'dual', bind: 'any', bindv6only: true }))).to.deep.equal([
      ['bind', 1, 1, 1],
      ['bind', 1, 1, 1],
    ]);
  });
});

describe('connections per source address (ports.ts, with addresses.ts)', () => {
  it('four addresses and no bind hold one range, all from the first address', () => {
    const c = client({}, 4);
    expect(clientCeiling(c)).to.deep.include({ min: 1000, max: 1000 });
    expect(addressCeiling(c, v4(11))).to.deep.include({ min: 1000, max: 1000 });
    expect(addressCeiling(c, v4(12))).to.deep.include({ min: 0, max: 0 });
    expect(addressCeiling(c, v4(12)).why).to.match(/route's source is 198\.18\.0\.11/);
  });

  it('bind(address, 0) holds one range per address, whatever the destinations: 4 addresses x 2 ports = 4000', () => {
    const c = client({ source: 'bind', destinations: 2 }, 4);
    expect(clientCeiling(c)).to.deep.include({ min: 4000, max: 4000 });
    expect(addressCeiling(c, v4(13))).to.deep.include({ min: 1000, max: 1000 });
  });

  it("bind(address, 0) gets the port Docker's DNS listener holds; connect() does not (28232 against 28231)", () => {
    const bound = { portRange: FULL, boundPorts: [DNS.port], boundSockets: [DNS] };
    expect(addressCeiling(client({ source: 'bind', ...bound }, 2), v4(11))).to.deep.include({ min: 28232, max: 28232 });
    expect(addressCeiling(client({ source: 'nobindport', ...bound }, 2), v4(11))).to.deep.include({ min: 28231, max: 28231 });
    // Over IPv6 too: IPv4 and IPv6 share one table of bound ports, so connect() skips the IPv4 listener's port.
    expect(addressCeiling(client({ family: 'ipv6', ...bound }), v6(11))).to.deep.include({ min: 28231, max: 28231 });
  });

  it('IP_BIND_ADDRESS_NO_PORT holds one range per address and destination, over IPv4 and IPv6 alike: 2 x 2 x 1000', () => {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const c = client({ source: 'nobindport', destinations: 2, family }, 2);
      expect(clientCeiling(c), family).to.deep.include({ min: 4000, max: 4000 });
      expect(addressCeiling(c, family === 'ipv4' ? v4(12) : v6(12)), family).to.deep.include({ min: 2000, max: 2000 });
    }
  });

  it('both families with connect(): one range each, the same ports carrying one connection of each family', () => {
    const c = client({ family: 'dual', destinations: 2 });
    expect(clientCeiling(c)).to.deep.include({ min: 2000, max: 2000 });
    expect(addressCeiling(c, v6(11))).to.deep.include({ min: 1000, max: 1000 });
  });

  it('both families with bind(wildcard): one range shared, each address a share of it; bindv6only splits it again', () => {
    const shared = client({ family: 'dual', destinations: 2, bind: 'any' });
    expect(clientCeiling(shared)).to.deep.include({ min: 1000, max: 1000 });
    expect(addressCeiling(shared, v4(11))).to.deep.include({ min: 0, max: 1000 });
    const split = client({
      family: 'dual',
      destinations: 2,
      bind: 'any',
      bindv6only: true,
      portRange: FULL,
      boundPorts: [DNS.port],
      boundSockets: [DNS],
    });
    // The IPv6 wildcard, IPv6 only, no longer meets the IPv4 DNS listener: 28231 + 28232.
    expect(addressCeiling(split, v4(11))).to.deep.include({ min: 28231, max: 28231 });
    expect(addressCeiling(split, v6(11))).to.deep.include({ min: 28232, max: 28232 });
    expect(clientCeiling(split)).to.deep.include({ min: 56463, max: 56463 });
  });

  it('gives a band per address where fewer are asked than the pools hold', () => {
    const c = client({ source: 'nobindport', destinations: 2, asked: 500 }, 2);
    expect(clientCeiling(c)).to.deep.include({ min: 500, max: 500 });
    expect(addressCeiling(c, v4(11))).to.deep.include({ min: 0, max: 500 });
  });

  it('keeps the single-address laws as they were: destinations x range, or one range for bind(0.0.0.0:0)', () => {
    expect(clientCeiling(clientTheoryOf('client-1', { destinations: 6, asked: 10_000 })).why).to.equal(
      '6 destinations x (1000 ports in 40000-40999)',
    );
    expect(clientCeiling(clientTheoryOf('client-1', { destinations: 6, asked: 10_000, bind: 'any' }))).to.deep.include({ min: 1000, max: 1000 });
  });

  it("sums every client's pools for the server", () => {
    const ctx = {
      kernel: kernelRelease('6.18.44'),
      clients: [client({ source: 'bind' }, 2), client({ source: 'bind' }, 2)],
      server: { ip: '198.18.0.2', ports: [80], backlog: 4096, workers: 1, nofile: 20000 },
    };
    expect(serverHolds(ctx)).to.deep.include({ min: 4000, max: 4000 });
  });
});

describe('the failures a fill ends on (ports.ts)', () => {
  it('says EADDRINUSE where bind() picks the port and EADDRNOTAVAIL where connect() does', () => {
    expect(spentErrno(client({ source: 'bind' }, 2))).to.equal('EADDRINUSE');
    expect(spentErrno(client({ family: 'dual', bind: 'any' }))).to.equal('EADDRINUSE');
    expect(spentErrno(client({ source: 'nobindport' }, 2))).to.equal('EADDRNOTAVAIL');
    expect(spentErrno(client())).to.equal('EADDRNOTAVAIL');
  });

  it('counts one failure per (source, destination) pair with one process, none of the other errno', () => {
    // Measured: 8 EADDRINUSE for 4 addresses x 2 ports bound; 8 EADDRNOTAVAIL for the same with IP_BIND_ADDRESS_NO_PORT.
    expect(spentFailures(client({ source: 'bind', destinations: 2 }, 4), 'EADDRINUSE')).to.deep.include({ min: 8, max: 8 });
    expect(spentFailures(client({ source: 'nobindport', destinations: 2 }, 4), 'EADDRNOTAVAIL')).to.deep.include({ min: 8, max: 8 });
    expect(spentFailures(client({ source: 'nobindport', destinations: 2 }, 4), 'EADDRINUSE')).to.deep.include({ min: 0, max: 0 });
    expect(spentFailures(client({ family: 'dual', bind: 'any', destinations: 2 }), 'EADDRINUSE')).to.deep.include({ min: 2, max: 2 });
  });

  it('gives a band with several processes, and none where the pools are not spent', () => {
    expect(spentFailures(client({ source: 'bind', destinations: 2, processes: 3 }, 2), 'EADDRINUSE')).to.deep.include({ min: 4, max: 12 });
    expect(spentFailures(client({ asked: 900 }), 'EADDRNOTAVAIL')).to.deep.include({ min: 0, max: 0 });
  });

  it('lists each pool with what it holds', () => {
    expect(portPools(client({ source: 'bind', destinations: 2 }, 2)).map((p) => p.ceiling.max)).to.deep.equal([1000, 1000]);
  });
});
