import { clientCeiling, defineScenario, exactly } from 'tcp-limits-lab';

export default defineScenario({
  name: 'socket-port-range',
  claim: 'A per-socket port range (IP_LOCAL_PORT_RANGE) bounds one socket to its own ports on Linux 6.3+, reaches every port of it from 6.8, and does not exist before 6.3.',
  story: `A proxy that wants its own slice of ports used to need its own network namespace or bind() before
connect(). Linux 6.3 added the IP_LOCAL_PORT_RANGE socket option (Cloudflare's work): setsockopt() before
connect() narrows the range __inet_hash_connect() scans for that socket, each end applying where it lies
inside the namespace's ip_local_port_range. Older kernels refuse the option with ENOPROTOOPT.
Linux 6.8 changed the scan for such sockets: it steps over every port one by one instead of one parity
first, so an odd-sized per-socket range is reachable to its last port (999 of 999), where the namespace's
odd-sized range still loses one (998 of 999, see the port-range scenario). Run it across kernels with
\`lab matrix scenarios/socket-port-range.ts --kernels 5.10,6.1,6.12,host\`.`,
  server: { ports: [8080] },
  client: { connections: 'fill' },
  expect: [
    { claim: 'the client holds the ports its sockets may use (none before 6.3)', subject: 'each client', metric: 'estab', predict: ({ client, kernel }) => clientCeiling(client!, kernel) },
    {
      claim: 'before 6.3 every setsockopt(IP_LOCAL_PORT_RANGE) fails with ENOPROTOOPT',
      subject: 'each client',
      metric: 'errors.ENOPROTOOPT',
      predict: ({ client, kernel }) => (kernel.atLeast(6, 3) ? exactly(0, `Linux ${kernel.release} has the option`) : exactly(client!.asked, `Linux ${kernel.release}: no such option before 6.3`)),
    },
  ],
  cases: [
    {
      name: 'per-socket 40000-40999 inside 32768-60999',
      about: 'The namespace keeps the default range; each socket asks for 1000 ports of it.',
      client: { socketPortRange: '40000 40999' },
    },
    {
      name: 'odd-sized per-socket 40000-40998',
      about: '999 ports, both ends even: every one in reach from 6.8 (a 6.3-6.7 scan misses one).',
      client: { socketPortRange: '40000 40998' },
    },
  ],
});
