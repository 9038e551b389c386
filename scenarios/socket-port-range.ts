import { clientCeiling, connectCostExpectations, defineScenario, exactly, hasSocketPortRange } from 'tcp-limits-lab';

export default defineScenario({
  name: 'socket-port-range',
  claim:
    'A per-socket port range (IP_LOCAL_PORT_RANGE) bounds a socket to its own slice of the namespace range and reaches every port of it; kernels without it (before 6.3, 6.1.32 in the 6.1 series) refuse it with ENOPROTOOPT.',
  story: `A proxy that wants its own slice of ports used to need its own network namespace or bind() before
connect(). Linux 6.3 added the IP_LOCAL_PORT_RANGE socket option (Cloudflare's work), and the 6.1 stable
series took it in 6.1.32: setsockopt() before connect() narrows the range __inet_hash_connect() scans for
that socket, each end applying only where it lies inside the namespace's ip_local_port_range. From 6.8 an
odd-sized per-socket range is reachable to its last port (999 of 999), where the namespace's own odd-sized
range may lose one (998 of 999, see the port-range scenario); Debian's 6.1 searches it as it searches the
namespace's, over an even count, and gave 998 in one run of seven. Older kernels refuse the option with
ENOPROTOOPT.
Timed, the search shows what reaching every port does not: with the namespace's range the cost of a
connect() steps up at 50% (the port-range scenario's last case), one parity taken; with a per-socket range
over the same ports it stays flat on 6.8 and later, where the search steps over every port (upstream
207184853dbd, "tcp/dccp: change source port selection at connect() time"), and still steps up on Debian's
6.1, which did not take that change: x4.0 in 5 rounds of 5 there, none on 6.12 to 7.3 (lab matrix --rounds 5). Under emulation only the ratios within one run compare, and only when no other VM runs
beside it (lab matrix gives a timed scenario the machine to itself).
Run it across kernels with \`lab matrix scenarios/socket-port-range.ts --kernels 5.10,6.1,6.12,host\`.`,
  server: { ports: [8080] },
  client: { connections: 'fill' },
  expect: [
    {
      claim: 'the client holds the ports its sockets may use (none without the option)',
      subject: 'each client',
      metric: 'estab',
      predict: ({ client, kernel }) => clientCeiling(client!, kernel),
    },
    {
      claim: 'without the option every setsockopt(IP_LOCAL_PORT_RANGE) fails with ENOPROTOOPT',
      subject: 'each client',
      metric: 'errors.ENOPROTOOPT',
      predict: ({ client, kernel }) =>
        hasSocketPortRange(kernel)
          ? exactly(0, `${kernel.name} has the option`)
          : exactly(client!.asked, `${kernel.name}: no such option (6.3+, 6.1.32+)`),
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
      about: '999 ports, both ends even: every one in reach from 6.8 (the namespace range of the same size gives 998 or 999).',
      client: { socketPortRange: '40000 40998' },
    },
    {
      name: 'per-socket 39000-40499 across the namespace range 40000-40999',
      about: 'The low end lies outside the namespace range and is ignored: 40000-40499, 500 ports.',
      client: { socketPortRange: '39000 40499', sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } },
    },
    {
      name: 'the cost of connect() as a per-socket 40000-49999 fills',
      about:
        "The port-range scenario's timed case with the same ports as a per-socket range: no step at 50% on 6.8 and later (one step over every port), a step on 6.1.",
      client: {
        socketPortRange: '40000 49999',
        sysctls: { 'net.ipv4.ip_local_port_range': '40000 49999' },
        connectCost: true,
        processes: 1,
        inflight: 16,
      },
      quick: { client: { socketPortRange: '40000 43999', sysctls: { 'net.ipv4.ip_local_port_range': '40000 43999' } } },
      expect: connectCostExpectations(),
    },
  ],
});
