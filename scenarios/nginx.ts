import { atLeast, between, clientCeiling, defineScenario, exactly, nginxHolds, nginxKernelHolds } from 'tcp-limits-lab';
import type { Expectation, NginxSettings, ServerSpec, TheoryContext } from 'tcp-limits-lab';

const PORT = 8080;
const range = (r: string) => ({ 'net.ipv4.ip_local_port_range': r });

/** nginx from Debian's packages with these settings: scenarios/nginx/lab-nginx writes its nginx.conf from its argv. */
function nginx(settings: NginxSettings): ServerSpec {
  const argv = [settings.workers, settings.workerConnections, settings.workerRlimitNofile, settings.backlog].map(String);
  const command = ['lab-nginx', ...argv, settings.reuseport ? 'on' : 'off', String(PORT)];
  return { program: { command, dockerfile: 'nginx/Dockerfile', ports: [PORT], protocol: 'http', settings: { ...settings } } };
}

const askedByAll = (ctx: TheoryContext) => ctx.clients.reduce((sum, c) => sum + c.asked, 0);
const held = (claim: string): Expectation => ({ claim, subject: 'server', metric: 'estab', predict: nginxKernelHolds });
const answered: Expectation = {
  claim: 'a request (GET / on each connection) is answered only where nginx holds the connection',
  subject: 'all clients',
  metric: 'pongs',
  predict: nginxHolds,
};
const backlog: Expectation = {
  claim: "nginx's listen backlog= is what the kernel gave the listener",
  subject: 'server',
  metric: 'listen.backlog',
  predict: ({ server }) =>
    exactly(Math.min(Number(server.settings?.backlog), 4096), `listen ${PORT} backlog=${server.settings?.backlog}, under net.core.somaxconn 4096`),
};

const SLOTS_FULL: NginxSettings = { workers: 2, workerConnections: 2000, workerRlimitNofile: 20000, backlog: 511, reuseport: true };
const SLOTS_QUICK: NginxSettings = { workers: 1, workerConnections: 256, workerRlimitNofile: 4096, backlog: 511, reuseport: false };
const FDS_FULL: NginxSettings = { workers: 2, workerConnections: 20000, workerRlimitNofile: 2048, backlog: 64, reuseport: true };
const FDS_QUICK: NginxSettings = { workers: 1, workerConnections: 4096, workerRlimitNofile: 512, backlog: 64, reuseport: false };
const PORTS_FULL: NginxSettings = { workers: 4, workerConnections: 20000, workerRlimitNofile: 20000, backlog: 511, reuseport: true };
const PORTS_QUICK: NginxSettings = { workers: 2, workerConnections: 4096, workerRlimitNofile: 4096, backlog: 511, reuseport: true };

const slots: Expectation[] = [
  held('nginx holds workers x (worker_connections - its listeners - its channel - the 1/16 it keeps free), less the idle ones one drain closed'),
  backlog,
  {
    ...answered,
    claim: 'a request (GET / on each connection) is answered at least where nginx holds the connection',
    // Measured 252 once against 210-238 held: connections still queued are accepted during the round, each
    // draining idle ones that may have answered first.
    predict: (ctx) =>
      between(
        nginxHolds(ctx).min,
        askedByAll(ctx),
        'at least what nginx holds; connections it accepts during the round from its queue answer too, and the idle ones each accept drains may have answered first',
      ),
  },
  {
    claim: "the clients' connects all succeed: the kernel finished each handshake before nginx saw it",
    subject: 'each client',
    metric: 'opened',
    predict: ({ client }) => exactly(client!.asked, 'every connect() completed; nginx then closes what it has no slot for'),
  },
  { claim: 'the clients hold only what nginx holds: the others got a FIN', subject: 'all clients', metric: 'estab', predict: nginxKernelHolds },
  {
    claim: 'nginx closed them first, so TIME_WAIT sits on the server',
    subject: 'server',
    metric: 'timewait',
    predict: (ctx) => {
      const [kept, asked] = [nginxKernelHolds(ctx), askedByAll(ctx)];
      return between(
        1,
        asked - kept.min,
        `some of the ${asked} - ${kept.min}-${kept.max} it closed: those whose client has answered the FIN by the time the kernel is read`,
      );
    },
  },
];

