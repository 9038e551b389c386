import { expect } from 'chai';
import type { PlannedHost } from '../../lab/plan/plan.ts';
import { dynamicRange, placeHosts } from '../../lab/runtime/swarm/swarm-runtime.ts';

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
    const labelled = placeHosts([{ name: 'a', role: 'client' }, { name: 'b', role: 'server' }, { name: 'c', role: 'client' }], hosts);
    expect(where(labelled.placed)).to.deep.equal(['server@b', 'client-1@a', 'client-2@c', 'client-3@a']);
    expect(labelled.how).to.equal("server on b, clients on a, c, by the nodes' lab.role labels");
    expect(where(placeHosts([{ name: 'only' }], hosts).placed)).to.deep.equal(['server@only', 'client-1@only', 'client-2@only', 'client-3@only']);
  });

  it("keeps the swarm's own addresses (each node's, the anchors') to the top sixteenth of the subnet, away from the plan's", () => {
    expect(dynamicRange('198.18.0.0/24')).to.equal('198.18.0.240/28');
    expect(dynamicRange('198.18.4.0/22')).to.equal('198.18.7.192/26');
  });
});
