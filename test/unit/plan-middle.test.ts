/**
 * The middle tier as data: a NAT gateway's host, rules, routes and legs as planned; the NAT's theory
 * (natHolds, natCeiling, natTimeouts; with a small table conntrackCeiling, conntrackFull, conntrackDrops);
 * connection tracking's readings parsed as the kernel prints them.
 */
import { expect } from 'chai';
import type { CaseSpec, Scenario, TheoryContext } from '../../lab/scenario/types.ts';
import { clientTheoryOf } from './client-theory.ts';

const { planCase, plannedHosts } = await import('../../lab/plan/plan.ts');
const { defineScenario } = await import('../../lab/scenario/define.ts');
const { natCeiling, natHolds, natTimeouts, conntrackCeiling, conntrackDrops, conntrackFull, kernelRelease } =
  await import('../../lab/scenario/theory/index.ts');
const { middleTheory } = await import('../../lab/run/evaluate.ts');
const { parseConntrack } = await import('../../lab/collect/conntrack.ts');
const { InputError } = await import('../../lab/errors.ts');

const FILE = 'scenarios/nat.ts';
const options = { runId: 'r1', subnet: '198.18.7.0/24', quick: false, nofileCeiling: 20000, file: FILE };

function scenario(cases: CaseSpec[]): Scenario {
  return defineScenario({
    name: 'nat',
    claim: 'a claim',
    server: { ports: [8080] },
    client: { connections: 'fill' },
    expect: [{ claim: 'c', subject: 'server', metric: 'estab', predict: () => 1 }],
    cases,
  });
}

