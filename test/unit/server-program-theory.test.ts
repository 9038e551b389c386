import { expect } from 'chai';
import { nginxDrainedAtOnce, nginxHolds, nginxKernelHolds, nginxWorkerWall, programProcesses } from '../../lab/scenario/theory/nginx.ts';
import { kernelRelease } from '../../lab/scenario/theory/kernel.ts';
import type { ClientTheory, HostProcess, TheoryContext } from '../../lab/scenario/types.ts';

const client = (name: string, asked: number, portRange: [number, number] = [32768, 60999]): ClientTheory => ({
  name,
  ip: '198.18.0.11',
  portRange,
  reservedPorts: [],
  boundPorts: [],
  destinations: 1,
  asked,
  nofile: 20000,
  processes: 1,
  bind: 'none',
});

const worker = (openFiles: number, nofile: number, pid = 10): HostProcess => ({ pid, command: 'nginx: worker process ', openFiles, nofile });
const master: HostProcess = { pid: 9, command: 'nginx: master process nginx -c /etc/nginx/lab.conf -g daemon off; ', openFiles: 8, nofile: 20000 };

function context(settings: Record<string, number | boolean>, processes: HostProcess[] | undefined, clients: ClientTheory[]): TheoryContext {
  return {
    kernel: kernelRelease('6.18.44'),
    clients,
    server: {
      ip: '198.18.0.2',
      ports: [8080],
      backlog: Number(settings.backlog),
      workers: 0,
      nofile: 20000,
      settings,
      ...(processes && { processes }),
    },
  };
}

const settings = (over: Record<string, number | boolean> = {}) => ({
  workers: 1,
  workerConnections: 256,
  workerRlimitNofile: 4096,
  backlog: 511,
  reuseport: false,
  ...over,
});

describe("a server program's processes and nginx's walls", () => {
  it('finds the processes by command, or says they were not read (a figure only the run has)', () => {
    const ctx = context(settings(), [master, worker(9, 4096)], []);
    expect(programProcesses(ctx, /^nginx: worker/)).to.have.length(1);
    expect(() => programProcesses(context(settings(), undefined, []), /x/))
      .to.throw(/processes were not read/)
      .with.property('name', 'MissingFigure');
    expect(() => programProcesses(ctx, /^apache/)).to.throw(/no process of the server program matches/);
  });

  it('worker_connections: the slots less one per listener and one for the channel to the master', () => {
    const wall = nginxWorkerWall(context(settings(), [master, worker(9, 4096)], []));
    // Measured with nginx 1.22 (bookworm), 600 idle connections to 1 worker of worker_connections 256: it held 223.
    expect(wall).to.include({ min: 210, max: 238, wall: 'worker_connections', workers: 1 });
    expect(wall.why).to.contain('worker_connections 256 - 1 listener(s) - 1 channel to the master - the 16 (1/16) it keeps free = 238');
    expect(wall.why).to.contain('less the 29 idle ones one drain closes');
    // And 10,000 to 2 workers (reuseport) of 2000: 3696, 1848 each.
    const two = nginxWorkerWall(
      context(
        settings({ workers: 2, workerConnections: 2000, workerRlimitNofile: 20000, reuseport: true }),
        [master, worker(9, 20000), worker(9, 20000, 12)],
        [],
      ),
    );
    expect(two).to.include({ min: 1842, max: 1873, workers: 2 });
  });

  it('worker_rlimit_nofile: the limit less what the busiest worker held once listening', () => {
    const wall = nginxWorkerWall(
      context(settings({ workerConnections: 4096, workerRlimitNofile: 512 }), [master, worker(9, 512), worker(11, 512, 12)], []),
    );
    expect(wall).to.include({ min: 501, max: 501, wall: 'worker_rlimit_nofile', workers: 2 });
  });

  it('holds workers x the wall when the clients offer far more, and the kernel adds full queues only at the descriptor wall', () => {
    const slots = context(settings(), [master, worker(9, 4096)], [client('client-1', 600)]);
    expect(nginxHolds(slots)).to.include({ min: 210, max: 238 });
    expect(nginxKernelHolds(slots)).to.include({ min: 210, max: 238 });
    const fds = context(
      settings({ workerConnections: 4096, workerRlimitNofile: 512, backlog: 64 }),
      [master, worker(10, 512)],
      [client('client-1', 1200)],
    );
    expect(nginxHolds(fds)).to.include({ min: 502, max: 502 });
    expect(nginxKernelHolds(fds)).to.include({ min: 567, max: 567 });
    const reuseport = context(
      settings({ workers: 2, workerConnections: 20000, workerRlimitNofile: 2048, backlog: 64, reuseport: true }),
      [master, worker(12, 2048), worker(12, 2048, 13)],
      [client('client-1', 9000)],
    );
    expect(nginxKernelHolds(reuseport)).to.include({ min: 2 * 2036 + 2 * 65, max: 2 * 2036 + 2 * 65 });
  });

  it("holds what the clients' ports give when that is far inside its capacity, a band near it", () => {
    const ports = context(
      settings({ workers: 2, workerConnections: 4096, reuseport: true }),
      [master, worker(9, 4096), worker(9, 4096, 12)],
      [client('a', 1e6, [40000, 40499]), client('b', 1e6, [40000, 40499])],
    );
    expect(nginxKernelHolds(ports)).to.include({ min: 1000, max: 1000 });
    const near = context(settings(), [master, worker(9, 4096)], [client('client-1', 300)]);
    expect(nginxHolds(near)).to.include({ min: 210, max: 238 });
    const justBelow = context(settings({ workers: 2, reuseport: true }), [master, worker(9, 4096), worker(9, 4096, 12)], [client('client-1', 400)]);
    expect(nginxHolds(justBelow)).to.include({ min: 210, max: 400 });
  });

  it('closes max(min(32, idle / 8), 1) idle connections at once when out of slots', () => {
    expect([1, 8, 16, 254, 256, 1998, 100000].map(nginxDrainedAtOnce)).to.deep.equal([1, 1, 2, 31, 32, 32, 32]);
  });

  it('refuses settings that are not there (the scenario must set what the theory reads)', () => {
    expect(() => nginxHolds(context({ workers: 1 }, [master, worker(9, 4096)], []))).to.throw(
      /server.program.settings.workerConnections must be a number/,
    );
  });
});
