/** `lab setup`: every runtime that has something to get ready (Docker: engine, base image, images) does it. */
import { registeredRuntimes } from '../../runtime/runtimes.ts';
import { EXIT } from '../exit-codes.ts';
import { projectRoot } from '../project.ts';

export async function setupCommand(): Promise<number> {
  const log = (line: string) => process.stdout.write(`lab: ${line}\n`);
  for (const runtime of registeredRuntimes()) {
    if (!runtime.setup) continue;
    const started = performance.now();
    const ready = await runtime.setup(projectRoot, log);
    process.stdout.write(`ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${ready}\n`);
  }
  return EXIT.pass;
}
