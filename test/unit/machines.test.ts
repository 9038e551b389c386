/**
 * The machine under each host: read inside it (uname, boot id, conntrack's ceiling), joined with its node's
 * facts in a swarm; one boot id means one kernel, and then memory is not split by node; a client's claims
 * are predicted on its own kernel.
 */
import { expect } from 'chai';
import { parseKernelView } from '../../lab/collect/kernel-view.ts';
import { hostMachine, oneKernel } from '../../lab/results/machines.ts';
import { machineLines } from '../../lab/report/facts.ts';
import { evaluate } from '../../lab/run/evaluate.ts';
import type { CaseResult, HostResult } from '../../lab/results/results.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
import { clientCeiling, serverHolds } from '../../lab/scenario/theory/ports.ts';
import type { Expectation } from '../../lab/scenario/types.ts';
import { clientTheoryOf } from './client-theory.ts';
import { hostResultOf } from '../fixtures/host-result.ts';

const NODES = [
  { name: 'node1', address: 'unix:///run/lab-swarm/node1.sock', kernel: '6.18.44', engine: 'Docker 20.10.24', nofileCeiling: 20000 },
  { name: 'node2', address: 'tcp://10.0.0.12:2375', kernel: '6.1.0-57-amd64', engine: 'Docker 24.0.7', nofileCeiling: 1048576 },
];
const read = (bootId: string, release = '6.18.44') => ({ release, version: '#1 SMP', bootId, conntrackMax: 262144 });

describe('the machine under each host', () => {
  it("reads the kernel, boot id and conntrack's ceiling inside the host; none where the section is missing", () => {
    const base = [
      '### ss',
      'TCP:   3 (estab 1, closed 0, orphaned 0, timewait 0)',
      '### nstat',
      '### listen',
      '### sysctl',
      '### nofile',
      '1024',
      '### rss',
      '0',
      '### meminfo',
      '### sockstat',
      '### softnet',
    ];
    const view = parseKernelView(
      [...base, '### machine', '6.1.0-57-amd64', '#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1', 'f3c1d2e4-0000-4000-8000-000000000001', '', ''].join(
        '\n',
      ),
    );
    expect(view.machine).to.deep.equal({
      release: '6.1.0-57-amd64',
      version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1',
      bootId: 'f3c1d2e4-0000-4000-8000-000000000001',
    });
    const tracked = parseKernelView([...base, '### machine', '6.18.44', '#1', 'b00t', '262144', ''].join('\n'));
    expect(tracked.machine?.conntrackMax).to.equal(262144);
    expect(parseKernelView([...base, ''].join('\n')).machine).to.equal(undefined);
  });

  it("gives a host on a node its node's engine and open-file ceiling beside the kernel it read", () => {
    expect(hostMachine('node2', read('b2', '6.1.0-57-amd64'), NODES)).to.deep.equal({
      node: 'node2',
      kernel: '6.1.0-57-amd64',
      kernelVersion: '#1 SMP',
      bootId: 'b2',
      conntrackMax: 262144,
      engine: 'Docker 24.0.7',
      nofileCeiling: 1048576,
    });
    expect(hostMachine(undefined, read('b1'))).to.deep.equal({ kernel: '6.18.44', kernelVersion: '#1 SMP', bootId: 'b1', conntrackMax: 262144 });
    expect(hostMachine('node1', undefined, NODES)).to.equal(undefined);
  });

  it('says one kernel only when every host read the same boot id', () => {
    const m = (boot: string) => hostMachine('node1', read(boot), NODES);
    expect(oneKernel([m('a'), m('a'), m('a')])).to.equal(true);
    expect(oneKernel([m('a'), m('b')])).to.equal(false);
    expect(oneKernel([m('a'), undefined])).to.equal(undefined);
  });

  it('tells where each host ran, and whether the nodes shared one kernel', () => {
    const at = (name: string, node: string, bootId: string, kernel = '6.18.44') =>
      ({ name, machine: { node, kernel, kernelVersion: '', bootId } }) as HostResult;
    const shared = {
      hosts: [at('server', 'node1', 'abcdef1234'), at('client-1', 'node2', 'abcdef1234'), at('client-2', 'node3', 'abcdef1234')],
      oneKernel: true,
    } as CaseResult;
    expect(machineLines(shared)).to.deep.equal([
      'nodes: node1 (server), node2 (client-1), node3 (client-2); one kernel under them all (the same boot id, abcdef12): both ends of every connection in it, so memory is not split by node',
    ]);
    const apart = { hosts: [at('server', 'node1', 'a'), at('client-1', 'node2', 'b', '6.1.0-57-amd64')], oneKernel: false } as CaseResult;
    expect(machineLines(apart)).to.deep.equal([
      'nodes: node1 (server), node2 (client-1); separate kernels (boot ids differ): node1: Linux 6.18.44, node2: Linux 6.1.0-57-amd64',
    ]);
    expect(machineLines({ hosts: [{ name: 'server' } as HostResult] } as CaseResult)).to.deep.equal([]);
  });

  it("predicts a client's claims on its own kernel: a per-socket range on 5.10 (none) beside one on 6.18", () => {
    const client = (name: string, kernel: string) => clientTheoryOf(name, { socketPortRange: [40000, 40499], kernel: kernelRelease(kernel) });
    const context = {
      kernel: kernelRelease('6.18.44'),
      clients: [client('client-1', '6.18.44'), client('client-2', '5.10.0-35-amd64')],
      server: { ip: '198.18.0.2', ports: [9000], backlog: 4096, workers: 1, nofile: 20000 },
    };
    const each: Expectation = {
      claim: 'holds its per-socket range',
      subject: 'each client',
      metric: 'estab',
      predict: ({ client }) => clientCeiling(client!),
    };
    const sum: Expectation = { claim: 'server holds the sum', subject: 'server', metric: 'estab', predict: serverHolds };
    const measured = (name: string, estab: number) => hostResultOf(name, { role: 'client', estab });
    const rows = evaluate([each, sum], context, { ...measured('server', 500), role: 'server' }, [measured('client-1', 500), measured('client-2', 0)]);
    expect(rows.map((r) => [r.host, r.predicted.min, r.predicted.max, r.pass])).to.deep.equal([
      ['client-1', 500, 500, true],
      ['client-2', 0, 0, true],
      ['server', 500, 500, true],
    ]);
  });
});
