/**
 * The expectations of a case that times connect() as its range fills (client.connectCost): the sparse cost,
 * then the cost at each occupancy point as a multiple of it, predicted per kernel by connectCostAt.
 */
import { connectCostAt } from './theory/connect-cost.ts';
import { hasSocketPortRange } from './theory/ports.ts';
import { atLeast, doesNotApply } from './theory/prediction.ts';
import type { Expectation, TheoryContext } from './types.ts';

const POINTS = [10, 50, 90, 99] as const;

export function connectCostExpectations(): Expectation[] {
  const sparse: Expectation = {
    claim: 'one connect() on a range less than half full takes this many µs (the median with 4-48% in use)',
    subject: 'each client',
    metric: 'connect.sparseUs',
    predict: ({ client, kernel }: TheoryContext) =>
      client!.socketPortRange && !hasSocketPortRange(kernel)
        ? doesNotApply(`Linux ${kernel.name} has no IP_LOCAL_PORT_RANGE`)
        : atLeast(0.1, 'measured, not predicted: the baseline the ratios divide by'),
  };
  return [
    sparse,
    ...POINTS.map((percent): Expectation => ({
      claim: `one connect() with ${percent}% of the ports in use, as a multiple of that`,
      subject: 'each client',
      metric: `connect.at${percent}`,
      predict: ({ client, kernel }: TheoryContext) => connectCostAt(client!, kernel, percent),
    })),
  ];
}
