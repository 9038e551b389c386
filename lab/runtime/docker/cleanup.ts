import type Docker from 'dockerode';
import { sleep } from '../../abort.ts';
import { RuntimeFailure } from '../../errors.ts';
import { RUN_LABEL, runFilter } from './labels.ts';
import { removeContainer } from './host.ts';

/**
 * Removes containers, then networks, labelled with the run (any run when runId is undefined). A network
 * that still has endpoints (a container of a killed run, say) is emptied first. What could not be removed
 * is an error naming it: never reported as removed.
 */
export async function removeByLabel(
  docker: Docker,
  runId: string | undefined,
  keep: (runId: string) => boolean = () => false,
  /** Containers only: a swarm's overlay goes from its manager once every node's containers are gone. */
  only?: 'containers',
): Promise<string[]> {
  const removed: string[] = [];
  const failed: string[] = [];
  const filters = JSON.stringify(runFilter(runId));
  const mine = (labels: Record<string, string> | undefined) => !keep(labels?.[RUN_LABEL] ?? '');
  const containers = (await docker.listContainers({ all: true, filters })).filter((c) => mine(c.Labels));
  await Promise.all(
    containers.map(async (c) => {
      const name = `container ${c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12)}`;
      await removeContainer(docker.getContainer(c.Id)).then(
        () => removed.push(name),
        (error: Error) => failed.push(`${name} (${firstLine(error)})`),
      );
    }),
  );
  const networks = only === 'containers' ? [] : (await docker.listNetworks({ filters })).filter((n) => mine(n.Labels));
  for (const n of networks) {
    await removeNetwork(docker.getNetwork(n.Id)).then(
      () => removed.push(`network ${n.Name}`),
      (error: Error) => failed.push(`network ${n.Name} (${firstLine(error)})`),
    );
  }
  if (failed.length) {
    throw new RuntimeFailure(`could not remove ${failed.join(', ')}`, `\`lab clean${runId ? ` --run ${runId}` : ''}\` removes what is left`);
  }
  return removed;
}

/** How long a network's removal is retried while its endpoints are let go. */
const NETWORK_REMOVE_SECONDS = 60;
const NETWORK_REMOVE_PAUSE_MAX_MS = 5000;

/**
 * A container the engine has just removed can still hold its endpoint on the network for a while (its
 * namespace, with up to a million sockets, is still being torn down: c1m's took over 15 s): the engine then
 * refuses to remove the network (403, active endpoints). Empty it and try again, with growing pauses, for up
 * to NETWORK_REMOVE_SECONDS.
 */
async function removeNetwork(network: Docker.Network): Promise<void> {
  const until = Date.now() + NETWORK_REMOVE_SECONDS * 1000;
  for (let attempt = 1; ; attempt++) {
    let endpoints = 0;
    try {
      const info = (await network.inspect()) as { Containers?: Record<string, unknown> };
      const containers = Object.keys(info.Containers ?? {});
      endpoints = containers.length;
      for (const endpoint of containers) {
        await network.disconnect({ Container: endpoint, Force: true }).catch(ignoreGone);
      }
      await network.remove();
      return;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return;
      if (Date.now() >= until) throw endpoints === 0 && /active endpoints/.test(String(error)) ? staleEndpoints(error as Error) : error;
      await sleep(Math.min(500 * attempt, NETWORK_REMOVE_PAUSE_MAX_MS));
    }
  }
}

/**
 * No container on it, and still "active endpoints" a minute on: the engine's count of the network's endpoints
 * is stale (moby #42119, seen here once after c1m's million). Only a restart of dockerd releases it.
 */
function staleEndpoints(error: Error): Error {
  return new Error(
    `${firstLine(error).trim()}, though no container is on it: the engine's endpoint count is stale (moby #42119); restarting dockerd releases it`,
  );
}

function ignoreGone(error: { statusCode?: number }): void {
  if (error.statusCode === 404) return;
  throw error;
}

function firstLine(error: Error): string {
  return (error.message ?? String(error)).split('\n')[0]!;
}
