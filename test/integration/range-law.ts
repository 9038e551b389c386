/** The port-range law as a scenario, for the tests that check it on each runtime. */
import { defineScenario } from '../../lab/scenario/define.ts';
import { clientCeiling, serverHolds } from '../../lab/scenario/theory/ports.ts';

export const RANGE: [number, number] = [40000, 40999];

export const rangeLaw = defineScenario({
  name: 'range-law',
  claim: 'a client holds the usable ports of its range to one server port',
  server: { ports: [9000] },
  // Asks for three times the range, so the kernel, not the count, decides where it stops.
  client: { connections: 3000, sysctls: { 'net.ipv4.ip_local_port_range': `${RANGE[0]} ${RANGE[1]}` } },
  expect: [
    { claim: 'client holds its range', subject: 'each client', metric: 'estab', predict: ({ client }) => clientCeiling(client!) },
    { claim: 'server holds the sum', subject: 'server', metric: 'estab', predict: serverHolds },
  ],
  cases: [
    { name: 'one client', clients: 1 },
    { name: 'two clients', clients: 2 },
  ],
});
