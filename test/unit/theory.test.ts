import { expect } from 'chai';
import { parsePortList, parsePortRange } from '../../lab/scenario/port-range.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
import { clientCeiling, hasSocketPortRange, serverHolds, socketRangePorts, usablePorts } from '../../lab/scenario/theory/ports.ts';
import { contains, formatPrediction } from '../../lab/scenario/theory/prediction.ts';
import type { ClientTheory } from '../../lab/scenario/types.ts';

const client = (overrides: Partial<ClientTheory> = {}): ClientTheory => ({
  name: 'client-1',
  ip: '198.18.0.11',
  portRange: [40000, 40999],
  reservedPorts: [],
  boundPorts: [],
  destinations: 1,
  asked: 1_000_000,
  nofile: 20000,
  processes: 1,
  bind: 'none',
  ...overrides,
});

describe('usable ports of a range (__inet_hash_connect)', () => {
  it('gives every port of an even-sized range', () => {
    expect(usablePorts([40000, 40999])).to.deep.include({ min: 1000, max: 1000 });
    expect(usablePorts([32768, 60999])).to.deep.include({ min: 28232, max: 28232 });
    expect(usablePorts([1024, 65535])).to.deep.include({ min: 64512, max: 64512 });
  });

  it('leaves one port in doubt in an odd-sized range, whatever the parity of its ends', () => {
    // Measured here: "40000 40998" held 998, "40001 40999" held 999; both inside the prediction.
    const evenEnds = usablePorts([40000, 40998]);
    const oddEnds = usablePorts([40001, 40999]);
    expect(evenEnds).to.deep.include({ min: 998, max: 999 });
    expect(oddEnds).to.deep.include({ min: 998, max: 999 });
    expect(contains(evenEnds, 998)).to.equal(true);
    expect(contains(oddEnds, 999)).to.equal(true);
  });

  it('skips reserved ports (ip_local_reserved_ports)', () => {
    // Measured here: "40000 40999" with "40100-40199" reserved held 900.
    expect(usablePorts([40000, 40999], { reserved: parsePortList('40100-40199') })).to.deep.include({ min: 900, max: 900 });
  });

  it("skips a port a bound socket holds, such as Docker's DNS listener, only when it is in the range", () => {
    expect(usablePorts([32768, 60999], { bound: [42859] })).to.deep.include({ min: 28231, max: 28231 });
    expect(usablePorts([40000, 40999], { bound: [42859] })).to.deep.include({ min: 1000, max: 1000 });
  });

  it('counts a port both reserved and bound once', () => {
    expect(usablePorts([40000, 40999], { reserved: [40500], bound: [40500] }).min).to.equal(999);
  });

  it('says how it got there', () => {
    expect(usablePorts([32768, 60999], { bound: [42859] }).why).to.equal('28232 ports in 32768-60999 - 1 held by a bound socket');
  });
});

describe('connections a client can hold', () => {
  it('multiplies the range by the destinations for plain connect()', () => {
    expect(clientCeiling(client({ destinations: 6 }))).to.deep.include({ min: 6000, max: 6000 });
  });

  it('multiplies it too with IP_BIND_ADDRESS_NO_PORT', () => {
    expect(clientCeiling(client({ destinations: 6, bind: 'nobindport' })).max).to.equal(6000);
  });

  it('gives one range in all when the port is bound before connect()', () => {
    expect(clientCeiling(client({ destinations: 6, bind: 'any' })).max).to.equal(1000);
    expect(clientCeiling(client({ destinations: 6, bind: 'reuseaddr' })).max).to.equal(1000);
  });

  it('never predicts more than the client asked for', () => {
    expect(clientCeiling(client({ asked: 300 }))).to.deep.include({ min: 300, max: 300 });
  });

  it('predicts the server holds the sum over its clients', () => {
    const clients = [client(), client({ name: 'client-2', boundPorts: [40321] }), client({ name: 'client-3', portRange: [40000, 40998] })];
    expect(
      serverHolds({
        clients,
        server: { ip: '198.18.0.2', ports: [8080], backlog: 4096, workers: 1, nofile: 20000 },
        kernel: kernelRelease('6.18.44'),
      }),
    ).to.deep.include({ min: 1000 + 999 + 998, max: 1000 + 999 + 999 });
  });
});

