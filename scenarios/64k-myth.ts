import { atLeast, clientCeiling, defineScenario, serverHolds } from 'tcp-limits-lab';

const defaultRange = { 'net.ipv4.ip_local_port_range': '32768 60999' };
const wideRange = { 'net.ipv4.ip_local_port_range': '1024 65535' };
// --quick: the same laws on narrow ranges (1000 and 2000 ports), in seconds.
const quickRange = { 'net.ipv4.ip_local_port_range': '40000 40999' };
const quickWideRange = { 'net.ipv4.ip_local_port_range': '40000 41999' };

export default defineScenario({
  name: '64k-myth',
  claim: 'The ephemeral-port limit is per (client IP, server IP, server port), not per server.',
  story: `"A server can only take 64k connections" mixes up two things. A TCP connection is named by four
numbers: client IP, client port, server IP, server port. Only the client port is picked from a range
(net.ipv4.ip_local_port_range, 32768-60999 by default: 28232 ports), and the client's kernel picks it per
destination. So ONE client IP can hold about 28k connections to ONE server IP and port, and then connect()
fails with EADDRNOTAVAIL ("cannot assign requested address"). The server side has no such limit: every
new client IP brings a fresh 28k, and a wider range brings more. Four clients take one server, on one IP
and one port, well past 64k. The lab predicts each client's figure exactly: the ports of its range, less
any port a socket already holds inside the client (Docker's DNS listener on 127.0.0.11 takes one).`,
  seeds: ['003', '004'],
  server: { ports: [8080], backlog: 4096 },
  client: { connections: 'fill', inflight: 256 },
  expect: [
    {
      claim: 'each client holds every usable port of its range to the one server port',
      subject: 'each client',
      metric: 'estab',
      predict: ({ client }) => clientCeiling(client!),
    },
    {
      claim: 'a spent range answers EADDRNOTAVAIL',
      subject: 'each client',
      metric: 'errors.EADDRNOTAVAIL',
      predict: () => atLeast(1, 'connect() once the range is spent'),
    },
    {
      claim: 'the server, on one IP and one port, holds the sum over its clients',
      subject: 'server',
      metric: 'estab',
      predict: serverHolds,
    },
  ],
  cases: [
    {
      name: '1 client, default range',
      about: 'One client IP against one server IP and port: the range is the limit, about 28k.',
      clients: 1,
      client: { sysctls: defaultRange },
      quick: { client: { sysctls: quickRange } },
    },
    {
      name: '2 clients, default range',
      about: 'A second client IP brings a second, independent range: the server doubles.',
      clients: 2,
      client: { sysctls: defaultRange },
      quick: { client: { sysctls: quickRange } },
    },
    {
      name: '4 clients, default range',
      about: 'Four client IPs: the server holds about 113k connections on one IP and one port, past "64k".',
      clients: 4,
      client: { sysctls: defaultRange },
      quick: { client: { sysctls: quickRange } },
    },
    {
      name: '1 client, range 1024-65535',
      about: 'Widening the range is the other lever: one client IP now holds about 64.5k.',
      clients: 1,
      client: { sysctls: wideRange },
      quick: { client: { sysctls: quickWideRange } },
    },
  ],
});
