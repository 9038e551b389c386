/** `lab clean [--run <id>]`: removes what runs left behind, found by their label, never by name. */
import { DockerRuntime } from '../../runtime/docker/docker-runtime.ts';
import { EXIT } from '../exit-codes.ts';
import { projectRoot } from '../project.ts';

export async function cleanCommand(flags: { run?: string }): Promise<number> {
  const runtime = new DockerRuntime(projectRoot);
  await runtime.connect((line) => process.stderr.write(`lab: ${line}\n`));
  const removed = await runtime.removeRun(flags.run);
  const scope = flags.run ? `run ${flags.run}` : 'any run';
  process.stdout.write(removed.length ? `removed (${scope}): ${removed.join(', ')}\n` : `nothing labelled lab.run left (${scope})\n`);
  return EXIT.pass;
}