describe('per-socket port ranges (IP_LOCAL_PORT_RANGE) by kernel', () => {
  const namespace = [32768, 60999] as const;
  const debian61 = kernelRelease('6.1.0-56-amd64', '#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-10-30)');

  it('reads the upstream version from uname -v where the release hides it', () => {
    expect(debian61.upstream).to.deep.equal([6, 1, 192]);
    expect(kernelRelease('6.18.44-fc-v669').upstream).to.deep.equal([6, 18, 44]);
    expect(kernelRelease('6.12.118+deb13-amd64').atLeast(6, 8)).to.equal(true);
    expect(kernelRelease('5.10.0-46-amd64', '#1 SMP Debian 5.10.244-1').atLeast(6, 1)).to.equal(false);
    expect(debian61.atLeast(6, 3)).to.equal(false);
    expect(debian61.series(6, 1)).to.equal(true);
  });

  it('knows the option from 6.3 and from 6.1.32 in the 6.1 stable series', () => {
    expect(hasSocketPortRange(debian61)).to.equal(true);
    expect(hasSocketPortRange(kernelRelease('6.1.0-9-amd64', 'Debian 6.1.27-1'))).to.equal(false);
    expect(hasSocketPortRange(kernelRelease('6.2.16'))).to.equal(false);
    expect(hasSocketPortRange(kernelRelease('5.10.0-46-amd64', 'Debian 5.10.244-1'))).to.equal(false);
    expect(hasSocketPortRange(kernelRelease('6.12.118+deb13-amd64'))).to.equal(true);
  });

  it('predicts nothing held where the option does not exist', () => {
    expect(socketRangePorts(namespace, [40000, 40999], kernelRelease('5.10.0-46-amd64'))).to.deep.include({ min: 0, max: 0 });
  });

  it('reaches every port of an odd-sized per-socket range from 6.8; before, the last may be out of reach', () => {
    expect(socketRangePorts(namespace, [40000, 40998], kernelRelease('6.12.48'))).to.deep.include({ min: 999, max: 999 });
    // Debian's 6.1.0-57 held 998 in one matrix run and 999 in others: its search covers an even count.
    expect(socketRangePorts(namespace, [40000, 40998], debian61)).to.deep.include({ min: 998, max: 999 });
    expect(socketRangePorts(namespace, [40000, 40999], debian61)).to.deep.include({ min: 1000, max: 1000 });
  });

  it('keeps an end of the per-socket range only where it lies inside the namespace range', () => {
    expect(socketRangePorts([40000, 40999], [39000, 40499], kernelRelease('6.18.0'))).to.deep.include({ min: 500, max: 500 });
  });

  it('leaves out ports a bound socket holds inside the per-socket range', () => {
    expect(socketRangePorts(namespace, [40000, 40999], kernelRelease('6.18.0'), { bound: [40500, 50000] })).to.deep.include({ min: 999, max: 999 });
  });
});

describe('port range and list parsing', () => {
  it('reads ranges as the user writes them and as /proc prints them', () => {
    expect(parsePortRange('40000 40999')).to.deep.equal([40000, 40999]);
    expect(parsePortRange('32768\t60999\n')).to.deep.equal([32768, 60999]);
    expect(() => parsePortRange('40000-40999')).to.throw(/not a port range/);
  });

  it('reads reserved port lists', () => {
    expect(parsePortList('')).to.deep.equal([]);
    expect(parsePortList('40100-40102,40500')).to.deep.equal([40100, 40101, 40102, 40500]);
  });

  it('formats predictions', () => {
    expect(formatPrediction({ min: 5, max: 5 })).to.equal('5');
    expect(formatPrediction({ min: 998, max: 999 })).to.equal('998-999');
    expect(formatPrediction({ min: 1, max: Infinity })).to.equal('>= 1');
  });
});
