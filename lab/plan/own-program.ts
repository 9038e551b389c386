/** A scenario's own program (not the lab's), for the server or the clients. */
import { dirname, resolve } from 'node:path';

/** Its command, and its Dockerfile found relative to the scenario file. */
export function ownProgram(
  program: { command: string[]; dockerfile?: string | undefined },
  file: string,
): { command: string[]; dockerfile?: string } {
  return { command: program.command, ...(program.dockerfile && { dockerfile: resolve(dirname(file), program.dockerfile) }) };
}

/** Its argv, bounded like every flood. */
export function bounded(seconds: number, argv: string[]): string[] {
  // -k, not --kill-after: BusyBox's timeout (in the VMs) knows only the short form.
  return ['timeout', '-k', '5', String(seconds), ...argv];
}

/** A client program's argument with the server's endpoints put in for {targets}, {target} and {url}. */
export function substitute(arg: string, targets: readonly string[]): string {
  return arg.replaceAll('{targets}', targets.join(',')).replaceAll('{target}', targets[0]!).replaceAll('{url}', `http://${targets[0]}/`);
}
