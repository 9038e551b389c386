import { atLeast, clientCeiling, connectCostExpectations, defineScenario } from 'tcp-limits-lab';

const range = (r: string) => ({ 'net.ipv4.ip_local_port_range': r });
/** One flood process, few connects in flight: the share of the range in use is exact when each connect() is timed. */
const TIMED = { connectCost: true, processes: 1, inflight: 16 } as const;

export default defineScenario({
  name: 'port-range',
  claim: 'One client IP holds exactly the usable ports of its range to one server port; then connect() fails with EADDRNOTAVAIL.',
  story: `Seeds 000 and 004 ran out of "ports" long before they ran out of anything else. The port a client's
connect() takes comes from net.ipv4.ip_local_port_range, picked by __inet_hash_connect(): it walks the
range from a per-destination starting point, ports of one parity first, then the other, skipping ports in
ip_local_reserved_ports and any port a bound socket already holds. When every port is taken for that
destination, connect() returns EADDRNOTAVAIL ("Cannot assign requested address"), after scanning the whole
range (so a client that keeps asking pays a full scan per failure).
The walk covers (high + 1 - low) rounded down to even offsets. With an even number of ports every port is
reachable; with an odd number each walk misses one port, which one depending on where it starts: the last
free port may be out of reach of the connect() that asks for it, so the count is one of two values.
The walk starts where the last one for that destination ended, so while free ports lie next to it a
connect() costs what it does on an empty range. At 50% every port of the first parity is taken and each
connect() walks that whole half before it finds one of the other: a step up in the cost of every call after
it (the last case times each connect() inside the client program, against the share of the range in use).
The 6.15 series ("tcp: scale connect() under pressure") made each port checked cheaper by taking no lock
(RCU lookups); upstream measured about 3x more connects per second on a crowded range with many threads
contending. One client process contends with nobody, so the lab predicts the same step before and after
6.15 (measured: 3x to 5x on 5.10, 6.1, 6.12, 7.2 and 7.3-rc alike). Under emulation (the kernel matrix's
VMs) only ratios within one run mean anything: each is a multiple of the same client's cost on an almost
empty range.`,
  seeds: ['000', '004'],
  server: { ports: [8080] },
  client: { connections: 'fill' },
  expect: [
    {
      claim: 'the client holds the usable ports of its range',
      subject: 'each client',
      metric: 'estab',
      predict: ({ client }) => clientCeiling(client!),
    },
    {
      claim: 'then connect() fails with EADDRNOTAVAIL',
      subject: 'each client',
      metric: 'errors.EADDRNOTAVAIL',
      predict: () => atLeast(1, 'the range is spent for this destination'),
    },
  ],
  cases: [
    {
      name: 'default range 32768-60999',
      about: "The kernel's default: 28,232 ports, less any one a listener inside the container holds.",
      client: { sysctls: range('32768 60999') },
      quick: { client: { sysctls: range('40000 41999') } },
    },
    {
      name: 'widest range 1024-65535',
      about: 'Everything above the privileged ports: 64,512.',
      client: { sysctls: range('1024 65535') },
      quick: { client: { sysctls: range('40000 42999') } },
    },
    { name: '1000 ports 40000-40999', about: 'A narrow range: exactly 1000.', client: { sysctls: range('40000 40999') } },
    { name: 'odd count, even ends 40000-40998', about: '999 ports: each walk reaches 998 of them.', client: { sysctls: range('40000 40998') } },
    { name: 'odd count, odd ends 40001-40999', about: '999 ports again, the other parity at the ends.', client: { sysctls: range('40001 40999') } },
    {
      name: 'reserved ports 40100-40199',
      about: 'ip_local_reserved_ports takes ports out of the range for connect(): 1000 - 100.',
      client: { sysctls: { ...range('40000 40999'), 'net.ipv4.ip_local_reserved_ports': '40100-40199' } },
    },
    {
      name: 'the cost of connect() as 40000-49999 fills',
      about:
        'Each connect() timed against the share of the range in use: flat, then a step at 50%, when every even port is taken (quick: 40000-43999).',
      client: { sysctls: range('40000 49999'), ...TIMED },
      quick: { client: { sysctls: range('40000 43999') } },
      expect: connectCostExpectations(),
    },
  ],
});
