import { expect } from 'chai';
import type { PlannedHost } from '../../lab/plan/plan.ts';
import { SwarmSession, dynamicRange, placeHosts } from '../../lab/runtime/swarm/swarm-runtime.ts';
import { planCase } from '../../lab/plan/plan.ts';
import { defineScenario } from '../../lab/scenario/define.ts';
import { InputError } from '../../lab/errors.ts';

const host = (name: string, role: 'server' | 'client') => ({ name, role }) as PlannedHost;
const hosts = [host('server', 'server'), host('client-1', 'client'), host('client-2', 'client'), host('client-3', 'client')];
const where = (placed: Map<PlannedHost, { name: string }>) => hosts.map((h) => `${h.name}@${placed.get(h)!.name}`);

describe('a swarm run: where its hosts go', () => {
  it('round-robin: the server on the first node, the clients over the others, and it says so', () => {
    const { placed, how } = placeHosts([{ name: 'node1' }, { name: 'node2' }, { name: 'node3' }], hosts);
    expect(where(placed)).to.deep.equal(['server@node1', 'client-1@node2', 'client-2@node3', 'client-3@node2']);
    expect(how).to.equal('server on node1, clients on node2, node3, round-robin (no node labelled lab.role=server or lab.role=client)');
  });

  it("by the nodes' lab.role labels where the user set them; one node holds everything", () => {
    const labelled = placeHosts(
      [
        { name: 'a', role: 'client' },
        { name: 'b', role: 'server' },
        { name: 'c', role: 'client' },
      ],
      hosts,
    );
    expect(where(labelled.placed)).to.deep.equal(['server@b', 'client-1@a', 'client-2@c', 'client-3@a']);
    expect(labelled.how).to.equal("server on b, clients on a, c, by the nodes' lab.role labels");
    expect(where(placeHosts([{ name: 'only' }], hosts).placed)).to.deep.equal(['server@only', 'client-1@only', 'client-2@only', 'client-3@only']);
  });

  it("keeps the swarm's own addresses (each node's, the anchors') to the top sixteenth of the subnet, away from the plan's", () => {
    expect(dynamicRange('198.18.0.0/24')).to.equal('198.18.0.240/28');
    expect(dynamicRange('198.18.4.0/22')).to.equal('198.18.7.192/26');
  });

  it('has room for the clients below those addresses only, and a plan with more is refused naming why', () => {
    const session = new SwarmSession('/nowhere', 'r1');
    expect(session.clientRoom('198.18.0.0/24')).to.deep.equal({ clients: 229, why: 'the swarm keeps 198.18.0.240/28 for its own addresses' });
    const scenario = defineScenario({
      name: 'many',
      claim: 'many clients',
      server: { ports: [9000] },
      client: { connections: 1 },
      expect: [{ claim: 'one each', subject: 'each client', metric: 'estab', predict: () => 1 }],
      cases: [
        { name: 'too many', clients: 230 },
        { name: 'just so', clients: 229 },
      ],
    });
    const options = {
      runId: 'r1',
      subnet: '198.18.0.0/24',
      quick: false,
      nofileCeiling: 20000,
      file: 'many.ts',
      clientRoom: session.clientRoom('198.18.0.0/24'),
    };
    expect(() => planCase(scenario, 0, options)).to.throw(
      InputError,
      'many.ts: cases[0].clients: 230 clients do not fit in 198.18.0.0/24 (room for 229 beside the server: the swarm keeps 198.18.0.240/28 for its own addresses)',
    );
    expect(planCase(scenario, 1, options).clients.at(-1)!.ip).to.equal('198.18.0.239');
  });
});