const fds: Expectation[] = [
  held('nginx holds workers x (its open-file limit - what a worker had open), the kernel a full accept queue more'),
  backlog,
  answered,
  {
    claim: 'the kernel counts the accept queue overflowing',
    subject: 'server',
    metric: 'nstat.TcpExtListenOverflows',
    predict: () => atLeast(1, 'accept() fails with EMFILE, so the queue fills and stays full'),
  },
  {
    claim: 'the clients hold at least what the server kernel holds; the rest time out',
    subject: 'all clients',
    metric: 'estab',
    predict: (ctx) => {
      const kernel = nginxKernelHolds(ctx);
      return between(
        kernel.min,
        askedByAll(ctx),
        `${kernel.why}; plus handshakes complete on the clients' side only (a final ACK or a SYN cookie's ACK dropped at the full queue): how many depends on timing, as in fd-limit`,
      );
    },
  },
];

const ports: Expectation[] = [
  held("nginx holds what the clients' port ranges give: its own limits are far off"),
  answered,
  { claim: 'each client holds its range', subject: 'each client', metric: 'estab', predict: ({ client }) => clientCeiling(client!) },
  {
    claim: 'then connect() fails with EADDRNOTAVAIL',
    subject: 'each client',
    metric: 'errors.EADDRNOTAVAIL',
    predict: () => atLeast(1, 'the range is spent for this destination'),
  },
];

export default defineScenario({
  name: 'nginx',
  claim:
    "nginx from Debian's packages holds workers x worker_connections less what each worker uses, until its open-file limit or the clients' ports come first; each wall is the setting that decides it.",
  story: `Your own server under the lab's flood: here nginx, installed from Debian's packages on the lab's
server image, its nginx.conf written from the case's settings (scenarios/nginx/lab-nginx). The lab starts
it, waits until its kernel lists the listener, reads every nginx process's open descriptors and limit from
/proc, then floods it with idle connections exactly as it floods labserver, and reads the server's kernel.
Three walls, one per case, each moved by one setting. First worker_connections: every worker takes one of
them for each listener it polls and one for its channel to the master, so it can hold worker_connections
- listeners - 1. It never fills them with idle connections: as soon as its free slots are down to 1/16 of
worker_connections it closes its oldest idle ones (all of the lab's are idle: no request yet), up to 32
at a time, before taking the next, so worker_connections 2000 hold at most 1873 idle connections. Every
client's connect() succeeds; those nginx closed get a FIN, and the server keeps their TIME_WAIT, since
it closed first. Raise worker_connections and the worker's open-file limit (worker_rlimit_nofile) comes
first: it holds that limit less what it had open (log files,
listeners, epoll, eventfd, its channel), then accept() fails with EMFILE, nginx stops accepting for a
moment, and the kernel fills the accept queue (listen backlog= + 1) with connections nobody accepts; the
clients beyond it time out, as in the fd-limit scenario. Raise that too and nginx is no longer the wall:
the clients' port ranges are (64k-myth), and nginx holds every connection they can make. With reuseport
each worker has a listener of its own and the kernel spreads connections over them by hash. After each
fill every client sends one keep-alive GET / on each of its connections: only those nginx holds answer,
not those still waiting in a full accept queue, though their clients count them as established.`,
  seeds: ['003'],
  server: nginx(SLOTS_FULL),
  // After the fill, one keep-alive GET / on every connection: those nginx holds answer (pingWaitMs bounds the rest).
  client: { connections: 10000, inflight: 256, ping: true, pingWaitMs: 5000 },
  cases: [
    {
      name: 'worker_connections is the wall',
      about:
        'Few connection slots per worker, descriptors to spare: nginx holds workers x (worker_connections - 2 - a sixteenth it keeps free), closing idle ones to take new ones.',
      server: nginx(SLOTS_FULL),
      holdSeconds: 5,
      quick: { server: nginx(SLOTS_QUICK), client: { connections: 600 } },
      expect: slots,
    },
    {
      name: 'worker_rlimit_nofile is the wall',
      about: 'worker_connections raised: now each worker runs out of descriptors first; accept() fails with EMFILE and the accept queue fills.',
      server: nginx(FDS_FULL),
      client: { connections: 9000, inflight: 1024, connectTimeoutMs: 3000 },
      quick: { server: nginx(FDS_QUICK), client: { connections: 1200, inflight: 256 } },
      expect: fds,
    },
    {
      name: "the clients' port ranges are the wall",
      about: "Both raised: nginx holds whatever the clients can open; each client's port range runs out (EADDRNOTAVAIL).",
      clients: 4,
      server: nginx(PORTS_FULL),
      client: { connections: 'fill', sysctls: range('40000 49999') },
      quick: { clients: 2, server: nginx(PORTS_QUICK), client: { sysctls: range('40000 40499') } },
      expect: ports,
    },
  ],
});
