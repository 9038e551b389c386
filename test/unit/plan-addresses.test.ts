/**
 * A case's addresses and family become a plan: the client's addresses (its own, then more above every
 * client's), the server's endpoints in each family, the flood's --sources and the server's --dual-stack,
 * a 'fill' sized by the pools of ports, the run's IPv6 /64; and what planning refuses, named where it was said.
 */
import { expect } from 'chai';
import { InputError } from '../../lab/errors.ts';
import { casesOverIpv6, planCase, refuseIpv6Without } from '../../lab/plan/plan.ts';
import { defineScenario } from '../../lab/scenario/define.ts';
import type { CaseSpec, ClientSpec, Scenario } from '../../lab/scenario/types.ts';
import { hostAddress6, ipv6SubnetFor } from '../../lab/subnet.ts';

const FILE = 'scenarios/addresses.ts';
const options = { runId: 'r1', subnet: '198.18.7.0/24', quick: false, nofileCeiling: 20000, file: FILE };
const NET_ADMIN = { NET_ADMIN: 'adds the client addresses inside it' };
const range = { 'net.ipv4.ip_local_port_range': '40000 40999' };

function scenario(cases: CaseSpec[], client: ClientSpec = {}): Scenario {
  return defineScenario({
    name: 'addresses',
    claim: 'a claim',
    server: { ports: [80, 443] },
    client: { connections: 'fill', sysctls: range, ...client },
    expect: [{ claim: 'c', subject: 'each address', metric: 'estab', predict: () => 1 }],
    cases,
  });
}

describe("the run's IPv6 subnet (lab/subnet.ts)", () => {
  it('is a /64 of fd00:1ab::/32 named after the IPv4 subnet, host numbers as in IPv4', () => {
    expect(ipv6SubnetFor('198.18.7.0/24')).to.equal('fd00:1ab:c612:700::/64');
    expect(ipv6SubnetFor('198.18.0.0/24')).to.equal('fd00:1ab:c612::/64');
    expect(hostAddress6('198.18.7.0/24', 11)).to.equal('fd00:1ab:c612:700::b');
    expect(hostAddress6('198.19.255.248/29', 2)).to.equal('fd00:1ab:c613:fff8::2');
  });
});

