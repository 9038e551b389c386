import { atLeast, clientCeiling, defineScenario } from 'tcp-limits-lab';

const range = (r: string) => ({ 'net.ipv4.ip_local_port_range': r });

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
free port may be out of reach of the connect() that asks for it, so the count is one of two values.`,
  seeds: ['000', '004'],
  server: { ports: [8080] },
  client: { connections: 'fill' },
  expect: [
    { claim: 'the client holds the usable ports of its range', subject: 'each client', metric: 'estab', predict: ({ client }) => clientCeiling(client!) },
    { claim: 'then connect() fails with EADDRNOTAVAIL', subject: 'each client', metric: 'errors.EADDRNOTAVAIL', predict: () => atLeast(1, 'the range is spent for this destination') },
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
  ],
});