describe('planning a NAT gateway (lab/plan/middle.ts, nat.ts)', () => {
  it('puts the gateway at .10, forwarding and tracking, with MASQUERADE to the server set from outside', () => {
    const plan = planCase(scenario([{ name: 'one', clients: 2, middle: { kind: 'nat', randomFully: true } }]), 0, options);
    const gateway = plan.middle!;
    expect(gateway).to.include({ name: 'gateway', role: 'gateway', ip: '198.18.7.10', tracksConnections: true });
    expect(gateway.program).to.deep.equal([]);
    expect(gateway.sysctls).to.include({ 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.send_redirects': '0' });
    expect(gateway.setFromOutside).to.deep.equal([
      ['sh', '-c', 'echo 0 > /proc/sys/net/ipv4/conf/eth0/send_redirects'],
      [
        'iptables',
        '-w',
        '10',
        '-t',
        'nat',
        '-A',
        'POSTROUTING',
        '-o',
        'eth0',
        '-p',
        'tcp',
        '-d',
        '198.18.7.2/32',
        '-j',
        'MASQUERADE',
        '--random-fully',
      ],
    ]);
    expect(gateway.backends).to.deep.equal(['198.18.7.2:8080']);
    // The clients still aim at the server; their route to it goes via the gateway.
    for (const c of plan.clients) {
      expect(c.targets).to.deep.equal(['198.18.7.2:8080']);
      expect(c.routes).to.deep.equal([{ to: '198.18.7.2/32', via: '198.18.7.10' }]);
    }
    expect(plannedHosts(plan).map((h) => h.name)).to.deep.equal(['server', 'gateway', 'client-1', 'client-2']);
    expect(plan.legs).to.deep.equal([
      { from: ['client-1', 'client-2'], to: 'server', endpoints: ['198.18.7.2:8080'], via: 'gateway' },
      { from: ['gateway'], to: 'server', endpoints: ['198.18.7.2:8080'] },
    ]);
  });

  it('with several addresses: from the top of the subnet down, SNAT each client to its own in turn, --to-ports', () => {
    const plan = planCase(scenario([{ name: 'two', clients: 3, middle: { kind: 'nat', addresses: 2, ports: '20000 29999' } }]), 0, options);
    const gateway = plan.middle!;
    expect(gateway.ips).to.deep.equal(['198.18.7.10', '198.18.7.254']);
    expect(gateway.nat!.addressOf).to.deep.equal({ 'client-1': '198.18.7.10', 'client-2': '198.18.7.254', 'client-3': '198.18.7.10' });
    const commands = gateway.setFromOutside!.map((argv) => argv.join(' '));
    expect(commands).to.include('ip addr add 198.18.7.254/24 dev eth0');
    expect(commands).to.include(
      'iptables -w 10 -t nat -A POSTROUTING -o eth0 -p tcp -s 198.18.7.12/32 -d 198.18.7.2/32 -j SNAT --to-source 198.18.7.254:20000-29999',
    );
    expect(commands.filter((c) => c.includes('SNAT'))).to.have.length(3);
  });

  it('has no middle host and one leg without a middle tier', () => {
    const plan = planCase(scenario([{ name: 'plain', clients: 2 }]), 0, options);
    expect(plan.middle).to.equal(undefined);
    expect(plan.legs).to.deep.equal([{ from: ['client-1', 'client-2'], to: 'server', endpoints: ['198.18.7.2:8080'] }]);
    expect(plan.clients[0]!.routes).to.equal(undefined);
  });

  it("merges a quick layer's middle over the case's, field by field", () => {
    const s = scenario([{ name: 'q', middle: { kind: 'nat', addresses: 2 }, quick: { middle: { kind: 'nat', ports: '40000 40999' } } }]);
    const nat = planCase(s, 0, { ...options, quick: true }).middle!.nat!;
    expect(nat.addresses).to.have.length(2);
    expect(nat.ports).to.deep.equal([40000, 40999]);
  });

  it('refuses a NAT over IPv6, naming the layer that asked for the gateway', () => {
    const s = scenario([{ name: 'v6', family: 'ipv6', middle: { kind: 'nat' } }]);
    expect(() => planCase(s, 0, options))
      .to.throw(InputError)
      .with.property('message')
      .that.matches(/cases\[0\]\.middle\.kind: a NAT gateway here translates IPv4/);
  });
});

describe('the NAT theory (lab/scenario/theory/nat.ts)', () => {
  const kernel = kernelRelease('6.18.44-fc-v1300');
  function context(clients: number, middle: CaseSpec['middle'], asked = 1000): TheoryContext {
    const plan = planCase(scenario([{ name: 'x', clients, middle }]), 0, options);
    return {
      kernel,
      clients: plan.clients.map((c) => clientTheoryOf(c.name, { asked })),
      server: { ip: '198.18.7.2', ports: [8080], backlog: 4096, workers: 1, nofile: 20000 },
      middle: middleTheory(plan.middle!),
    };
  }

  it('is exact where the clients fit: the sum of their own ranges', () => {
    const holds = natHolds(context(2, { kind: 'nat', ports: '40000 42299' }));
    expect(holds).to.include({ min: 2000, max: 2000 });
  });

  it("is a band at the gateway's wall: its ports for the destination, the last 1% found by chance", () => {
    const ctx = context(4, { kind: 'nat', ports: '40000 42299' });
    expect(natCeiling(ctx)).to.include({ min: 2300, max: 2300 });
    expect(natHolds(ctx)).to.include({ min: 2277, max: 2300 });
    expect(natTimeouts(ctx)).to.include({ min: 4000 - 2300, max: 4000 - 2277 });
  });

  it('searches 1024-65535 without --to-ports, and doubles with a second address or destination', () => {
    expect(natCeiling(context(4, { kind: 'nat' }))).to.include({ min: 64512, max: 64512 });
    expect(natCeiling(context(4, { kind: 'nat', addresses: 2, ports: '40000 41499' }))).to.include({ min: 3000, max: 3000 });
    // Two of the four clients behind each address: each address meets its own wall.
    expect(natHolds(context(4, { kind: 'nat', addresses: 2, ports: '40000 41499' }))).to.include({ min: 2 * 1485, max: 3000 });
  });
});

describe('a small conntrack table in the gateway (middle.conntrackMax)', () => {
  const kernel = kernelRelease('6.18.44-fc-v1300');
  function context(asked: number, middle: CaseSpec['middle'], measuredMax?: number): TheoryContext {
    const plan = planCase(scenario([{ name: 'x', clients: 1, middle }]), 0, options);
    return {
      kernel,
      clients: plan.clients.map((c) => clientTheoryOf(c.name, { asked, portRange: [40000, 41999] })),
      server: { ip: '198.18.7.2', ports: [8080], backlog: 4096, workers: 1, nofile: 20000 },
      middle: middleTheory(plan.middle!, measuredMax),
    };
  }

  it("is planned on the gateway and reaches its theory; no rule of its own (the run lowers the machine's)", () => {
    const plan = planCase(scenario([{ name: 'x', clients: 1, middle: { kind: 'nat', conntrackMax: 1500 } }]), 0, options);
    expect(plan.middle!.nat).to.include({ conntrackMax: 1500 });
    expect(plan.middle!.setFromOutside!.flat().join(' ')).not.to.include('conntrack');
    expect(middleTheory(plan.middle!).nat).to.include({ conntrackMax: 1500 });
    const without = planCase(scenario([{ name: 'x', clients: 1, middle: { kind: 'nat' } }]), 0, options);
    expect(without.middle!.nat).not.to.have.property('conntrackMax');
  });

  it('holds what its table takes where the clients ask for more: the table, not the ports, is the wall', () => {
    const ctx = context(2000, { kind: 'nat', conntrackMax: 1500 });
    expect(conntrackCeiling(ctx)).to.include({ min: 1500, max: 1500 });
    expect(conntrackFull(ctx)).to.include({ min: 1500, max: 1500 });
    const holds = natHolds(ctx);
    expect(holds.max).to.equal(1500);
    expect(holds.why).to.match(/conntrack table \(nf_conntrack_max 1500, lowered for the case\)/);
    const timeouts = natTimeouts(ctx);
    expect(timeouts).to.include({ min: 2000 - holds.max, max: 2000 - holds.min });
    expect(conntrackDrops(ctx)).to.include({ min: timeouts.min, max: Infinity });
  });

  it('under its table the clients hold what they ask, one entry each; the measured ceiling where none was lowered', () => {
    const ctx = context(1000, { kind: 'nat', conntrackMax: 1500 });
    expect(natHolds(ctx)).to.include({ min: 1000, max: 1000 });
    expect(conntrackFull(ctx)).to.include({ min: 1000, max: 1000 });
    expect(conntrackCeiling(context(1000, { kind: 'nat' }, 262144))).to.include({ min: 262144, max: 262144 });
    expect(() => conntrackFull(context(1000, { kind: 'nat' }))).to.throw(/does not lower the gateway's table/);
  });

  it('the ports stay the wall where they are fewer than the table', () => {
    const ctx = context(2000, { kind: 'nat', conntrackMax: 65536, ports: '40000 40999' });
    expect(natHolds(ctx)).to.include({ min: 990, max: 1000 });
  });
});

describe('connection tracking read inside a host (lab/collect/conntrack.ts)', () => {
  it('sums /proc/net/stat/nf_conntrack over the CPUs, by column name (hexadecimal)', () => {
    const text = [
      '### count',
      '2300',
      '### max',
      '262144',
      '### stat',
      'entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart',
      '000008fc  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 000004e2 000004e2 00000000 00000000  00000000 00000000 00000000 00000000',
      '000008fc  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 000004e2 000004e2 00000001 00000000  00000000 00000000 00000000 00000000',
    ].join('\n');
    expect(parseConntrack(text)).to.deep.equal({ count: 2300, max: 262144, insertFailed: 2500, drop: 2500, earlyDrop: 1 });
  });

  it('refuses a reading without its counters rather than making up zeros', () => {
    expect(() => parseConntrack('### count\n5\n### max\n10\n### stat\nentries found\n00000001 00000000\n')).to.throw(/no column insert_failed/);
  });
});
