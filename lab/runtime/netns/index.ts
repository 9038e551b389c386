/** `--runtime netns`: plain network namespaces on this machine (root and iproute2, no engine). */
import { $ } from 'zx';
import { EnvironmentError } from '../../errors.ts';
import { buildLabPrograms } from '../programs.ts';
import { registerRuntime } from '../registry.ts';
import { LocalMachine } from './local-machine.ts';
import { NetnsRuntime, removeRunNamespaces } from './netns-runtime.ts';

registerRuntime({
  name: 'netns',
  summary: 'plain network namespaces on this machine (root and iproute2, no engine)',
  kernel: { runs: 'host', whyNotOthers: 'namespaces on this machine share its kernel' },
  create: ({ projectRoot }) =>
    new NetnsRuntime({
      name: 'netns',
      startMachine: async (log) => {
        if (process.getuid?.() !== 0)
          throw new EnvironmentError('the netns runtime needs root: it creates network namespaces', 'run the lab as root, or use the docker runtime');
        const ip = await $({ quiet: true, nothrow: true })`ip -V`;
        if (ip.exitCode !== 0) throw new EnvironmentError('the netns runtime needs iproute2 (the ip command)', 'install iproute2');
        return new LocalMachine(await buildLabPrograms(projectRoot, { static: false }, log));
      },
      engine: async () => `network namespaces on this machine (${(await $({ quiet: true })`ip -V`).stdout.trim()})`,
    }),
  // Only root can see (or have made) namespaces; nothing to find otherwise.
  removeLeftovers: async (runId, _log, keep) => (process.getuid?.() === 0 ? removeRunNamespaces(new LocalMachine('/nonexistent'), runId, keep) : []),
});
