import { atLeast, between, clientCeiling, defineScenario, exactly } from 'tcp-limits-lab';

const range = { 'net.ipv4.ip_local_port_range': '40000 40999' };
const addAddresses = { NET_ADMIN: 'adds the second and third server addresses inside the server (ip addr add)' };
const ASKED = 3000;

export default defineScenario({
  name: 'bind-before-connect',
  claim: 'bind(0.0.0.0:0) before connect() makes every destination share one port range; IP_BIND_ADDRESS_NO_PORT restores one range per destination.',
  story: `Heroku's router (seed 002) bound its outgoing sockets to a source address before connecting. bind()
with port 0 must pick a port before the destination is known, so it takes one no other socket holds at
all: the whole machine shares one range, whatever the destinations, and bind() fails with EADDRINUSE when
it is spent. Heroku's fix, SO_REUSEADDR on those sockets, let bind() hand out ports already bound by other
SO_REUSEADDR sockets on their 2016 kernel; on the kernels measured here (5.10 to 6.18) it does not, unless
net.ipv4.ip_autobind_reuse=1 (5.9+), and then two sockets can pick the same port for the same destination:
connect() fails with EADDRNOTAVAIL on the clash and nothing retries. IP_BIND_ADDRESS_NO_PORT (4.2+) tells
bind() to leave the port to connect(), which picks it per destination: back to one range per destination.
Here: ${ASKED} connections asked over 3 server IPs x 2 ports from a 1000-port range.`,
  seeds: ['002'],
  server: { ports: [80, 443], addresses: 3, capabilities: addAddresses },
  // Like the seed's program: every one of the ${ASKED} attempts is made, whatever fails.
  client: { connections: ASKED, keepAsking: true, sysctls: range },
  cases: [
    {
      name: 'plain connect()',
      about: 'No bind: connect() picks the port per destination; 6 destinations x 1000 ports is room for all 3000.',
      client: { bind: 'none' },
      expect: [{ claim: 'every connection asked is held', subject: 'each client', metric: 'estab', predict: ({ client }) => clientCeiling(client!) }],
    },
    {
      name: 'bind(0.0.0.0:0) then connect()',
      about: 'bind() picks the port without the destination: one range (1000) for everything, then EADDRINUSE.',
      client: { bind: 'any' },
      expect: [
        { claim: 'one range in all', subject: 'each client', metric: 'estab', predict: ({ client }) => clientCeiling(client!) },
        {
          claim: 'every other bind() fails with EADDRINUSE',
          subject: 'each client',
          metric: 'errors.EADDRINUSE',
          predict: ({ client }) => exactly(ASKED - clientCeiling(client!).max, 'asked - one range'),
        },
      ],
    },
    {
      name: "SO_REUSEADDR (Heroku's fix)",
      about: 'On these kernels SO_REUSEADDR alone does not let bind(0) share ports: still one range.',
      client: { bind: 'reuseaddr' },
      expect: [
        {
          claim: 'still one range in all (kernel 5.10+; the fix worked on 2016 kernels)',
          subject: 'each client',
          metric: 'estab',
          predict: ({ client }) => clientCeiling(client!),
        },
        {
          claim: 'every other bind() fails with EADDRINUSE',
          subject: 'each client',
          metric: 'errors.EADDRINUSE',
          predict: ({ client }) => exactly(ASKED - clientCeiling(client!).max, 'asked - one range'),
        },
      ],
    },
    {
      name: 'SO_REUSEADDR and ip_autobind_reuse=1',
      about: 'bind(0) now shares ports, but blindly: some pairs clash on the same destination and connect() fails.',
      client: { bind: 'reuseaddr', sysctls: { ...range, 'net.ipv4.ip_autobind_reuse': 1 } },
      expect: [
        {
          claim: 'more than one range, fewer than asked',
          subject: 'each client',
          metric: 'estab',
          predict: () => between(1001, ASKED - 1, 'ports shared; 4-tuple clashes fail with no retry (measured here: about 1900)'),
        },
        {
          claim: 'the clashes fail in connect() with EADDRNOTAVAIL',
          subject: 'each client',
          metric: 'errors.EADDRNOTAVAIL',
          predict: () => atLeast(1),
        },
      ],
    },
    {
      name: 'IP_BIND_ADDRESS_NO_PORT',
      about: 'bind() leaves the port to connect(): one range per destination again, all 3000 held.',
      client: { bind: 'nobindport' },
      expect: [{ claim: 'every connection asked is held', subject: 'each client', metric: 'estab', predict: () => exactly(ASKED) }],
    },
  ],
});
