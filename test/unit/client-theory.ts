/** A client as the theory knows it, for unit tests: 1000 ports (40000-40999), 1000 connections asked. */
import type { ClientTheory } from '../../lab/scenario/types.ts';

export const clientTheoryOf = (name: string, overrides: Partial<ClientTheory> = {}): ClientTheory => ({
  name,
  ip: name === 'client-1' ? '198.18.0.11' : '198.18.0.12',
  portRange: [40000, 40999],
  reservedPorts: [],
  boundPorts: [],
  destinations: 1,
  asked: 1000,
  nofile: 20000,
  processes: 1,
  bind: 'none',
  ...overrides,
});
