/**
 * `lab local-swarm up|down|status`: several engines on this machine standing in for several machines, to try
 * multi-host runs: the local cluster of the runtime that offers one.
 */
import { EnvironmentError, InputError } from '../../errors.ts';
import { registeredRuntimes } from '../../runtime/runtimes.ts';
import { EXIT } from '../exit-codes.ts';

const ACTIONS = ['up', 'down', 'status'] as const;

export async function localSwarmCommand(action: string, flags: { nodes?: number }): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(action))
    throw new InputError('action', undefined, `is one of ${ACTIONS.join(', ')} (got "${action}")`);
  const cluster = registeredRuntimes().find((r) => r.localCluster)?.localCluster;
  if (!cluster) throw new EnvironmentError('no runtime here makes a local cluster');
  const log = (line: string) => process.stdout.write(`lab: ${line}\n`);
  if (action === 'down') {
    await cluster.down(log);
    return EXIT.pass;
  }
  if (action === 'status') {
    process.stdout.write(`${await cluster.status()}\n`);
    return EXIT.pass;
  }
  const { least, most, usual } = cluster.nodes;
  const nodes = flags.nodes ?? usual;
  if (!Number.isInteger(nodes) || nodes < least || nodes > most)
    throw new InputError('--nodes', undefined, `is a whole number from ${least} to ${most} (got ${nodes})`);
  process.stdout.write(`${await cluster.up(nodes, log)}\n`);
  return EXIT.pass;
}
