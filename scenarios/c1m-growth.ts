import { clientCeiling, defineScenario, serverHolds } from 'tcp-limits-lab';
import c1m from './c1m.ts';

// The c1m set-up at four sizes, to show how time and memory grow with the connections held.
const sizes = [10_000, 100_000, 300_000, 1_000_000];
const CLIENTS = 16;
// No minute of holding here: one Ping round on every connection instead of c1m's connscale hold.
const { holdPing: _hold, ...client } = c1m.client!;

export default defineScenario({
  ...c1m,
  name: 'c1m-growth',
  claim: 'Time and memory grow with the connections held: 10k, 100k, 300k and 1M on the c1m set-up.',
  story: `${c1m.story}\n\nThis scenario runs the same set-up at four sizes, without the minute of holding: one Ping round on every connection.`,
  client: { ...client, ping: true },
  expect: [
    { claim: 'each client holds every connection it asked for', subject: 'each client', metric: 'estab', predict: ({ client }) => clientCeiling(client!) },
    { claim: 'every held connection answers a Ping with a Pong', subject: 'each client', metric: 'pongs', predict: ({ client }) => clientCeiling(client!) },
    { claim: 'the server holds them all at once, on one IP', subject: 'server', metric: 'estab', predict: serverHolds },
  ],
  cases: sizes.map((size) => ({
    name: `${size / 1000}k from ${CLIENTS} clients`,
    clients: CLIENTS,
    holdSeconds: 0,
    client: { connections: size / CLIENTS },
    quick: { client: { connections: Math.round(size / CLIENTS / 100), sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } } },
  })),
});
