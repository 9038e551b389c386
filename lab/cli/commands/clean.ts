/**
 * `lab clean [--run <id>]`: removes what runs left behind, found by their marks, never guessed: Docker
 * objects by their lab.run label, namespaces by their lab-<run>- names, VMs by their pid files; and puts
 * back the host's nf_conntrack_max where a killed run left it raised.
 */
import { LabError } from '../../errors.ts';
import { hostConntrack } from '../../runtime/docker/conntrack.ts';
import { DockerRuntime } from '../../runtime/docker/docker-runtime.ts';
import { LocalMachine } from '../../runtime/netns/local-machine.ts';
import { removeRunNamespaces } from '../../runtime/netns/netns-runtime.ts';
import { removeVms } from '../../runtime/vm/vm-machine.ts';
import { EXIT } from '../exit-codes.ts';
import { projectRoot } from '../project.ts';

export async function cleanCommand(flags: { run?: string }): Promise<number> {
  const log = (line: string) => process.stderr.write(`lab: ${line}\n`);
  const removed: string[] = [];
  const docker = new DockerRuntime(projectRoot);
  try {
    await docker.connect(log);
    removed.push(...(await docker.removeRun(flags.run)));
  } catch (error) {
    if (!(error instanceof LabError)) throw error;
    log(`Docker skipped: ${error.message}`);
  }
  removed.push(...(await hostConntrack.reclaim(log)));
  removed.push(...(await removeVms(flags.run)));
  if (process.getuid?.() === 0) removed.push(...(await removeRunNamespaces(new LocalMachine('/nonexistent'), flags.run)));
  const scope = flags.run ? `run ${flags.run}` : 'any run';
  process.stdout.write(removed.length ? `removed (${scope}): ${removed.join(', ')}\n` : `nothing the lab made is left (${scope})\n`);
  return EXIT.pass;
}
