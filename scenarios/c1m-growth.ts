import { clientCeiling, defineScenario, serverHolds } from 'tcp-limits-lab';
import c1m, { PER_CLIENT } from './c1m.ts';

// The c1m set-up at six sizes, up to c2m's two million, to show how time and memory grow with the connections held.
const sizes = [10_000, 100_000, 300_000, 1_000_000, 1_500_000, 2_000_000];
const CLIENTS = 16;
// No client IP past c1m's 62,500 (a quarter of its four destinations' ranges): past a million, more clients.
const clientsFor = (size: number) => Math.max(CLIENTS, Math.ceil(size / PER_CLIENT));
// No minute of holding here: one Ping round on every connection instead of c1m's connscale hold.
const { holdPing: _hold, ...client } = c1m.client!;

export default defineScenario({
  ...c1m,
  name: 'c1m-growth',
  claim: 'Time and memory grow with the connections held: 10k, 100k, 300k, 1M, 1.5M and 2M on the c1m set-up.',
  story: `${c1m.story}\n\nThis scenario runs the same set-up at six sizes, without the minute of holding: one Ping round on every connection. Past a million it takes more client IPs (24, then 32, as c2m), none holding more than ${PER_CLIENT.toLocaleString('en-US')}; the sizes past 1.2 million need more open files than fs.file-max allows here (--raise-file-max), and with conntrack kept more memory than the machine has (--notrack).`,
  client: { ...client, ping: true },
  expect: [
    {
      claim: 'each client holds every connection it asked for',
      subject: 'each client',
      metric: 'estab',
      predict: ({ client }) => clientCeiling(client!),
    },
    {
      claim: 'every held connection answers a Ping with a Pong',
      subject: 'each client',
      metric: 'pongs',
      predict: ({ client }) => clientCeiling(client!),
    },
    { claim: 'the server holds them all at once, on one IP', subject: 'server', metric: 'estab', predict: serverHolds },
  ],
  cases: sizes.map((size) => ({
    name: `${size / 1000}k from ${clientsFor(size)} clients`,
    clients: clientsFor(size),
    holdSeconds: 0,
    client: { connections: size / clientsFor(size) },
    quick: { client: { connections: Math.round(size / clientsFor(size) / 100), sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } } },
  })),
});
