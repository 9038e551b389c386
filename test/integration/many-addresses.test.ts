/**
 * many-addresses in quick mode and 64k-myth over IPv6 against the real engine, their figures checked here
 * against the kernel's exact ones rather than only the run's own verdicts: connections per source address as
 * each client's kernel counted them, and the EADDRNOTAVAIL and EADDRINUSE the floods ended on.
 *
 * On the 1000-port quick range (40000-40999) a connect() pool holds 1000 ports less those a listener holds in
 * it (Docker's DNS listener on 127.0.0.11 sometimes draws one there: boundPortsBefore says which), a bind()
 * to the client's own address holds all 1000 (that listener is on another address), and the wildcard's pool
 * loses the listener's port from IPv4's and from a dual-stack [::], not from an IPv6-only [::].
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import type { CaseResult, HostResult, Results } from '../../lab/results/results.ts';
import { lab, labelledObjects, prepareRuntime, runIdIn } from './helpers.ts';

const RANGE = [40000, 40999] as const;
const PORTS = RANGE[1] - RANGE[0] + 1;

/** Ports listeners held inside the client before the flood, in the quick range: connect() skips them. */
const heldInRange = (client: HostResult) => (client.boundPortsBefore ?? []).filter((p) => p >= RANGE[0] && p <= RANGE[1]).length;
const connectPool = (client: HostResult) => PORTS - heldInRange(client);

function caseNamed(results: Results, name: string): { client: HostResult; server: HostResult; failed: string[] } {
  const c = results.cases.find((k: CaseResult) => k.name === name);
  if (!c) throw new Error(`no case "${name}" in the results`);
  const failed = c.expectations
    .filter((e) => !e.pass)
    .map((e) => `${e.claim} (${e.host}): predicted ${e.predicted.min}-${e.predicted.max}, measured ${e.measured}`);
  return { client: c.hosts.find((h) => h.role === 'client')!, server: c.hosts.find((h) => h.role === 'server')!, failed };
}

const isV6 = (address: string) => address.includes(':');

