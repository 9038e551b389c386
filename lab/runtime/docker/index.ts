/** The default runtime: containers on a Docker engine (this machine's, or the one DOCKER_HOST names). */
import { LabError } from '../../errors.ts';
import { registerRuntime } from '../registry.ts';
import { removeByLabel } from './cleanup.ts';
import { hostConntrack } from './conntrack.ts';
import { DockerRuntime } from './docker-runtime.ts';
import { connectEngine, engineIsLocal } from './engine.ts';
import { newRunId } from '../../run-id.ts';

registerRuntime({
  name: 'docker',
  summary: 'containers on one internal bridge network of a Docker engine (the default)',
  kernel: { runs: 'host', whyNotOthers: "containers share this machine's kernel" },
  isDefault: true,
  create: ({ projectRoot }) => new DockerRuntime(projectRoot),
  removeLeftovers: async (runId, log) => {
    const reclaimed = engineIsLocal() ? await hostConntrack.reclaim(log) : [];
    try {
      return [...(await removeByLabel(await connectEngine(log), runId)), ...reclaimed];
    } catch (error) {
      if (!(error instanceof LabError)) throw error;
      log(`Docker skipped: ${error.message}`);
      return reclaimed;
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
