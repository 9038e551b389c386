import { defineScenario } from 'tcp-limits-lab';
import c1m from './c1m.ts';

// The c1m set-up at four sizes, to show how time and memory grow with the connections held.
const sizes = [10_000, 100_000, 300_000, 1_000_000];
const CLIENTS = 16;

export default defineScenario({
  ...c1m,
  name: 'c1m-growth',
  claim: 'Time and memory grow with the connections held: 10k, 100k, 300k and 1M on the c1m set-up.',
  story: `${c1m.story}\n\nThis scenario runs the same set-up at four sizes, without the minute of holding.`,
  cases: sizes.map((size) => ({
    name: `${size / 1000}k from ${CLIENTS} clients`,
    clients: CLIENTS,
    holdSeconds: 0,
    client: { connections: size / CLIENTS },
    quick: { client: { connections: Math.round(size / CLIENTS / 100), sysctls: { 'net.ipv4.ip_local_port_range': '40000 40999' } } },
  })),
});
