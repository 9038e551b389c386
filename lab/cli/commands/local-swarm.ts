/** `lab local-swarm up|down|status`: a Docker Swarm of several engines on this machine, to try multi-host runs. */
import { InputError } from '../../errors.ts';
import { MAX_LOCAL_NODES, localSwarmDown, localSwarmUp, readLocalSwarm } from '../../runtime/swarm/local-swarm.ts';
import { EXIT } from '../exit-codes.ts';

const ACTIONS = ['up', 'down', 'status'] as const;
const DEFAULT_NODES = 3;

export async function localSwarmCommand(action: string, flags: { nodes?: number }): Promise<number> {
  if (!(ACTIONS as readonly string[]).includes(action)) throw new InputError('action', undefined, `is one of ${ACTIONS.join(', ')} (got "${action}")`);
  const log = (line: string) => process.stdout.write(`lab: ${line}\n`);
  if (action === 'down') {
    await localSwarmDown(log);
    return EXIT.pass;
  }
  if (action === 'status') {
    const swarm = await readLocalSwarm();
    process.stdout.write(swarm ? `${swarm.nodes.map((n) => `${n.name} ${n.address} ${n.socket}`).join('\n')}\nmanager: DOCKER_HOST=${swarm.manager}\n` : 'no local swarm\n');
    return EXIT.pass;
  }
  const nodes = flags.nodes ?? DEFAULT_NODES;
  if (!Number.isInteger(nodes) || nodes < 2 || nodes > MAX_LOCAL_NODES) throw new InputError('--nodes', undefined, `is a whole number from 2 to ${MAX_LOCAL_NODES} (got ${nodes})`);
  const swarm = await localSwarmUp(nodes, log);
  process.stdout.write(`manager: DOCKER_HOST=${swarm.manager}\n`);
  return EXIT.pass;
}
