/** Docker Swarm: the hosts as containers on the nodes of the swarm DOCKER_HOST manages (--swarm). */
import Docker from 'dockerode';
import { registerRuntime } from '../registry.ts';
import { removeByLabel } from '../docker/cleanup.ts';
import { localSwarm } from './local-swarm.ts';
import { SwarmRuntime, networksGoneFromNodes, swarmNodes } from './swarm-runtime.ts';

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
    const removed: string[] = [];
    const nodes = await swarmNodes(manager, (out) =>
      log(`swarm: ${out} not ready: what runs left there stays until it is back (then lab clean again)`),
    );
    for (const node of nodes) {
      const gone = await removeByLabel(node.engine, runId, keep, 'containers').catch((error: Error) => {
        log(`node ${node.name}: ${error.message}`);
        return [] as string[];
      });
      removed.push(...gone.map((g) => `${g} on ${node.name}`));
    }
    removed.push(...(await removeByLabel(manager, runId, keep)));
    await networksGoneFromNodes(nodes, runId);
    return removed;
  },
  localCluster: localSwarm,
});