describe('many addresses and IPv6 against the real kernel', function () {
  let dir: string;
  before(async () => {
    await prepareRuntime();
    dir = mkdtempSync(join(tmpdir(), 'lab-many-addresses-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('many-addresses --quick', () => {
    let results: Results;
    let runId: string;
    before(() => {
      const json = join(dir, 'many-addresses.json');
      const run = lab(['run', 'scenarios/many-addresses.ts', '--quick', '--json', json], { CI: 'true' });
      expect(run.status, run.stdout.slice(-3000) + run.stderr).to.equal(0);
      runId = runIdIn(run.stdout + run.stderr);
      results = JSON.parse(readFileSync(json, 'utf8')) as Results;
    });

    it('passes every expectation of every case, and leaves nothing behind', async () => {
      expect(results.cases.flatMap((c) => caseNamed(results, c.name).failed)).to.deep.equal([]);
      expect(results.pass).to.equal(true);
      expect(await labelledObjects(runId)).to.deep.equal({ containers: [], networks: [] });
    });

    it('four addresses and no bind: every connection from the first address, the three others idle', () => {
      const { client, server } = caseNamed(results, 'four addresses, no bind');
      const sources = client.sources!;
      expect(Object.keys(sources)).to.have.length(4);
      expect(sources[client.ip]).to.equal(connectPool(client));
      expect(
        Object.entries(sources)
          .filter(([a]) => a !== client.ip)
          .map(([, n]) => n),
      ).to.deep.equal([0, 0, 0]);
      expect(client.errors.EADDRNOTAVAIL).to.equal(1);
      expect(client.bindErrors.EADDRINUSE ?? 0).to.equal(0);
      expect(server.estab).to.equal(connectPool(client));
    });

    it('bind(address, 0): one whole range per address for two server ports, then EADDRINUSE once per (address, port)', () => {
      const { client } = caseNamed(results, 'four addresses, bind(address, 0)');
      expect(Object.values(client.sources!)).to.deep.equal([PORTS, PORTS, PORTS, PORTS]);
      expect(client.estab).to.equal(4 * PORTS);
      expect(client.bindErrors.EADDRINUSE).to.equal(8);
      expect(client.errors.EADDRNOTAVAIL ?? 0).to.equal(0);
    });

    it('IP_BIND_ADDRESS_NO_PORT: one range per address to one server port, then EADDRNOTAVAIL once per address', () => {
      const { client } = caseNamed(results, 'four addresses, IP_BIND_ADDRESS_NO_PORT');
      expect(Object.values(client.sources!)).to.deep.equal(Array(4).fill(connectPool(client)));
      expect(client.errors.EADDRNOTAVAIL).to.equal(4);
      expect(client.bindErrors.EADDRINUSE ?? 0).to.equal(0);
    });

    it("IPv6: the same figures from four IPv6 addresses of the run's own ULA /64: ip_local_port_range governs IPv6", () => {
      const { client, server } = caseNamed(results, 'IPv6, four addresses, IP_BIND_ADDRESS_NO_PORT');
      const sources = Object.entries(client.sources!);
      expect(sources.map(([a]) => a).every((a) => /^fd00:1ab:/.test(a))).to.equal(true);
      expect(sources.map(([, n]) => n)).to.deep.equal(Array(4).fill(connectPool(client)));
      expect(client.ip6).to.match(/^fd00:1ab:[0-9a-f:]+$/);
      expect(client.errors.EADDRNOTAVAIL).to.equal(4);
      expect(server.estab).to.equal(4 * connectPool(client));
      expect(client.tcpSockets?.ipv6, 'the IPv6 sockets in use, as ss -s counts them per family').to.equal(4 * connectPool(client));
    });

    it('both families with connect(): one range each, every port carrying an IPv4 and an IPv6 connection', () => {
      const { client } = caseNamed(results, 'both families, connect()');
      const sources = Object.entries(client.sources!);
      expect(sources.filter(([a]) => !isV6(a)).map(([, n]) => n)).to.deep.equal([connectPool(client)]);
      expect(sources.filter(([a]) => isV6(a)).map(([, n]) => n)).to.deep.equal([connectPool(client)]);
      expect(client.errors.EADDRNOTAVAIL).to.equal(2);
    });

    it('both families with bind(wildcard): one range for both ([::] covers IPv4), then EADDRINUSE', () => {
      const { client } = caseNamed(results, 'both families, bind(wildcard)');
      expect(client.estab).to.equal(connectPool(client));
      expect(Object.values(client.sources!).reduce((a, b) => a + b, 0)).to.equal(connectPool(client));
      expect(client.bindErrors.EADDRINUSE).to.equal(2);
    });

    it("bindv6only: a range per family again, the IPv6-only wildcard not meeting the IPv4 DNS listener's port", () => {
      const { client } = caseNamed(results, 'both families, bind(wildcard), bindv6only');
      const sources = Object.entries(client.sources!);
      expect(sources.filter(([a]) => !isV6(a)).map(([, n]) => n)).to.deep.equal([connectPool(client)]);
      expect(sources.filter(([a]) => isV6(a)).map(([, n]) => n)).to.deep.equal([PORTS]);
      expect(client.bindErrors.EADDRINUSE).to.equal(2);
    });
  });

  describe('64k-myth --quick --family ipv6', () => {
    let results: Results;
    before(() => {
      const json = join(dir, '64k-myth-ipv6.json');
      const run = lab(['run', 'scenarios/64k-myth.ts', '--quick', '--family', 'ipv6', '--json', json], { CI: 'true' });
      expect(run.status, run.stdout.slice(-3000) + run.stderr).to.equal(0);
      results = JSON.parse(readFileSync(json, 'utf8')) as Results;
    });

    it('holds exactly the range per client over IPv6, from its one IPv6 address, then one EADDRNOTAVAIL', () => {
      expect(results.pass).to.equal(true);
      for (const c of results.cases) {
        const clients = c.hosts.filter((h) => h.role === 'client');
        for (const client of clients) {
          const [low, high] = client.sysctls['net.ipv4.ip_local_port_range']!.split(/\s+/).map(Number) as [number, number];
          const held = (client.boundPortsBefore ?? []).filter((p) => p >= low && p <= high).length;
          const sources = Object.entries(client.sources!);
          expect(sources, `${c.name} ${client.name}`).to.have.length(1);
          expect(sources[0]![0]).to.equal(client.ip6);
          expect(sources[0]![1], `${c.name} ${client.name}`).to.equal(high - low + 1 - held);
          expect(client.errors.EADDRNOTAVAIL, `${c.name} ${client.name}`).to.equal(1);
        }
        const server = c.hosts.find((h) => h.role === 'server')!;
        expect(server.estab, c.name).to.equal(clients.reduce((sum, h) => sum + h.estab, 0));
      }
    });
  });
});