describe('planning addresses and families', () => {
  it('gives each client its own address and the others above every client, added inside it', () => {
    const plan = planCase(scenario([{ name: 'two', clients: 2, client: { addresses: 3, source: 'bind', capabilities: NET_ADMIN } }]), 0, options);
    const [one, two] = plan.clients;
    expect(one!.addresses!.map((a) => a.address)).to.deep.equal(['198.18.7.11', '198.18.7.13', '198.18.7.14']);
    expect(two!.addresses!.map((a) => a.address)).to.deep.equal(['198.18.7.12', '198.18.7.15', '198.18.7.16']);
    expect(one!.extraAddresses).to.deep.equal(['198.18.7.13/24', '198.18.7.14/24']);
    expect(one!.program.join(' ')).to.contain('--sources 198.18.7.11,198.18.7.13,198.18.7.14').and.contain('--bind any');
    expect(plan.subnet6).to.equal(undefined);
    expect(one!.ip6).to.equal(undefined);
  });

  it('leaves the addresses to the route without a source mode: no --sources, no bind', () => {
    const c = planCase(scenario([{ name: 'route', client: { addresses: 4, capabilities: NET_ADMIN } }]), 0, options).clients[0]!;
    expect(c.program).not.to.include('--sources');
    expect(c.program).to.include.members(['--bind', 'none']);
    // One range per destination, and 16 more each: the fill ends on EADDRNOTAVAIL.
    expect(c.asked).to.equal(2 * (1000 + 16));
  });

  it("sizes a 'fill' by the pools: one range per address for bind(), per address and destination for IP_BIND_ADDRESS_NO_PORT", () => {
    const bind = planCase(scenario([{ name: 'b', client: { addresses: 2, source: 'bind', capabilities: NET_ADMIN } }]), 0, options).clients[0]!;
    const noPort = planCase(scenario([{ name: 'n', client: { addresses: 2, source: 'nobindport', capabilities: NET_ADMIN } }]), 0, options)
      .clients[0]!;
    expect(bind.asked).to.equal(2 * 1000 + 16 * 4);
    expect(noPort.asked).to.equal(4 * 1000 + 16 * 4);
    expect(noPort.program).to.include.members(['--bind', 'nobindport']);
  });

  it("plans IPv6: the /64, the hosts' IPv6 addresses, bracketed targets, a dual-stack server", () => {
    const plan = planCase(
      scenario([{ name: 'v6', family: 'ipv6', client: { addresses: 2, source: 'nobindport', capabilities: NET_ADMIN } }]),
      0,
      options,
    );
    const c = plan.clients[0]!;
    expect(plan.subnet6).to.equal('fd00:1ab:c612:700::/64');
    expect(plan.server.ip6).to.equal('fd00:1ab:c612:700::2');
    expect(c.ip6).to.equal('fd00:1ab:c612:700::b');
    expect(c.targets).to.deep.equal(['[fd00:1ab:c612:700::2]:80', '[fd00:1ab:c612:700::2]:443']);
    expect(c.addresses).to.deep.equal([
      { address: 'fd00:1ab:c612:700::b', family: 'ipv6' },
      { address: 'fd00:1ab:c612:700::c', family: 'ipv6' },
    ]);
    expect(c.extraAddresses).to.deep.equal(['fd00:1ab:c612:700::c/64']);
    expect(plan.server.program).to.include('--dual-stack');
  });

  it('plans both families side by side, IPv4 first; a server with more addresses answers on each in both', () => {
    const plan = planCase(scenario([{ name: 'dual', family: 'dual', server: { addresses: 2, capabilities: NET_ADMIN } }]), 0, options);
    expect(plan.clients[0]!.targets).to.deep.equal([
      '198.18.7.2:80',
      '198.18.7.2:443',
      '198.18.7.3:80',
      '198.18.7.3:443',
      '[fd00:1ab:c612:700::2]:80',
      '[fd00:1ab:c612:700::2]:443',
      '[fd00:1ab:c612:700::3]:80',
      '[fd00:1ab:c612:700::3]:443',
    ]);
    expect(plan.server.extraAddresses).to.deep.equal(['198.18.7.3/24', 'fd00:1ab:c612:700::3/64']);
  });

  it('lets --family override every case; an IPv4 case in a run whose network carries IPv6 still gets its hosts an IPv6 address', () => {
    const s = scenario([{ name: 'one' }]);
    expect(planCase(s, 0, { ...options, family: 'ipv6' }).clients[0]!.targets).to.deep.equal([
      '[fd00:1ab:c612:700::2]:80',
      '[fd00:1ab:c612:700::2]:443',
    ]);
    const ipv4 = planCase(s, 0, { ...options, ipv6: true });
    expect(ipv4.clients[0]!.targets).to.deep.equal(['198.18.7.2:80', '198.18.7.2:443']);
    expect(ipv4.clients[0]!.ip6).to.equal('fd00:1ab:c612:700::b');
    expect(ipv4.server.program).not.to.include('--dual-stack');
  });

  it('finds the cases over IPv6, and refuses them where the runtime carries none, named where the family was said', () => {
    const s = scenario([{ name: 'four' }, { name: 'six', family: 'ipv6' }]);
    expect(casesOverIpv6(s, [0, 1], false)).to.deep.equal([1]);
    expect(casesOverIpv6(s, [0, 1], false, 'dual')).to.deep.equal([0, 1]);
    expect(() => refuseIpv6Without({ name: 'swarm', ipv6: false }, s, FILE, [1])).to.throw(
      InputError,
      `${FILE}: cases[1].family: 'ipv6' needs IPv6, and the swarm runtime's networks carry none`,
    );
    expect(() => refuseIpv6Without({ name: 'swarm', ipv6: false }, s, FILE, [0, 1], 'dual')).to.throw(InputError, /^--family: 'dual' needs IPv6/);
    expect(() => refuseIpv6Without({ name: 'docker', ipv6: true }, s, FILE, [1])).not.to.throw();
  });

  it('refuses what it cannot plan, named where it was said', () => {
    const refused = (c: CaseSpec, client?: ClientSpec) => () => planCase(scenario([c], client), 0, options);
    expect(refused({ name: 'x', client: { addresses: 2 } })).to.throw(
      InputError,
      "cases[0].client.addresses: 2 addresses are added inside the client: declare capabilities: { NET_ADMIN: '<why>' } beside it",
    );
    expect(refused({ name: 'x', client: { source: 'bind' } }, { bind: 'any' })).to.throw(
      InputError,
      /cases\[0\]\.client\.source: 'any' binds to the wildcard address, and source 'bind'/,
    );
    expect(refused({ name: 'x', client: { source: 'nobindport', churn: { rate: 10, seconds: 1 } } })).to.throw(
      InputError,
      /cases\[0\]\.client\.source: 'nobindport' is how the lab's flood binds .*a churn \(labchurn\) does not/,
    );
    expect(() =>
      planCase(scenario([{ name: 'x', clients: 2, client: { addresses: 3, capabilities: NET_ADMIN } }]), 0, { ...options, subnet: '198.18.9.0/28' }),
    ).to.throw(InputError, 'cases[0].client.addresses: 2 clients x 3 addresses do not fit in 198.18.9.0/28 (room for 4 beside the server)');
  });
});
