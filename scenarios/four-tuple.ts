import { atLeast, clientCeiling, defineScenario, serverHolds } from 'tcp-limits-lab';

const range = { 'net.ipv4.ip_local_port_range': '40000 40999' };
const addAddresses = { NET_ADMIN: 'adds the second and third server addresses inside the server (ip addr add)' };

export default defineScenario({
  name: 'four-tuple',
  claim: 'One client IP gets a whole port range per (server IP, server port): the ceiling is destinations x range.',
  story: `A connection is the four-tuple (client IP, client port, server IP, server port), and connect() only
needs the whole tuple to be unique. So a client port in use towards 198.18.x.2:80 is free again towards
198.18.x.2:443 or towards 198.18.x.3:80: the kernel keeps one port space per destination (seed 002). One
client with a 1000-port range holds 1000 connections per server port and per server IP, and then
EADDRNOTAVAIL for that destination only. The server here answers on three IPs (two added inside it, hence
NET_ADMIN) and two ports: six destinations, six thousand connections from one client IP.`,
  seeds: ['002'],
  server: { ports: [80, 443], addresses: 3, capabilities: addAddresses },
  client: { connections: 'fill', sysctls: range },
  expect: [
    { claim: 'the client holds one range per destination', subject: 'each client', metric: 'estab', predict: ({ client }) => clientCeiling(client!) },
    {
      claim: 'each destination ends with EADDRNOTAVAIL',
      subject: 'each client',
      metric: 'errors.EADDRNOTAVAIL',
      predict: ({ client }) => atLeast(client!.destinations, 'once per spent destination'),
    },
    { claim: 'the server holds them all', subject: 'server', metric: 'estab', predict: serverHolds },
  ],
  cases: [
    { name: 'one IP, one port', about: 'The baseline: one destination, one range.', server: { ports: [80], addresses: 1 } },
    { name: 'one IP, two ports', about: 'Port 443 beside 80: the same client ports again, a second range.', server: { addresses: 1 } },
    { name: 'three IPs, two ports', about: 'Six destinations: six ranges from one client IP.' },
  ],
});
