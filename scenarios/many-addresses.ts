import { addressCeiling, clientCeiling, defineScenario, serverHolds, spentFailures, type SourceMode } from 'tcp-limits-lab';

const defaultRange = { 'net.ipv4.ip_local_port_range': '32768 60999' };
// --quick: the same laws on a 1000-port range, in seconds.
const quick = { client: { sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } } };
const addAddresses = { NET_ADMIN: "adds the client's second and further addresses inside it (ip addr add)" };
const addresses = (n: number, source?: SourceMode) => ({ addresses: n, ...(source && { source }), capabilities: addAddresses });

export default defineScenario({
  name: 'many-addresses',
  claim: 'A port range is per source address: each address a client binds to brings another range, over IPv4 and IPv6 alike.',
  story: `Past the 64k myth comes its cure: give the client more addresses. A connection is named by (client IP,
client port, server IP, server port), so every source address has the whole port range again, but only for
sockets that leave from it. Addresses the program never binds stay idle: without a bind the kernel takes the
route's source, one address per family, however many the interface has. bind(address, 0) picks the port
before any destination is known, so each address gets one range for all its destinations (then bind() fails
with EADDRINUSE); with IP_BIND_ADDRESS_NO_PORT connect() picks it, one range per address and destination
(then EADDRNOTAVAIL). IPv6 follows the same law, and net.ipv4.ip_local_port_range governs it too: IPv4 and
IPv6 share one table of bound ports per namespace. One client port can carry an IPv4 and an IPv6 connection
at once, but a bind() to the wildcard [::] covers IPv4 too (net.ipv6.bindv6only 0): both families then share
one range, unless bindv6only is 1. The lab counts each source address's connections in the client's kernel.`,
  seeds: ['002', '003'],
  server: { ports: [80] },
  client: { connections: 'fill', sysctls: defaultRange },
  expect: [
    {
      claim: 'the client holds one range per pool of ports',
      subject: 'each client',
      metric: 'estab',
      predict: ({ client }) => clientCeiling(client!),
    },
    {
      claim: 'each source address holds its own pools, an idle one none',
      subject: 'each address',
      metric: 'estab',
      predict: ({ client, address }) => addressCeiling(client!, address!),
    },
    {
      claim: 'a spent pool of connect() answers EADDRNOTAVAIL, once per pair',
      subject: 'each client',
      metric: 'errors.EADDRNOTAVAIL',
      predict: ({ client }) => spentFailures(client!, 'EADDRNOTAVAIL'),
    },
    {
      claim: 'a spent pool of bind() answers EADDRINUSE, once per pair',
      subject: 'each client',
      metric: 'errors.EADDRINUSE',
      predict: ({ client }) => spentFailures(client!, 'EADDRINUSE'),
    },
    { claim: 'the server holds them all', subject: 'server', metric: 'estab', predict: serverHolds },
  ],
  cases: [
    {
      name: 'four addresses, no bind',
      about: 'Three more addresses on the client, but connect() alone: the route leaves from the first, the others stay idle. One range.',
      client: addresses(4),
      quick,
    },
    {
      name: 'four addresses, IP_BIND_ADDRESS_NO_PORT',
      about:
        'Each socket bound to the next of the 4 addresses, the port left to connect(): one range per address and destination. 4 ranges to one server port.',
      client: addresses(4, 'nobindport'),
      quick,
    },
    {
      name: 'four addresses, bind(address, 0)',
      about:
        'Each socket bound to the next address with port 0: one range per address, whatever the destination. 4 ranges for 4 addresses x 2 ports, not 8.',
      server: { ports: [80, 443] },
      client: addresses(4, 'bind'),
      quick,
    },
    {
      name: 'IPv6, four addresses, IP_BIND_ADDRESS_NO_PORT',
      about: "The same over IPv6, in the run's own ULA /64: net.ipv4.ip_local_port_range decides IPv6 ports too. 4 ranges again.",
      family: 'ipv6',
      client: addresses(4, 'nobindport'),
      quick,
    },
    {
      name: 'both families, connect()',
      about: 'One client to one server port over IPv4 and IPv6 at once: every client port carries one connection of each family. Two ranges.',
      family: 'dual',
      quick,
    },
    {
      name: 'both families, bind(wildcard)',
      about: 'bind(0.0.0.0:0) and bind([::]:0) before connect(): [::] covers IPv4 too, so both families share one range.',
      family: 'dual',
      client: { bind: 'any' },
      quick,
    },
    {
      name: 'both families, bind(wildcard), bindv6only',
      about:
        "net.ipv6.bindv6only=1: [::] covers IPv6 alone, each family has its range again; and Docker's DNS listener on 127.0.0.11 no longer takes a port from IPv6.",
      family: 'dual',
      client: { bind: 'any', sysctls: { 'net.ipv6.bindv6only': 1 } },
      quick,
    },
  ],
});
