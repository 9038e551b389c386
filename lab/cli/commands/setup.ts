/** `lab setup`: gets the engine, the base image and the lab's images ready, and says what it has. */
import { DockerRuntime } from '../../runtime/docker/docker-runtime.ts';
import { EXIT } from '../exit-codes.ts';
import { projectRoot } from '../project.ts';

export async function setupCommand(): Promise<number> {
  const runtime = new DockerRuntime(projectRoot);
  const started = performance.now();
  await runtime.prepare((line) => process.stdout.write(`lab: ${line}\n`));
  const env = await runtime.fingerprint();
  const nofile = await runtime.nofileCeiling();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`ready in ${seconds} s: kernel ${env.kernel}, ${env.engine}, open files per process up to ${nofile}\n`);
  return EXIT.pass;
}
