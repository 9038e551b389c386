/** Docker Swarm: the hosts as containers on the nodes of the swarm DOCKER_HOST manages (--swarm). */
import Docker from 'dockerode';
import { registerRuntime } from '../registry.ts';
import { removeByLabel } from '../docker/cleanup.ts';
import { localSwarm } from './local-swarm.ts';
import { EnvironmentError } from '../../errors.ts';
import { SwarmRuntime, networksGoneFromNodes, nodesLeftOut, swarmNodes } from './swarm-runtime.ts';

registerRuntime({
  name: 'swarm',
  summary: 'containers on the nodes of a Docker Swarm (DOCKER_HOST: a manager), on one internal attachable overlay',
  kernel: { runs: 'host', whyNotOthers: "a swarm's nodes run their own kernels" },
  create: ({ projectRoot }) => new SwarmRuntime(projectRoot),
  removeLeftovers: async (runId, log, keep) => {
    // Only where DOCKER_HOST is a swarm's manager: anywhere else there is no swarm of the lab's to clean.
    const manager = new Docker();
    const info = (await manager.info().catch(() => undefined)) as { Swarm?: { ControlAvailable?: boolean } } | undefined;
    if (!info?.Swarm?.ControlAvailable) return [];
    const again = `then lab clean${runId ? ` --run ${runId}` : ''}`;
    // Nodes whose leftovers cannot go now: down in the swarm, or listed ready but with an engine that does
    // not answer (the manager takes a while to notice one that died).
    const away: string[] = [];
    const nodes = await swarmNodes(manager, (out) => {
      const drained = out.filter((n) => n.why === 'drain');
      if (drained.length) log(`swarm: ${nodesLeftOut(drained)} not ready: what runs left there stays until it is back (then lab clean again)`);
      away.push(...out.filter((n) => n.why !== 'drain').map((n) => `${n.name} is ${n.why} in the swarm`));
    });
    const removedOn: Array<[string, string[]]> = [];
    for (const node of nodes) {
      const gone = await removeByLabel(node.engine, runId, keep, 'containers').catch(async (error: Error) => {
        if (await answers(node.engine)) log(`node ${node.name}: ${error.message}`);
        else away.push(`${node.name}'s engine does not answer`);
        return [] as string[];
      });
      if (gone.length) removedOn.push([node.name, gone]);
    }
    if (!away.length) {
      const removed = removedOn.flatMap(([name, gone]) => gone.map((g) => `${g} on ${name}`));
      removed.push(...(await removeByLabel(manager, runId, keep)));
      await networksGoneFromNodes(nodes, runId);
      return removed;
    }
    // The overlay stays while an absent node's containers are attached to it: it goes with them, later.
    const fromManager = await removeByLabel(manager, runId, keep).catch(() => [] as string[]);
    if (fromManager.length) removedOn.push(['the manager', fromManager]);
    for (const [name, gone] of removedOn) log(`removed on ${name}: ${gone.join(', ')}`);
    throw new EnvironmentError(away.map((why) => `${why}: its leftovers stay until it is back; ${again}`).join('; '));
  },
  localCluster: localSwarm,
});

function answers(engine: Docker): Promise<boolean> {
  return engine.ping().then(
    () => true,
    () => false,
  );
}
