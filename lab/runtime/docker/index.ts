/** The default runtime: containers on a Docker engine (this machine's, or the one DOCKER_HOST names). */
import { EnvironmentError, InputError, LabError } from '../../errors.ts';
import { registerRuntime } from '../registry.ts';
import { removeByLabel } from './cleanup.ts';
import { hostConntrack } from './conntrack.ts';
import { hostFileMax } from './file-max.ts';
import { DockerRuntime } from './docker-runtime.ts';
import { connectEngine, engineIsLocal } from './engine.ts';
import { newRunId } from '../../run-id.ts';

registerRuntime({
  name: 'docker',
  summary: 'containers on one internal bridge network of a Docker engine',
  kernel: { runs: 'host', whyNotOthers: "containers share this machine's kernel" },
  isDefault: true,
  create: ({ projectRoot }) => new DockerRuntime(projectRoot),
  removeLeftovers: async (runId, log, keep) => {
    // An empty id would match every run's label (lab clean checks ids; this is the last guard).
    if (runId === '') throw new InputError('--run', undefined, 'is empty: nothing was removed');
    const reclaimed = engineIsLocal() ? [...(await hostConntrack.reclaim(log)), ...(await hostFileMax.reclaim(log))] : [];
    let docker: Awaited<ReturnType<typeof connectEngine>>;
    try {
      docker = await connectEngine(log);
    } catch (error) {
      if (!(error instanceof LabError)) throw error;
      // An engine that is there but will not let us look may hold leftovers: say so (exit 3), never "nothing left".
      if (deniedLooking(error)) throw cannotLook(error.message, error.hint);
      // No engine at all: nothing of it can be left.
      log(`Docker skipped: ${error.message}`);
      return reclaimed;
    }
    // A swarm's manager: the swarm runtime removes the run's containers from every node first, then its
    // overlay and what else is here (the overlay cannot go while a node's container holds it).
    if (((await docker.info().catch(() => ({}))) as { Swarm?: { ControlAvailable?: boolean } }).Swarm?.ControlAvailable) return reclaimed;
    try {
      return [...(await removeByLabel(docker, runId, keep)), ...reclaimed];
    } catch (error) {
      if (deniedLooking(error)) throw cannotLook(`the engine refused: ${(error as Error).message}`);
      throw error;
    }
  },
  setup: async (projectRoot, log) => {
    const session = new DockerRuntime(projectRoot).open(`setup${newRunId()}`);
    try {
      await session.prepare(log);
      const env = await session.fingerprint();
      return `kernel ${env.kernel}, ${env.engine}, open files per process up to ${await session.nofileCeiling()}`;
    } finally {
      await session.close();
    }
  },
});

/**
 * Whether the engine is there but would not let this user look: the socket's permissions (connectEngine's
 * EnvironmentError says "permission denied"), or an engine that answers 401/403 to the listing.
 */
function deniedLooking(error: unknown): boolean {
  const e = error as { code?: string; statusCode?: number; message?: string };
  return e.code === 'EACCES' || e.code === 'EPERM' || e.statusCode === 401 || e.statusCode === 403 || /permission denied/i.test(e.message ?? '');
}

function cannotLook(why: string, hint?: string): EnvironmentError {
  return new EnvironmentError(`could not look for Docker leftovers (they may be there): ${why}`, hint);
}
