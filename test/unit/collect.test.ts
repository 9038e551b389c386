import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { collectorScript, parseKernelView } from '../../lab/collect/kernel-view.ts';
import { parseListeningPorts } from '../../lab/collect/listeners.ts';
import { parseNstat } from '../../lab/collect/nstat.ts';
import { parseSsSummary } from '../../lab/collect/ss.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

describe('ss -s parsing (outputs captured inside lab containers mid-flood)', () => {
  it("reads a client's own estab and timewait, not the host-wide TCP total", () => {
    const ss = parseSsSummary(fixture('ss-s-client-filling.txt'));
    expect(ss.estab).to.equal(26931);
    expect(ss.timewait).to.equal(0);
    // "TCP: 105243" and "closed 78311" count every namespace on the host: kept apart, never the client's.
    expect(ss.hostWide.tcp).to.equal(105243);
    expect(ss.hostWide.closed).to.equal(78311);
    expect(ss.hostWide.tcp).to.be.greaterThan(ss.estab * 3);
  });

  it("reads the namespace's TCP sockets in use per family from the table (estab counts both families)", () => {
    const ss = parseSsSummary(fixture('ss-s-client-filling.txt'));
    // The table's TCP row is the namespace's own (sockstat, sockstat6): the 26,931 established and one not (yet).
    expect(ss.tcpSockets).to.deep.equal({ ipv4: 26932, ipv6: 0 });
  });

  it("reads the server's estab while two clients flood it", () => {
    const ss = parseSsSummary(fixture('ss-s-server-filling.txt'));
    expect(ss.estab).to.equal(52648);
    expect(ss.hostWide.tcp).to.equal(105307);
  });

  it('reads the host namespace, where estab is 0 although the TCP counter is host-wide', () => {
    const ss = parseSsSummary(fixture('ss-s-host.txt'));
    expect(ss.estab).to.equal(0);
    expect(ss.hostWide.tcp).to.equal(105597);
  });

  it('reads timewait from a summary that has some', () => {
    const ss = parseSsSummary('Total: 12\nTCP:   4021 (estab 3, closed 4012, orphaned 2, timewait 4000)\n');
    expect(ss).to.deep.include({ estab: 3, timewait: 4000 });
    expect(ss.hostWide.orphaned).to.equal(2);
  });

  it('refuses text that is not ss -s output', () => {
    expect(() => parseSsSummary('Cannot open netlink socket')).to.throw(/not the output of ss -s/);
  });
});

describe('nstat parsing', () => {
  it('reads absolute counters, ignoring the rate column', () => {
    const counters = parseNstat(fixture('nstat-server.txt'));
    expect(counters.IpInReceives).to.equal(105410);
    expect(counters.TcpExtListenOverflows).to.equal(0);
    expect(Object.keys(counters).length).to.be.greaterThan(100);
  });

  it('refuses a malformed line', () => {
    expect(() => parseNstat('#kernel\nTcpActiveOpens x 0.0\n')).to.throw(/cannot read line/);
  });
});

describe('listening ports', () => {
  it("finds Docker's DNS listener inside a container", () => {
    expect(parseListeningPorts(fixture('ss-ltn-client.txt'))).to.deep.equal([42859]);
  });

  it('reads IPv6 and wildcard listeners once per port', () => {
    const text = 'LISTEN 0 4096 0.0.0.0:8080 0.0.0.0:*\nLISTEN 0 4096 [::]:8080 [::]:*\nLISTEN 0 16 *:443 *:*\n';
    expect(parseListeningPorts(text)).to.deep.equal([443, 8080]);
  });
});

describe('kernel view', () => {
  it('splits the collector output into its sections', () => {
    const text = [
      '### ss',
      fixture('ss-s-client-filling.txt'),
      '### nstat',
      fixture('nstat-client.txt'),
      '### listen',
      fixture('ss-ltn-client.txt'),
      '### sysctl',
      'net.ipv4.ip_local_port_range=32768 60999',
      'net.ipv4.ip_local_reserved_ports=',
      '### nofile',
      '20000',
      '### rss',
      '5120',
      '### meminfo',
      'Slab:             912344 kB',
      '### sockstat',
      'sockets: used 26935',
      'TCP: inuse 26932 orphan 0 tw 0 alloc 105300 mem 12',
      'UDP: inuse 1 mem 2',
      '### softnet',
      '000a1b2c 000003e8 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000',
      '00001000 0000000f 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000001',
      '',
    ].join('\n');
    const view = parseKernelView(text);
    expect(view.ss.estab).to.equal(26931);
    expect(view.listeningPorts).to.deep.equal([42859]);
    expect(view.sysctls['net.ipv4.ip_local_port_range']).to.equal('32768 60999');
    expect(view.sysctls['net.ipv4.ip_local_reserved_ports']).to.equal('');
    expect(view.nofile).to.equal(20000);
    expect(view.programRssKiB).to.equal(5120);
    expect(view.hostMemory).to.deep.equal({ slabKiB: 912344, tcpMemPages: 12 });
    expect(view.softnetDropped).to.equal(1000 + 15);
    expect(view.nstat).to.have.property('TcpActiveOpens');
    expect(view.nstat).to.have.property('TcpExtListenOverflows');
  });

  it('reads back every sysctl the scenario set, besides the usual ones', () => {
    const script = collectorScript(['net.ipv4.ip_autobind_reuse']);
    expect(script).to.include('/proc/sys/net/ipv4/ip_autobind_reuse');
    expect(script).to.include('/proc/sys/net/ipv4/ip_local_port_range');
  });
});

describe('milestones and memory per connection', () => {
  it("finds when the server's kernel first counted each 100k", async () => {
    const { milestones } = await import('../../lab/results/milestones.ts');
    const samples = [0, 60_000, 140_000, 230_000, 310_000].map((estab, i) => ({
      t: i * 1000,
      host: 'server',
      estab,
      timewait: 0,
      errors: 0,
      source: 'kernel' as const,
    }));
    samples.push({ t: 500, host: 'client-1', estab: 900_000, timewait: 0, errors: 0, source: 'kernel' });
    expect(milestones(samples, 'server')).to.deep.equal([
      { connections: 100_000, seconds: 2 },
      { connections: 200_000, seconds: 3 },
      { connections: 300_000, seconds: 4 },
    ]);
  });
});
