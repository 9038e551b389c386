/**
 * `lab clean [--run <id>]`: removes what runs left behind, found by their marks, never guessed: every
 * registered runtime removes its own (Docker objects by their lab.run label, namespaces by their names,
 * VMs by their pid files, a conntrack ceiling a killed run left raised).
 */
import { registeredRuntimes } from '../../runtime/runtimes.ts';
import { EXIT } from '../exit-codes.ts';

export async function cleanCommand(flags: { run?: string }): Promise<number> {
  const log = (line: string) => process.stderr.write(`lab: ${line}\n`);
  const removed: string[] = [];
  for (const runtime of registeredRuntimes()) removed.push(...(await runtime.removeLeftovers(flags.run, log)));
  const scope = flags.run ? `run ${flags.run}` : 'any run';
  process.stdout.write(removed.length ? `removed (${scope}): ${removed.join(', ')}\n` : `nothing the lab made is left (${scope})\n`);
  return EXIT.pass;
}
