/**
 * The server's listeners as its kernel lists them (`ss -Htlnp`): a server program ready only where the
 * clients can reach it (not 127.0.0.1 alone), and nginx's theory counting the listeners it really polls
 * (a status page's included), not the ports the scenario gave.
 */
import { expect } from 'chai';
import { checkListeners, elsewhereProblem, parseListeners, programListeners } from '../../lab/collect/listeners.ts';
import { serverTheory } from '../../lab/run/evaluate.ts';
import type { PlannedServer } from '../../lab/plan/plan.ts';
import type { HostResult } from '../../lab/results/results.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
import { nginxWorkerWall } from '../../lab/scenario/theory/nginx.ts';
import type { HostProcess, ServerTheory, TheoryContext } from '../../lab/scenario/types.ts';

const IP = '198.18.0.2';

// As ss 6.x prints them inside a lab server, Docker's DNS listener (held from outside: no process) included.
const LOOPBACK_ONLY = `LISTEN 0      5          127.0.0.1:8080       0.0.0.0:*    users:(("python3",pid=7,fd=3))
LISTEN 0      4096      127.0.0.11:41235      0.0.0.0:*
`;
const NGINX_WITH_STATUS = `LISTEN 0      511          0.0.0.0:8080       0.0.0.0:*    users:(("nginx",pid=8,fd=6),("nginx",pid=7,fd=6))
LISTEN 0      511        127.0.0.1:8081       0.0.0.0:*    users:(("nginx",pid=8,fd=7),("nginx",pid=7,fd=7))
LISTEN 0      4096      127.0.0.11:41235      0.0.0.0:*
`;

describe("the server program's listeners, for the ready check", () => {
  it('reads address, port and the processes holding each', () => {
    expect(parseListeners(LOOPBACK_ONLY)).to.deep.equal([
      { address: '127.0.0.1', port: 8080, pids: [7] },
      { address: '127.0.0.11', port: 41235, pids: [] },
    ]);
    expect(
      parseListeners(
        'LISTEN 0 128 [::]:8080 [::]:*\nLISTEN 0 128 *:9090 *:*\nLISTEN 0 128 0.0.0.0%eth0:7070 0.0.0.0:*\nLISTEN 0 10 [::1]:6060 [::]:*\n',
      ).map((l) => l.address),
    ).to.deep.equal(['::', '*', '0.0.0.0', '::1']);
  });

  it('a listener on 127.0.0.1 only does not make the port ready: it is named, with the address the clients use', () => {
    const check = checkListeners(parseListeners(LOOPBACK_ONLY), [8080], IP);
    expect(check).to.deep.equal({ unreachable: [8080], elsewhere: ['127.0.0.1:8080'] });
    expect(elsewhereProblem('server', check, IP)).to.equal(
      `server: listens on 127.0.0.1:8080 only, not on ${IP}: the clients cannot reach it (listen on ${IP} or on 0.0.0.0)`,
    );
    const both = checkListeners(parseListeners(`${LOOPBACK_ONLY}LISTEN 0 5 [::1]:8080 [::]:*\n`), [8080], IP);
    expect(elsewhereProblem('server', both, IP)).to.equal(
      `server: listens on 127.0.0.1:8080 and [::1]:8080 only, not on ${IP}: the clients cannot reach it (listen on ${IP} or on 0.0.0.0)`,
    );
  });

  it("is ready on the server's own address, or any address (IPv4 or IPv6)", () => {
    for (const local of [`${IP}:8080`, '0.0.0.0:8080', '[::]:8080', '*:8080', `[::ffff:${IP}]:8080`]) {
      expect(checkListeners(parseListeners(`LISTEN 0 5 ${local} 0.0.0.0:*\n`), [8080], IP), local).to.deep.equal({ unreachable: [], elsewhere: [] });
    }
  });

  it('a port with no listener at all is unreachable, not "elsewhere"', () => {
    expect(checkListeners(parseListeners(LOOPBACK_ONLY), [9090], IP)).to.deep.equal({ unreachable: [9090], elsewhere: [] });
  });
});

describe("nginx's theory counts the listeners the kernel lists", () => {
  const worker: HostProcess = { pid: 8, command: 'nginx: worker process ', openFiles: 9, nofile: 4096 };
  const master: HostProcess = { pid: 7, command: 'nginx: master process nginx -c /etc/nginx/lab.conf ', openFiles: 8, nofile: 20000 };
  const settings = { workers: 1, workerConnections: 256, workerRlimitNofile: 4096, backlog: 511, reuseport: false };

  function context(listeners?: ServerTheory['listeners']): TheoryContext {
    return {
      kernel: kernelRelease('6.18.44'),
      clients: [],
      server: {
        ip: IP,
        ports: [8080],
        backlog: 511,
        workers: 0,
        nofile: 20000,
        settings,
        processes: [master, worker],
        ...(listeners && { listeners }),
      },
    };
  }

  it("keeps nginx's own listeners, each address and port once; not Docker's DNS listener", () => {
    expect(programListeners(parseListeners(NGINX_WITH_STATUS))).to.deep.equal([
      { address: '0.0.0.0', port: 8080 },
      { address: '127.0.0.1', port: 8081 },
    ]);
    // reuseport: a socket per worker on one address and port, one listener to each worker.
    const reuseport =
      'LISTEN 0 511 0.0.0.0:8080 0.0.0.0:* users:(("nginx",pid=8,fd=6),("nginx",pid=7,fd=6))\nLISTEN 0 511 0.0.0.0:8080 0.0.0.0:* users:(("nginx",pid=9,fd=7),("nginx",pid=7,fd=7))\n';
    expect(programListeners(parseListeners(reuseport))).to.deep.equal([{ address: '0.0.0.0', port: 8080 }]);
    expect(programListeners(parseListeners('LISTEN 0 511 0.0.0.0:8080 0.0.0.0:*\n')), 'no -p there: not read').to.equal(undefined);
  });

  it('a status page on another port takes a slot more: the wall is one lower than the ports alone say', () => {
    const plain = nginxWorkerWall(context());
    const withStatus = nginxWorkerWall(context(programListeners(parseListeners(NGINX_WITH_STATUS))));
    // 256 - 1 listener - 1 channel - 16 kept free = 238; with the status page 237.
    expect(plain.max).to.equal(238);
    expect(withStatus.max).to.equal(237);
    expect(withStatus.why).to.contain(
      'worker_connections 256 - 2 listener(s) - 1 channel to the master - the 16 (1/16) it keeps free = 237 (listeners as the kernel listed them: 0.0.0.0:8080, 127.0.0.1:8081)',
    );
    expect(plain.why).to.contain("(listeners: its ports as given, the kernel's list not read)");
  });

  it('the listeners read at ready reach the theory through serverTheory', () => {
    const plan = { ip: IP, ports: [8080], backlog: 511, workers: 1, nofile: 20000, settings } as unknown as PlannedServer;
    const measured = { nofile: 20000, listenBacklog: 511 } as unknown as HostResult;
    const listeners = [
      { address: '0.0.0.0', port: 8080 },
      { address: '127.0.0.1', port: 8081 },
    ];
    expect(serverTheory(plan, measured, undefined, undefined, [master, worker], listeners).listeners).to.deep.equal(listeners);
  });
});
