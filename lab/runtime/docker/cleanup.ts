import type Docker from 'dockerode';
import { RUN_LABEL, runFilter } from './labels.ts';
import { removeContainer } from './host.ts';

/**
 * Removes containers, then networks, labelled with the run (any run when runId is undefined). A network
 * that still has endpoints (a container of a killed run, say) is emptied first.
 */
export async function removeByLabel(docker: Docker, runId: string | undefined, keep: (runId: string) => boolean = () => false): Promise<string[]> {
  const removed: string[] = [];
  const filters = JSON.stringify(runFilter(runId));
  const mine = (labels: Record<string, string> | undefined) => !keep(labels?.[RUN_LABEL] ?? '');
  const containers = (await docker.listContainers({ all: true, filters })).filter((c) => mine(c.Labels));
  await Promise.all(
    containers.map(async (c) => {
      await removeContainer(docker.getContainer(c.Id));
      removed.push(`container ${c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12)}`);
    }),
  );
  const networks = (await docker.listNetworks({ filters })).filter((n) => mine(n.Labels));
  for (const n of networks) {
    const network = docker.getNetwork(n.Id);
    const info = (await network.inspect().catch(() => undefined)) as { Containers?: Record<string, unknown> } | undefined;
    for (const endpoint of Object.keys(info?.Containers ?? {})) {
      await network.disconnect({ Container: endpoint, Force: true }).catch(ignoreGone);
    }
    await network.remove().catch(ignoreGone);
    removed.push(`network ${n.Name}`);
  }
  return removed;
}

function ignoreGone(error: { statusCode?: number }): void {
  if (error.statusCode === 404 || error.statusCode === 409) return;
  throw error;
}
